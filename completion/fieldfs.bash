# SPDX-License-Identifier: MIT
# bash completion for fieldfs and fieldfs-watch: flags, -o keys (and files or directories for
# their values), shm names from /dev/shm for SOURCE, directories for MOUNTPOINT. Installed in
# share/bash-completion/completions, where bash-completion loads it on first use.

_fieldfs_o_keys="schema= struct= include= mode= uid= gid= umask= nocreate ro threads=
max_read= poll_ms= seq= seq_wait_ms= etcd= etcd_key= etcd_timeout_ms= allow_foreign_owner
allow_other default_permissions fsname= subtype="

# Completes the last item of a comma-separated -o list.
_fieldfs_option_list() {
  local cur=$1 head="" item=$1
  if [[ $cur == *,* ]]; then
    head=${cur%,*},
    item=${cur##*,}
  fi
  case $item in
    schema=*)
      local f
      while IFS= read -r f; do COMPREPLY+=("${head}schema=$f"); done \
        < <(compgen -f -- "${item#schema=}")
      ;;
    include=*)
      local d
      while IFS= read -r d; do COMPREPLY+=("${head}include=$d"); done \
        < <(compgen -d -- "${item#include=}")
      ;;
    *)
      local k
      for k in $_fieldfs_o_keys; do
        [[ $k == "$item"* ]] && COMPREPLY+=("$head$k")
      done
      ;;
  esac
  compopt -o nospace 2>/dev/null
}

_fieldfs() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  COMPREPLY=()
  if [[ $prev == -o ]]; then
    _fieldfs_option_list "$cur"
    return
  fi
  if [[ $cur == -o?* ]]; then
    _fieldfs_option_list "${cur#-o}"
    COMPREPLY=("${COMPREPLY[@]/#/-o}")
    return
  fi
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "-f -d -s -o -h --help -V --version --layout" -- "$cur")
    return
  fi
  # Which positional argument is this? Words after -o are its list, not positionals.
  local i positional=0
  for ((i = 1; i < COMP_CWORD; i++)); do
    if [[ ${COMP_WORDS[i]} == -o ]]; then
      ((i++))
    elif [[ ${COMP_WORDS[i]} != -* ]]; then
      ((positional++))
    fi
  done
  if ((positional == 0)); then
    local name
    for name in /dev/shm/*; do
      [[ -f $name ]] && [[ ${name#/dev/shm/} == "$cur"* ]] && COMPREPLY+=("${name#/dev/shm/}")
    done
    mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -f -- "$cur" | grep /)
  else
    mapfile -t COMPREPLY < <(compgen -d -- "$cur")
  fi
}

_fieldfs_watch() {
  local cur=${COMP_WORDS[COMP_CWORD]}
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "-n -h --help" -- "$cur")
  else
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
  fi
}

complete -F _fieldfs fieldfs
complete -F _fieldfs_watch fieldfs-watch
