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
  for o in $("$touchpass" "$c" --help | grep -oE -- '^ +-[a-gi-zA-Z],' | tr -d ' ,' | sort -u); do
    if ! grep -q -- " $o[ \"]" <<<"$line"; then
      echo "FAIL: the completion does not offer $c $o" >&2
      fail=1
    fi
  done
done
for o in $("$touchpass" --help | sed -n '/^Options:/,/^$/p' | grep -o -- '--[a-z][a-z-]*' | sort -u); do
  grep -qE -- "^ *\"\"\) options=.*$o" "$completion" ||
    { echo "FAIL: the completion does not offer the global option $o" >&2; fail=1; }
done

# Names through `touchpass __complete`, quoted for the shell: a stand-in for touchpass prints
# them, and a stand-in for bash-completion's _init_completion splits the line as it would.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/touchpass" <<'EOF_STUB'
#!/bin/sh
case "$*" in
  *"__complete names") printf '%s\n' 'my mail' 'it'"'"'s "odd" $x' 'thunderbird' 'Key `id` \ !' ;;
  *"__complete tokens") printf '%s\n' 'desk key' ;;
esac
EOF_STUB
chmod +x "$work/touchpass"
cat >"$work/run.bash" <<'EOF_RUN'
_init_completion() {
  words=("${COMP_WORDS[@]}")
  cword=$COMP_CWORD
  cur=${words[cword]}
  prev=${words[cword - 1]}
}
source "$1"
complete_line() {
  COMP_WORDS=("$WORK/touchpass" "$@")
  COMP_CWORD=$#
  COMPREPLY=()
  _touchpass
  printf '%s|' "${COMPREPLY[@]}"
  echo
}
complete_line show ""
complete_line revoke my
complete_line rename "it\'"
complete_line show '"my'
complete_line show '"it'
complete_line show "'it"
complete_line show "'Key"
complete_line show '"Key'
complete_line revoke --token ""
complete_line rename "my\ mail" ""  # the new name: not an existing one
EOF_RUN
completed=$(WORK=$work bash "$work/run.bash" "$completion")
cat >"$work/expected" <<'EOF_EXPECTED'
my\ mail|it\'s\ \"odd\"\ \$x|thunderbird|Key\ \`id\`\ \\\ \!|
my\ mail|
it\'s\ \"odd\"\ \$x|
my mail|
it's \"odd\" \$x|
it'\''s "odd" $x|
Key `id` \ !|
|
desk\ key|
--help|--pin-stdin|--user|-u|
EOF_EXPECTED
if [ "$completed" != "$(cat "$work/expected")" ]; then
  printf 'FAIL: names completed as\n%s\nexpected\n%s\n' "$completed" "$(cat "$work/expected")" >&2
  fail=1
fi
# What was completed reads back as the names.
eval "set -- $(head -n 1 <<<"$completed" | tr '|' ' ')"
if [ "$1" != "my mail" ] || [ "$2" != "it's \"odd\" \$x" ] || [ "$3" != thunderbird ]; then
  echo "FAIL: the quoted names do not read back: $*" >&2
  fail=1
fi

[ "$fail" -eq 0 ] && echo "the completion covers: $(echo $commands), and quotes names"
exit "$fail"
