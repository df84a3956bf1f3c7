#!/usr/bin/env bash
# `cpack -G DEB` builds three packages: touchpass (the daemon, the CLI, the PAM module and the
# system integration), touchpass-web (the HTTPS gateway, for servers that want it) and
# touchpass-virtual-token (the development device, kept out of the production package). They hold the installed layout, depend on the libraries the programs
# link (dpkg-shlibdeps), mark the configuration as a conffile, carry the maintainer scripts, a
# machine-readable copyright file and a changelog whose version is the package's, and lintian
# finds no error in them. As root, and when touchpass is not installed already, both are
# installed, reinstalled, removed and purged: dpkg warns about nothing, the socket and the
# service are enabled on installation, and purging leaves nothing behind (the system user and groups stay,
# as Debian wants; the test removes them again when it created them).
# The environment (set by tests/install/CMakeLists.txt): VERSION REVISION PAM_DIR (empty: no
# PAM module built).
#   check-deb.sh BUILD_DIR WORK_DIR
set -euo pipefail
build=$1
work=$2
rm -rf "$work" && mkdir -p "$work"
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log" >&2; echo "FAIL: cpack -G DEB failed" >&2; exit 1; }
arch=$(dpkg --print-architecture)
deb=$work/touchpass_${VERSION}-${REVISION}_${arch}.deb
vdeb=$work/touchpass-virtual-token_${VERSION}-${REVISION}_${arch}.deb
wdeb=$work/touchpass-web_${VERSION}-${REVISION}_${arch}.deb
for file in "$deb" "$vdeb" "$wdeb"; do
  [ -f "$file" ] || { ls "$work" >&2; echo "FAIL: cpack did not build $(basename "$file")" >&2; exit 1; }
done
fail=0
problem() { echo "FAIL: $*" >&2; fail=1; }

# ---- The control files.
field() { dpkg-deb --field "$1" "$2"; }
depends=$(field "$deb" Depends)
echo "touchpass Depends: $depends"
needed=$(readelf -d "$build/src/daemon/touchpassd" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p')
for pair in libfido2.so.1:libfido2-1 libykpers-1.so.1:libykpers-1-1 libsqlite3.so.0:libsqlite3-0 \
            libcrypto.so.3:libssl3 libcbor.so.0.8:libcbor0.8 libpq.so.5:libpq5; do
  soname=${pair%%:*}
  package=${pair##*:}
  if grep -qx "$soname" <<<"$needed"; then
    grep -q "\b$package\b" <<<"$depends" || problem "touchpassd links $soname but Depends lacks $package"
  fi
done
for package in libfido2-1 systemd init-system-helpers libcurl4; do
  grep -q "\b$package\b" <<<"$depends" || problem "touchpass: Depends lacks $package"
done
[ "$(field "$deb" Recommends)" = udev ] || problem "touchpass does not recommend udev"
[ "$(field "$deb" Section)" = admin ] || problem "touchpass is not in the section admin"
[ "$(field "$vdeb" Section)" = devel ] || problem "touchpass-virtual-token is not in the section devel"
[ "$(field "$wdeb" Section)" = admin ] || problem "touchpass-web is not in the section admin"
wdepends=$(field "$wdeb" Depends)
echo "touchpass-web Depends: $wdepends"
for package in libmicrohttpd12 libxml2 systemd init-system-helpers; do
  grep -q "\b$package\b" <<<"$wdepends" || problem "touchpass-web: Depends lacks $package"
done
for file in "$deb" "$vdeb" "$wdeb"; do
  [ "$(field "$file" Version)" = "$VERSION-$REVISION" ] ||
    problem "$(basename "$file") has the version $(field "$file" Version), not $VERSION-$REVISION"
  [ "$(field "$file" Priority)" = optional ] || problem "$(basename "$file") is not optional"
done
grep -q "\blibcbor" <<<"$(field "$vdeb" Depends)" ||
  problem "touchpass-virtual-token does not depend on the libraries it links"

mkdir -p "$work/control"
dpkg-deb --control "$deb" "$work/control"
for conffile in /etc/touchpass/touchpassd.conf /etc/dovecot/conf.d/auth-touchpass.conf.ext; do
  grep -qx "$conffile" "$work/control/conffiles" || problem "$conffile is not a conffile"
done
for script in postinst prerm postrm; do
  [ -x "$work/control/$script" ] || problem "the package has no executable $script"
done
mkdir -p "$work/wcontrol"
dpkg-deb --control "$wdeb" "$work/wcontrol"
grep -qx /etc/touchpass/web.conf "$work/wcontrol/conffiles" ||
  problem "/etc/touchpass/web.conf is not a conffile"
for script in postinst prerm postrm; do
  [ -x "$work/wcontrol/$script" ] || problem "touchpass-web has no executable $script"
done

# ---- The files.
contents() { dpkg-deb --contents "$1" | awk '$1 !~ /^d/ {print $6}' | sed 's|^\./|/|'; }
contents "$deb" >"$work/contents"
contents "$vdeb" >"$work/vcontents"
contents "$wdeb" >"$work/wcontents"
expected=(/usr/sbin/touchpassd /usr/bin/touchpass
  /usr/lib/systemd/system/touchpassd.service /usr/lib/systemd/system/touchpassd.socket
  /usr/lib/udev/rules.d/70-touchpass.rules /usr/lib/sysusers.d/touchpass.conf
  /usr/lib/tmpfiles.d/touchpass.conf /etc/touchpass/touchpassd.conf
  /usr/share/man/man1/touchpass.1.gz /usr/share/man/man8/touchpassd.8.gz
  /usr/share/man/man5/touchpassd.conf.5.gz /usr/share/bash-completion/completions/touchpass
  /usr/share/doc/touchpass/copyright /usr/share/doc/touchpass/changelog.Debian.gz
  /usr/share/doc/touchpass/examples/postgresql-roles.sql
  /usr/share/doc/touchpass/examples/touchpassd-postgresql.conf
  /usr/share/touchpass/pam.d/imap /usr/share/touchpass/pam.d/pop3 /usr/share/touchpass/pam.d/smtp
  /etc/dovecot/conf.d/auth-touchpass.conf.ext)
if [ -n "${PAM_DIR:-}" ]; then
  expected+=("$PAM_DIR/pam_touchpass.so" /usr/share/man/man8/pam_touchpass.8.gz)
  multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
  grep -qx "/lib/$multiarch/security/pam_touchpass.so" "$work/contents" ||
    problem "pam_touchpass.so is not in Debian's PAM module directory /lib/$multiarch/security"
fi
for path in "${expected[@]}"; do
  grep -qx "$path" "$work/contents" || problem "touchpass lacks $path"
done
extra=$(grep -vxF -f <(printf '%s\n' "${expected[@]}") "$work/contents" || true)
[ -z "$extra" ] || problem "touchpass holds more than expected: $(tr '\n' ' ' <<<"$extra")"
vexpected=(/usr/bin/touchpass-virtual-token /usr/share/man/man1/touchpass-virtual-token.1.gz
  /usr/share/doc/touchpass-virtual-token/copyright
  /usr/share/doc/touchpass-virtual-token/changelog.Debian.gz)
[ "$(sort "$work/vcontents")" = "$(printf '%s\n' "${vexpected[@]}" | sort)" ] ||
  problem "touchpass-virtual-token holds $(tr '\n' ' ' <"$work/vcontents")but ${vexpected[*]} expected"

wexpected=(/usr/sbin/touchpass-web /usr/lib/systemd/system/touchpass-web.service
  /usr/lib/sysusers.d/touchpass-web.conf /etc/touchpass/web.conf
  /usr/share/touchpass/web/index.html /usr/share/touchpass/web/app.css
  /usr/share/touchpass/web/app.js /usr/share/touchpass/web/api.js
  /usr/share/touchpass/web/webauthn.js /usr/share/touchpass/web/cbor.js
  /usr/share/touchpass/web/favicon.svg /usr/share/touchpass/web/setup.html
  /usr/share/touchpass/web/setup.js /usr/share/touchpass/web/qr.js
  /usr/share/touchpass/web/page.js /usr/share/touchpass/web/password_panel.js
  /usr/share/man/man8/touchpass-web.8.gz
  /usr/share/doc/touchpass-web/copyright /usr/share/doc/touchpass-web/changelog.Debian.gz
  /usr/share/doc/touchpass-web/API.md)
[ "$(sort "$work/wcontents")" = "$(printf '%s\n' "${wexpected[@]}" | sort)" ] ||
  problem "touchpass-web holds $(tr '\n' ' ' <"$work/wcontents")but ${wexpected[*]} expected"

# The changelog's latest entry is this version.
mkdir -p "$work/files"
dpkg-deb --extract "$deb" "$work/files"
zcat "$work/files/usr/share/doc/touchpass/changelog.Debian.gz" >"$work/changelog"
changelog_version=$(dpkg-parsechangelog -l "$work/changelog" -S Version)
[ "$changelog_version" = "$VERSION-$REVISION" ] ||
  problem "changelog.Debian's latest entry is $changelog_version, not $VERSION-$REVISION" \
    "(add one to src/daemon/systemd/debian/changelog)"

# ---- lintian: no errors and no warnings (the informational tags -I would show are printed).
if command -v lintian >/dev/null; then
  lintian --display-info --tag-display-limit 0 "$deb" "$vdeb" "$wdeb" >"$work/lintian.log" 2>&1 || true
  grep -v 'not recommended' "$work/lintian.log" || true
  if grep -q '^E: ' "$work/lintian.log"; then problem "lintian reports errors"; fi
  if grep -q '^W: ' "$work/lintian.log"; then problem "lintian reports warnings"; fi
else
  problem "lintian is not installed (.ci/install-deps --tests)"
fi

# ---- Install, reinstall, remove and purge, as root, on a system without touchpass.
# Known to dpkg: installed, or removed with its configuration kept, or half-way.
known() {
  local status
  status=$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)
  [ -n "$status" ] && [ "$status" != not-installed ]
}
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: installing the packages needs root"
elif known touchpass || known touchpass-virtual-token || known touchpass-web; then
  echo "SKIP: touchpass is installed on this system (or its configuration is); not touching it"
else
  # Users and groups that postinst creates and that this test removes again.
  created=()
  for group in touchpass touchpass-admin touchpass-service touchpass-web touchpass-gateway; do
    getent group "$group" >/dev/null || created+=("$group")
  done
  user_existed=0
  getent passwd touchpass >/dev/null && user_existed=1
  web_user_existed=0
  getent passwd touchpass-web >/dev/null && web_user_existed=1
  purged=0
  cleanup() {
    if [ "$purged" -eq 0 ]; then
      dpkg --purge touchpass touchpass-web touchpass-virtual-token >/dev/null 2>&1 || true
    fi
    if [ "$user_existed" -eq 0 ] && getent passwd touchpass >/dev/null; then
      userdel touchpass 2>/dev/null || true
    fi
    if [ "$web_user_existed" -eq 0 ] && getent passwd touchpass-web >/dev/null; then
      userdel touchpass-web 2>/dev/null || true
    fi
    for group in "${created[@]}"; do
      getent group "$group" >/dev/null && { groupdel "$group" 2>/dev/null || true; }
    done
  }
  trap cleanup EXIT

  # Runs dpkg, waiting while another dpkg or apt holds the lock; fails on any dpkg warning.
  run_dpkg() {
    dpkg_runs=$((dpkg_runs + 1))
    local log=$work/dpkg-$dpkg_runs${1}.log
    for _ in $(seq 60); do
      if dpkg "$@" >"$log" 2>&1; then break; fi
      grep -q 'lock' "$log" || { cat "$log" >&2; problem "dpkg $* failed"; return 0; }
      sleep 5
    done
    if grep -qi 'warning' "$log"; then
      cat "$log" >&2
      problem "dpkg $* warned"
    fi
  }
  dpkg_runs=0
  socket_link=/etc/systemd/system/sockets.target.wants/touchpassd.socket
  service_link=/etc/systemd/system/multi-user.target.wants/touchpassd.service
  systemd_running() { [ -d /run/systemd/system ]; }

  web_link=/etc/systemd/system/multi-user.target.wants/touchpass-web.service
  run_dpkg --install "$deb" "$vdeb" "$wdeb"
  for path in "${expected[@]}" "${vexpected[@]}" "${wexpected[@]}"; do
    [ -e "$path" ] || problem "$path is missing after installation"
  done
  [ -L "$socket_link" ] || problem "touchpassd.socket was not enabled on installation"
  [ -L "$service_link" ] || problem "touchpassd.service was not enabled on installation"
  getent passwd touchpass >/dev/null || problem "the system user touchpass was not created"
  getent passwd touchpass-web >/dev/null || problem "the system user touchpass-web was not created"
  getent group touchpass-gateway >/dev/null || problem "the group touchpass-gateway was not created"
  [ -L "$web_link" ] && problem "touchpass-web.service was enabled on installation (it needs TLS first)"
  [ "$(/usr/bin/touchpass --version)" = "touchpass $VERSION" ] ||
    problem "the installed touchpass does not print its version"
  if systemd_running; then
    systemctl is-active --quiet touchpassd.socket touchpassd.service ||
      problem "touchpassd.socket and touchpassd.service were not started on installation"
  fi

  run_dpkg --install "$deb" "$vdeb" "$wdeb"  # the upgrade path of the maintainer scripts
  { [ -L "$socket_link" ] && [ -L "$service_link" ]; } ||
    problem "touchpassd is no longer enabled after reinstalling"

  run_dpkg --remove touchpass touchpass-web touchpass-virtual-token
  [ -e /usr/sbin/touchpassd ] && problem "/usr/sbin/touchpassd is left after removal"
  [ -e /usr/sbin/touchpass-web ] && problem "/usr/sbin/touchpass-web is left after removal"
  [ -e /etc/touchpass/web.conf ] || problem "removal deleted web.conf (purge should)"
  [ -e /etc/touchpass/touchpassd.conf ] || problem "removal deleted the conffile (purge should)"
  if systemd_running && systemctl is-active --quiet touchpassd.socket touchpassd.service; then
    problem "touchpassd is still running after removal"
  fi

  run_dpkg --purge touchpass touchpass-web  # touchpass-virtual-token has no configuration
  purged=1
  left=()
  for path in "${expected[@]}" "${vexpected[@]}" "${wexpected[@]}" /etc/touchpass \
              /var/lib/touchpass /run/touchpass /usr/share/doc/touchpass \
              /usr/share/doc/touchpass-virtual-token /usr/share/doc/touchpass-web \
              /usr/share/touchpass/web "$web_link" \
              "$socket_link" "$service_link" /etc/systemd/system/touchpassd.socket \
              /etc/systemd/system/touchpassd.service; do
    if [ -e "$path" ] || [ -L "$path" ]; then left+=("$path"); fi
  done
  for dir in /var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-helper-masked; do
    if [ -d "$dir" ]; then
      while IFS= read -r path; do left+=("$path"); done < <(find "$dir" -name 'touchpass*')
    fi
  done
  [ ${#left[@]} -eq 0 ] || problem "purging left ${left[*]}"
  if systemd_running; then
    systemctl is-active --quiet touchpassd.socket touchpassd.service &&
      problem "touchpassd is still running after purging"
  fi
  pgrep -f '^/usr/sbin/touchpassd' >/dev/null && problem "an installed touchpassd is still running"
  [ "$fail" -eq 0 ] &&
    echo "installed, reinstalled, removed and purged: dpkg warned about nothing, nothing left"
fi

[ "$fail" -eq 0 ] &&
  echo "built $(basename "$deb") ($(wc -l <"$work/contents") files), $(basename "$wdeb") and" \
    "$(basename "$vdeb")"
exit "$fail"
