#!/usr/bin/env bash
# A service's sandbox: `systemd-analyze security --offline` must rate its exposure at 2.0 or
# less (0 = fully sandboxed, 10 = nothing restricted).
#   check-exposure.sh UNIT_TEMPLATE PROGRAM WORK_DIR [OTHER_UNIT_FILE...]
# UNIT_TEMPLATE is a NAME.service.in whose @…@ placeholder becomes PROGRAM (the installed path);
# the other unit files (a socket unit it requires) are copied beside it.
set -euo pipefail
template=$1
program=$2
work=$3
shift 3
unit=$(basename "$template" .in)
rm -rf "$work" && mkdir -p "$work"
sed "s|@[A-Z_]*@|$program|g" "$template" >"$work/$unit"
for other in "$@"; do cp "$other" "$work/"; done
cd "$work"
status=0
report=$(systemd-analyze security --offline=true --threshold=20 "$work/$unit" 2>&1) ||
  status=$?
echo "$report" | grep -v '^✓' || true
level=$(echo "$report" | sed -n "s/.*Overall exposure level for $unit: \([0-9.]*\).*/\1/p")
if [ -z "$level" ]; then
  echo "FAIL: systemd-analyze printed no exposure level" >&2
  exit 1
fi
echo "$unit exposure: $level (limit 2.0)"
if [ "$status" -ne 0 ]; then
  echo "FAIL: the exposure is above 2.0: tighten $template" >&2
  exit 1
fi
