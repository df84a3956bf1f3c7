#!/usr/bin/env bash
# `cmake --install BUILD --prefix /usr` into a DESTDIR puts every file where the system looks
# for it, with sane modes, and what it installs is well-formed: the unit names the installed
# daemon, sysusers/tmpfiles snippets and units parse, the man pages are compressed as Debian
# wants them and render, the default configuration leaves virtual tokens off, the programs run
# and print the project's version.
# The directories come from the environment (set by tests/install/CMakeLists.txt):
#   UNIT_DIR UDEV_DIR SYSUSERS_DIR TMPFILES_DIR CONFIG_DIR DOVECOT_DIR
#   PAM_DIR (empty: no PAM module built) VERSION (the project's)
#   check-install.sh BUILD_DIR WORK_DIR
set -euo pipefail
build=$1
work=$2
root=$work/root
rm -rf "$work" && mkdir -p "$work"
DESTDIR=$root cmake --install "$build" --prefix /usr >"$work/install.log"

fail=0
problem() { echo "FAIL: $*" >&2; fail=1; }

# path mode
expected=(
  "usr/sbin/touchpassd 755"
  "usr/bin/touchpass 755"
  "usr/bin/touchpass-virtual-token 755"
  "${UNIT_DIR#/}/touchpassd.service 644"
  "${UNIT_DIR#/}/touchpassd.socket 644"
  "${UDEV_DIR#/}/70-touchpass.rules 644"
  "${SYSUSERS_DIR#/}/touchpass.conf 644"
  "${TMPFILES_DIR#/}/touchpass.conf 644"
  "${CONFIG_DIR#/}/touchpassd.conf 644"
  "usr/share/man/man1/touchpass.1.gz 644"
  "usr/share/man/man1/touchpass-virtual-token.1.gz 644"
  "usr/share/man/man5/touchpassd.conf.5.gz 644"
  "usr/share/man/man8/touchpassd.8.gz 644"
  "usr/share/bash-completion/completions/touchpass 644"
  "usr/share/touchpass/pam.d/imap 644"
  "usr/share/touchpass/pam.d/pop3 644"
  "usr/share/touchpass/pam.d/smtp 644"
  "${DOVECOT_DIR#/}/auth-touchpass.conf.ext 644"
  "usr/share/doc/touchpass/copyright 644"
  "usr/share/doc/touchpass/changelog.Debian.gz 644"
  "usr/share/doc/touchpass/examples/postgresql-roles.sql 644"
  "usr/share/doc/touchpass/examples/touchpassd-postgresql.conf 644"
  "usr/sbin/touchpass-web 755"
  "${UNIT_DIR#/}/touchpass-web.service 644"
  "${SYSUSERS_DIR#/}/touchpass-web.conf 644"
  "${CONFIG_DIR#/}/web.conf 644"
  "usr/share/touchpass/web/index.html 644"
  "usr/share/touchpass/web/app.css 644"
  "usr/share/touchpass/web/app.js 644"
  "usr/share/touchpass/web/api.js 644"
  "usr/share/touchpass/web/webauthn.js 644"
  "usr/share/touchpass/web/cbor.js 644"
  "usr/share/touchpass/web/favicon.svg 644"
  "usr/share/touchpass/web/setup.html 644"
  "usr/share/touchpass/web/setup.js 644"
  "usr/share/touchpass/web/qr.js 644"
  "usr/share/touchpass/web/page.js 644"
  "usr/share/touchpass/web/password_panel.js 644"
  "usr/share/man/man8/touchpass-web.8.gz 644"
  "usr/share/doc/touchpass-web/copyright 644"
  "usr/share/doc/touchpass-web/changelog.Debian.gz 644"
  "usr/share/doc/touchpass-web/API.md 644"
  "usr/share/doc/touchpass-virtual-token/copyright 644"
  "usr/share/doc/touchpass-virtual-token/changelog.Debian.gz 644"
)
if [ -n "${PAM_DIR:-}" ]; then
  expected+=("${PAM_DIR#/}/pam_touchpass.so 644" "usr/share/man/man8/pam_touchpass.8.gz 644")
  # Debian's PAM modules live in /lib/<multiarch>/security, where pam.d finds them by name.
  if command -v dpkg-architecture >/dev/null; then
    debian_pam_dir=/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/security
    [ "$PAM_DIR" = "$debian_pam_dir" ] ||
      problem "the PAM module goes to $PAM_DIR, not to Debian's $debian_pam_dir"
  fi
fi
for entry in "${expected[@]}"; do
  path=${entry% *}
  mode=${entry##* }
  if [ ! -f "$root/$path" ]; then
    problem "/$path was not installed"
    continue
  fi
  actual=$(stat -c %a "$root/$path")
  [ "$actual" = "$mode" ] || problem "/$path has mode $actual, expected $mode"
done
# Nothing else, nothing writable by others, no set-id bits.
installed=$(cd "$root" && find . -type f -o -type l | sed 's|^\./||' | sort)
for path in $installed; do
  found=0
  for entry in "${expected[@]}"; do [ "${entry% *}" = "$path" ] && found=1; done
  [ "$found" -eq 1 ] || problem "unexpected file /$path"
done
bad=$(find "$root" \( -perm -o+w -o -perm -u+s -o -perm -g+s \) ! -type l)
[ -z "$bad" ] || problem "world-writable or set-id: $bad"

# The unit starts the installed daemon.
grep -qx 'ExecStart=/usr/sbin/touchpassd' "$root/${UNIT_DIR#/}/touchpassd.service" ||
  problem "touchpassd.service does not run /usr/sbin/touchpassd"
grep -q '@TOUCHPASSD@' "$root/${UNIT_DIR#/}/touchpassd.service" &&
  problem "touchpassd.service has an unreplaced @TOUCHPASSD@"
grep -qx 'ExecStart=/usr/sbin/touchpass-web' "$root/${UNIT_DIR#/}/touchpass-web.service" ||
  problem "touchpass-web.service does not run /usr/sbin/touchpass-web"
# systemd-analyze verify, on copies whose ExecStart= is the binary in DESTDIR (verify checks it).
mkdir -p "$work/units"
sed "s|^ExecStart=/usr/sbin/touchpassd|ExecStart=$root/usr/sbin/touchpassd|" \
  "$root/${UNIT_DIR#/}/touchpassd.service" >"$work/units/touchpassd.service"
sed "s|^\(ExecStart[A-Za-z]*\)=/usr/sbin/touchpass-web|\1=$root/usr/sbin/touchpass-web|" \
  "$root/${UNIT_DIR#/}/touchpass-web.service" >"$work/units/touchpass-web.service"
cp "$root/${UNIT_DIR#/}/touchpassd.socket" "$work/units/"
(cd "$work/units" &&
  systemd-analyze verify --man=no touchpassd.socket touchpassd.service touchpass-web.service) \
  >"$work/verify.log" 2>&1 || problem "systemd-analyze verify failed"
if grep -q . "$work/verify.log"; then
  cat "$work/verify.log" >&2
  problem "systemd-analyze verify complained"
fi

# sysusers and tmpfiles snippets parse (the sysusers one is applied to a scratch root).
mkdir -p "$work/sysroot/etc"
touch "$work/sysroot/etc/passwd" "$work/sysroot/etc/group"
systemd-sysusers --root="$work/sysroot" "$root/${SYSUSERS_DIR#/}/touchpass.conf" ||
  problem "systemd-sysusers refused touchpass.conf"
for name in touchpass touchpass-admin touchpass-service; do
  grep -q "^$name:" "$work/sysroot/etc/group" || problem "sysusers did not create the group $name"
done
grep -q '^touchpass:x:[0-9]*:[0-9]*:.*:/usr/sbin/nologin$' "$work/sysroot/etc/passwd" ||
  problem "sysusers did not create the system user touchpass"
systemd-sysusers --root="$work/sysroot" "$root/${SYSUSERS_DIR#/}/touchpass-web.conf" ||
  problem "systemd-sysusers refused touchpass-web.conf"
grep -q '^touchpass-gateway:' "$work/sysroot/etc/group" ||
  problem "sysusers did not create the group touchpass-gateway"
grep -q '^touchpass-web:x:[0-9]*:[0-9]*:.*:/usr/sbin/nologin$' "$work/sysroot/etc/passwd" ||
  problem "sysusers did not create the system user touchpass-web"
# The installed gateway accepts its installed configuration, with the page in DESTDIR.
{ cat "$root/${CONFIG_DIR#/}/web.conf"; echo "static_dir = $root/usr/share/touchpass/web"; } \
  >"$work/web.conf"
"$root/usr/sbin/touchpass-web" --config "$work/web.conf" --check-config >/dev/null ||
  problem "touchpass-web --check-config refuses the installed web.conf"
systemd-tmpfiles --root="$work/sysroot" --create "$root/${TMPFILES_DIR#/}/touchpass.conf" ||
  problem "systemd-tmpfiles refused touchpass.conf"
[ "$(stat -c %a "$work/sysroot/run/touchpass/virtual" 2>/dev/null)" = 755 ] ||
  problem "tmpfiles did not create /run/touchpass/virtual with mode 0755"

# Man pages are compressed with gzip -9n (no name, no time stamp: the header's flags and time
# are 0, its extra flags 2), carry the project's version, and render without warnings.
for page in $(cd "$root" && find usr/share/man -type f); do
  header=$(head -c 10 "$root/$page" | od -An -tx1 | tr -d ' \n')
  [[ "$header" == 1f8b0800000000000203 ]] ||
    problem "/$page is not compressed with gzip -9n (header $header)"
  zcat "$root/$page" | sed -n 1p | grep -q "^\.TH .* \"touchpass $VERSION\"" ||
    problem "/$page does not name touchpass $VERSION in its title line"
  if command -v man >/dev/null; then
    warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$root/$page" 2>&1 >/dev/null)
    [ -z "$warnings" ] || problem "/$page: $warnings"
  fi
done
for doc in touchpass touchpass-web touchpass-virtual-token; do
  sed -n 1p "$root/usr/share/doc/$doc/copyright" |
    grep -qx 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' ||
    problem "/usr/share/doc/$doc/copyright is not in the machine-readable format"
  grep -qx 'License: BSD-2-Clause' "$root/usr/share/doc/$doc/copyright" ||
    problem "/usr/share/doc/$doc/copyright does not name BSD-2-Clause"
done

# The installed configuration leaves virtual tokens (development devices) off.
grep -qx '#virtual_token_dir =' "$root/${CONFIG_DIR#/}/touchpassd.conf" ||
  problem "touchpassd.conf does not show virtual_token_dir empty (virtual tokens off)"
grep -qE '^virtual_token_dir *= *[^ ]' "$root/${CONFIG_DIR#/}/touchpassd.conf" &&
  problem "touchpassd.conf turns virtual tokens on"

# The installed programs run.
"$root/usr/bin/touchpass" --help >/dev/null || problem "touchpass --help failed"
[ "$("$root/usr/bin/touchpass" --version)" = "touchpass $VERSION" ] ||
  problem "touchpass --version does not print \"touchpass $VERSION\""
[ "$("$root/usr/sbin/touchpassd" --version)" = "touchpassd $VERSION" ] ||
  problem "touchpassd --version does not print \"touchpassd $VERSION\""
"$root/usr/bin/touchpass-virtual-token" --help >/dev/null 2>&1 ||
  problem "touchpass-virtual-token --help failed"

[ "$fail" -eq 0 ] && echo "installed $(echo "$installed" | wc -l) files, all as expected"
exit "$fail"
