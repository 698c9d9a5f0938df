#!/usr/bin/env bash
# Regenerates crds/ and the chart's copy from the Java API classes.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -ntp -q -pl api test -Dtest=CrdsUpToDateTest -Dwarmstart.updateCrds=true -Dspotless.check.skip=true
git status --short crds helm/warmstart/crds
