#!/usr/bin/env bash
# `touchpass --version`, `touchpassd --version` and `touchpass-web --version` print the
# project's version (CMake's project(VERSION)), and exit 0.
#   check-version.sh TOUCHPASS TOUCHPASSD TOUCHPASS_WEB VERSION
set -euo pipefail
touchpass=$1
touchpassd=$2
touchpass_web=$3
version=$4
fail=0
for check in "$touchpass:touchpass" "$touchpassd:touchpassd" "$touchpass_web:touchpass-web"; do
  program=${check%:*}
  name=${check##*:}
  out=$("$program" --version) || { echo "FAIL: $name --version exited with $?" >&2; fail=1; }
  if [ "$out" != "$name $version" ]; then
    echo "FAIL: $name --version printed \"$out\", expected \"$name $version\"" >&2
    fail=1
  fi
done
[ "$fail" -eq 0 ] && echo "touchpass, touchpassd and touchpass-web $version"
exit "$fail"
