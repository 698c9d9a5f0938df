#!/usr/bin/env bash
# The project's test command: installs the project-local CRIU (idempotent), then builds every module
# and runs all tests (unit, real-CRIU integration, native plugin, Helm) with Maven.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-criu.sh
exec mvn -B -ntp verify "$@"
