#!/usr/bin/env bash
# touchpassd.service's sandbox: `systemd-analyze security --offline` must rate its exposure at
# 2.0 or less (0 = fully sandboxed, 10 = nothing restricted).
#   check-exposure.sh SYSTEMD_SOURCE_DIR WORK_DIR
set -euo pipefail
source_dir=$1
work=$2
rm -rf "$work" && mkdir -p "$work"
sed 's|@TOUCHPASSD@|/usr/sbin/touchpassd|' "$source_dir/touchpassd.service.in" >"$work/touchpassd.service"
cp "$source_dir/touchpassd.socket" "$work/"
cd "$work"
status=0
report=$(systemd-analyze security --offline=true --threshold=20 "$work/touchpassd.service" 2>&1) ||
  status=$?
echo "$report" | grep -v '^✓' || true
level=$(echo "$report" | sed -n 's/.*Overall exposure level for touchpassd.service: \([0-9.]*\).*/\1/p')
if [ -z "$level" ]; then
  echo "FAIL: systemd-analyze printed no exposure level" >&2
  exit 1
fi
echo "touchpassd.service exposure: $level (limit 2.0)"
if [ "$status" -ne 0 ]; then
  echo "FAIL: the exposure is above 2.0: tighten src/daemon/systemd/touchpassd.service.in" >&2
  exit 1
fi
