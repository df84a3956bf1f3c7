# bash completion for touchpass(1). Installed as
# /usr/share/bash-completion/completions/touchpass. tests/install checks that it knows every
# command and option `touchpass --help` lists.

_touchpass() {
  local cur prev words cword
  _init_completion || return

  local commands="enroll tokens devices issue show list revoke rename log unlock invite verify"
  local command="" i
  for ((i = 1; i < cword; i++)); do
    case ${words[i]} in
      --socket | --virtual-tokens | --server | --server-pin) ((i++)) ;;
      -*) ;;
      *) command=${words[i]}; break ;;
    esac
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
    --user)
      COMPREPLY=($(compgen -u -- "$cur"))
      return
      ;;
    --server)
      COMPREPLY=($(compgen -W "https://" -- "$cur"))
      compopt -o nospace
      return
      ;;
    --label | --scope | --from | --limit | --service | --remote | --token | --source | --server-pin | --invitation)
      return
      ;;
    --expires)
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

  local options
  case $command in
    "") options="--help --socket --server --server-pin --virtual-tokens --no-usb --version"
        [[ $cur == -* ]] || { COMPREPLY=($(compgen -W "$commands" -- "$cur")); return; } ;;
    enroll) options="--help --label --invitation --no-pin --kind --slot --program --force --yes --pin-stdin --user --json" ;;
    tokens) options="--help --all-users --pin-stdin --user --json" ;;
    devices) options="--help --json" ;;
    issue) options="--help --scope --from --expires --copy --pin-stdin --user --json" ;;
    show) options="--help --copy --pin-stdin --user --json" ;;
    list) options="--help --all-users --pin-stdin --user --json" ;;
    revoke) options="--help --all --token --yes --pin-stdin --user" ;;
    rename) options="--help --pin-stdin --user" ;;
    log) options="--help --limit --verify --all-users --pin-stdin --user --json" ;;
    unlock) options="--help --source --user --all --json" ;;
    invite) options="--help --expires --user --json" ;;
    verify) options="--help --user --service --remote" ;;
    *) return ;;
  esac
  COMPREPLY=($(compgen -W "$options" -- "$cur"))
}
complete -F _touchpass touchpass
