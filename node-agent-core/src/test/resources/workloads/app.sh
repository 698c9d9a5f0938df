#!/bin/sh
# Test workload for container restores: a counter kept only in shell memory, printed to stdout and
# appended to the /data volume, plus an httpd child holding a TCP listener.
ip link set lo up 2>/dev/null
httpd -f -p 127.0.0.1:8080 -h /www &
i=0
while true; do
  i=$((i+1))
  echo "tick $i pid=$$"
  echo "tick $i" >> /data/ticks
  sleep 0.2
done
