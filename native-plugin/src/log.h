/* Logging through CRIU's own log (print_on_level is exported by the criu binary). */
#ifndef WARMSTART_LOG_H
#define WARMSTART_LOG_H

#define LOG_PREFIX "warmstart-cuda: "

enum { WS_LOG_MSG = 0, WS_LOG_ERROR = 1, WS_LOG_WARN = 2, WS_LOG_INFO = 3, WS_LOG_DEBUG = 4 };

extern void print_on_level(unsigned int loglevel, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

#define ws_err(fmt, ...) print_on_level(WS_LOG_ERROR, LOG_PREFIX fmt, ##__VA_ARGS__)
#define ws_warn(fmt, ...) print_on_level(WS_LOG_WARN, LOG_PREFIX fmt, ##__VA_ARGS__)
#define ws_info(fmt, ...) print_on_level(WS_LOG_INFO, LOG_PREFIX fmt, ##__VA_ARGS__)
#define ws_debug(fmt, ...) print_on_level(WS_LOG_DEBUG, LOG_PREFIX fmt, ##__VA_ARGS__)

#endif
