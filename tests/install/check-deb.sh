#!/usr/bin/env bash
# `cpack -G DEB` builds a package that holds the installed layout, depends on the libraries
# the programs link (dpkg-shlibdeps), marks the configuration as a conffile and carries the
# maintainer scripts.
#   check-deb.sh BUILD_DIR WORK_DIR
set -euo pipefail
build=$1
work=$2
rm -rf "$work" && mkdir -p "$work"
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log" >&2; echo "FAIL: cpack -G DEB failed" >&2; exit 1; }
deb=$(ls "$work"/*.deb)
fail=0
problem() { echo "FAIL: $*" >&2; fail=1; }

dpkg-deb --info "$deb" >"$work/info"
depends=$(sed -n 's/^ Depends: //p' "$work/info")
echo "Depends: $depends"
needed=$(readelf -d "$build/src/daemon/touchpassd" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p')
for pair in libfido2.so.1:libfido2-1 libykpers-1.so.1:libykpers-1-1 libsqlite3.so.0:libsqlite3-0 \
            libcrypto.so.3:libssl3 libcbor.so.0.8:libcbor0.8; do
  soname=${pair%%:*}
  package=${pair##*:}
  if grep -qx "$soname" <<<"$needed"; then
    grep -q "\b$package\b" <<<"$depends" || problem "touchpassd links $soname but Depends lacks $package"
  fi
done
grep -q 'libfido2-1' <<<"$depends" || problem "Depends lacks libfido2-1"
grep -q 'systemd' <<<"$depends" || problem "Depends lacks systemd"

dpkg-deb --contents "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$work/contents"
for path in /usr/sbin/touchpassd /usr/bin/touchpass /usr/bin/touchpass-virtual-token \
            /usr/lib/systemd/system/touchpassd.service /usr/lib/systemd/system/touchpassd.socket \
            /usr/lib/udev/rules.d/70-touchpass.rules /usr/lib/sysusers.d/touchpass.conf \
            /usr/lib/tmpfiles.d/touchpass.conf /etc/touchpass/touchpassd.conf \
            /usr/share/man/man1/touchpass.1 /usr/share/man/man8/touchpassd.8 \
            /usr/share/man/man5/touchpassd.conf.5 /usr/share/bash-completion/completions/touchpass; do
  grep -qx "$path" "$work/contents" || problem "the package lacks $path"
done

mkdir -p "$work/control"
dpkg-deb --control "$deb" "$work/control"
grep -qx /etc/touchpass/touchpassd.conf "$work/control/conffiles" ||
  problem "/etc/touchpass/touchpassd.conf is not a conffile"
for script in postinst prerm postrm; do
  [ -x "$work/control/$script" ] || problem "the package has no executable $script"
done
[ "$fail" -eq 0 ] && echo "built $(basename "$deb"): $(wc -l <"$work/contents") paths"
exit "$fail"
