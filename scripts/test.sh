#!/usr/bin/env bash
# The project's test command: installs the project-local CRIU (idempotent), then builds every module
# and runs all tests (unit, real-CRIU integration, native plugin, Helm) with Maven.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-criu.sh
rc=0
mvn -B -ntp verify "$@" || rc=$?
# What ran and what was skipped, last, where a reader of CI's tail sees it.
echo "== CPU AMX flags: $(grep -o 'amx_[a-z0-9]*' /proc/cpuinfo | sort -u | tr '\n' ' ')"
if [ -f native-plugin/build/amx-test.log ]; then
  echo "== CRIU AMX test: $(grep -E '^AMX test:|^(OK|FAILED)' native-plugin/build/amx-test.log | tr '\n' ' ')"
fi
exit "$rc"
