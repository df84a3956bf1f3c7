#!/usr/bin/env bash
# The bash completion knows every command and every option `touchpass --help` lists.
#   check-completion.sh TOUCHPASS_BINARY COMPLETION_FILE
set -euo pipefail
touchpass=$1
completion=$2
bash -n "$completion"
fail=0
commands=$("$touchpass" --help | awk '/^Subcommands:/{f=1; next} f && /^  [a-z]/{print $1} f && /^$/{f=0}')
[ -n "$commands" ] || { echo "FAIL: no commands in touchpass --help" >&2; exit 1; }
listed=$(sed -n 's/^ *local commands="\(.*\)"$/\1/p' "$completion")
for c in $commands; do
  if ! grep -qw -- "$c" <<<"$listed"; then
    echo "FAIL: the completion does not offer the command $c" >&2
    fail=1
  fi
  options=$("$touchpass" "$c" --help | grep -o -- '--[a-z][a-z-]*' | sort -u)
  line=$(grep -E "^ *$c\) options=" "$completion" || true)
  if [ -z "$line" ]; then
    echo "FAIL: the completion has no options for $c" >&2
    fail=1
    continue
  fi
  for o in $options; do
    if ! grep -q -- "$o[ \"]" <<<"$line"; then
      echo "FAIL: the completion does not offer $c $o" >&2
      fail=1
    fi
  done
done
for o in $("$touchpass" --help | sed -n '/^Options:/,/^$/p' | grep -o -- '--[a-z][a-z-]*' | sort -u); do
  grep -qE -- "^ *\"\"\) options=.*$o" "$completion" ||
    { echo "FAIL: the completion does not offer the global option $o" >&2; fail=1; }
done
[ "$fail" -eq 0 ] && echo "the completion covers: $(echo $commands)"
exit "$fail"
