/* The host unit tests' one assertion: reports a failed condition and counts it, then goes on. */
#ifndef WS_TEST_CHECK_H
#define WS_TEST_CHECK_H

#include <stdio.h>

static int failures;
#define CHECK(cond)                                                           \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			failures++;                                           \
		}                                                             \
	} while (0)

#endif
