# bash completion for touchpass(1). Installed as
# /usr/share/bash-completion/completions/touchpass. tests/install checks that it knows every
# command and option `touchpass --help` lists, and that it quotes the names it completes.

# The word the user typed so far, as the shell will read it: backslash escapes undone.
_touchpass_unescape() {
  local rest=$1 out="" c
  while [[ -n $rest ]]; do
    c=${rest:0:1}
    rest=${rest:1}
    if [[ $c == \\ ]]; then
      c=${rest:0:1}
      rest=${rest:1}
    fi
    out+=$c
  done
  printf '%s' "$out"
}

# $1 written for the inside of the quote $2 (" or ') the user opened: every character the shell
# reads specially there is escaped, so that a name (or a key's label, which may come from a
# device's product string) is only ever a name — never a command substitution.
_touchpass_inside_quote() {
  local rest=$1 quote=$2 out="" c
  while [[ -n $rest ]]; do
    c=${rest:0:1}
    rest=${rest:1}
    if [[ $quote == "'" ]]; then
      [[ $c == "'" ]] && c="'\\''"
    else
      case $c in
        '"' | '$' | '`' | '\') c="\\$c" ;;
      esac
    fi
    out+=$c
  done
  printf '%s' "$out"
}

# Completes $cur with the app password names (names) or key labels (tokens) that touchpassd
# holds, asked through `touchpass __complete`, which never prompts and prints nothing when the
# daemon cannot be reached or a server is used. Names may hold spaces or other characters
# special to the shell: they are quoted as the word being completed needs.
_touchpass_names() {
  local what=$1 i
  local -a passed=()
  for ((i = 1; i < ${#words[@]}; i++)); do
    [[ $i -eq $cword ]] && continue
    case ${words[i]} in
      --socket | --server | --user | -u) passed+=("${words[i]}" "${words[i + 1]}") ;;
      --socket=* | --server=* | --user=*) passed+=("${words[i]}") ;;
    esac
  done
  local program=${words[0]}
  [[ $program == "~/"* ]] && program=$HOME/${program#"~/"}
  local -a found=()
  local line
  while IFS= read -r line; do
    found+=("$line")
  done < <("$program" "${passed[@]}" __complete "$what" </dev/null 2>/dev/null)

  local quote="" typed
  case $cur in
    \"* | \'*)
      quote=${cur:0:1}
      typed=${cur:1}
      ;;
    *) typed=$(_touchpass_unescape "$cur") ;;
  esac
  COMPREPLY=()
  for line in "${found[@]}"; do
    [[ $line == "$typed"* ]] || continue
    if [[ -n $quote ]]; then
      # History expansion would act on a "!" inside double quotes: such a name is completed
      # without quotes only.
      [[ $quote == '"' && $line == *!* ]] && continue
      COMPREPLY+=("$(_touchpass_inside_quote "$line" "$quote")")  # readline closes the quote
    else
      COMPREPLY+=("$(printf '%q' "$line")")
    fi
  done
  [[ -z $quote ]] && declare -F __ltrim_colon_completions >/dev/null &&
    __ltrim_colon_completions "$cur"
  return 0
}

_touchpass() {
  local cur prev words cword
  _init_completion -n : || return

  local commands="enroll tokens devices services issue show list revoke rename log unlock invite verify"
  # Options that take a value (the value is not a command or a name).
  local valued="--socket|--virtual-tokens|--server|--server-pin|--user|-u|--label|-l|--scope|-s"
  valued+="|--expires|-e|--token|-t|--limit|-n|--source|--service|--remote|--kind|--slot"
  valued+="|--invitation"
  local command="" i positional=0
  for ((i = 1; i < cword; i++)); do
    if [[ ${words[i]} =~ ^($valued)$ ]]; then
      ((i++))
    elif [[ ${words[i]} == -* ]]; then
      :
    elif [[ -z $command ]]; then
      command=${words[i]}
    else
      ((positional++))
    fi
  done

  case $prev in
    --socket)
      _filedir
      return
      ;;
    --virtual-tokens)
      _filedir -d
      return
      ;;
    --user | -u)
      COMPREPLY=($(compgen -u -- "$cur"))
      return
      ;;
    --server)
      COMPREPLY=($(compgen -W "https://" -- "$cur"))
      compopt -o nospace
      declare -F __ltrim_colon_completions >/dev/null && __ltrim_colon_completions "$cur"
      return
      ;;
    --token | -t)
      [[ $command == revoke ]] && _touchpass_names tokens
      return
      ;;
    --label | -l | --scope | -s | --from | --limit | -n | --service | --remote | --source | --server-pin | --invitation)
      return
      ;;
    --expires | -e)
      COMPREPLY=($(compgen -W "never 30d 90d 180d 1y" -- "$cur"))
      return
      ;;
    --kind)
      COMPREPLY=($(compgen -W "fido2 yubikey" -- "$cur"))
      return
      ;;
    --slot)
      COMPREPLY=($(compgen -W "1 2" -- "$cur"))
      return
      ;;
  esac

  # The NAME of show and revoke, and the OLD name of rename: an app password that exists.
  if [[ $cur != -* && $positional -eq 0 ]]; then
    case $command in
      show | revoke | rename)
        _touchpass_names names
        return
        ;;
    esac
  fi

  local options
  case $command in
    "") options="--help --socket --server --server-pin --virtual-tokens --no-usb --version"
        [[ $cur == -* ]] || { COMPREPLY=($(compgen -W "$commands" -- "$cur")); return; } ;;
    enroll) options="--help --label -l --invitation --no-pin --kind --slot --program --force --yes -y --pin-stdin --user -u --json -j" ;;
    tokens) options="--help --all-users --pin-stdin --user -u --json -j" ;;
    devices) options="--help --json -j" ;;
    services) options="--help --json -j" ;;
    issue) options="--help --scope -s --from --expires -e --copy -c --phone --pin-stdin --user -u --json -j" ;;
    show) options="--help --copy -c --phone --pin-stdin --user -u --json -j" ;;
    list) options="--help --all-users --pin-stdin --user -u --json -j" ;;
    revoke) options="--help --all -a --token -t --yes -y --pin-stdin --user -u" ;;
    rename) options="--help --pin-stdin --user -u" ;;
    log) options="--help --limit -n --verify --all-users --pin-stdin --user -u --json -j" ;;
    unlock) options="--help --source --user -u --all -a --json -j" ;;
    invite) options="--help --expires -e --user -u --json -j" ;;
    verify) options="--help --user -u --service --remote" ;;
    *) return ;;
  esac
  COMPREPLY=($(compgen -W "$options" -- "$cur"))
}
complete -F _touchpass touchpass
