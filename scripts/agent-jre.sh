#!/usr/bin/env bash
# Builds the trimmed Java runtime the node agent runs on (jlink: the modules the agent uses) into
# OUT. One list for every place that ships the agent: the image rootfs and the GPU machine carry.
# Usage: scripts/agent-jre.sh OUT
set -euo pipefail
out=${1:?usage: agent-jre.sh OUT}
rm -rf "$out"
jlink --add-modules java.base,java.logging,java.management,java.naming,java.net.http,java.xml,java.sql,jdk.unsupported,jdk.crypto.ec,java.security.jgss,jdk.zipfs,java.instrument,jdk.management,java.transaction.xa,java.compiler,jdk.naming.dns,java.scripting,java.rmi \
  --strip-debug --no-header-files --no-man-pages --output "$out" >&2
