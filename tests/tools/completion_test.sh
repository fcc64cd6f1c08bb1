#!/bin/sh
# SPDX-License-Identifier: MIT
# The bash completion offers what fieldfs accepts: every -o key it completes is one that
# `fieldfs --help` lists (and the other way round), flags complete, SOURCE offers shm names from
# /dev/shm, MOUNTPOINT directories. Usage: completion_test.sh SOURCE_DIR FIELDFS_BINARY
set -eu
src=$1 fieldfs=$2
command -v bash >/dev/null || { echo "FAIL: bash is missing"; exit 1; }
seg="fieldfs_completion_$$"
dir=$(mktemp -d)
trap 'rm -f "/dev/shm/$seg"; rm -rf "$dir"' EXIT
: >"/dev/shm/$seg"
mkdir "$dir/mnt"

candidates() {  # candidates WORD...: the candidates for the last word, one per line, sorted
  bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _fieldfs
            printf "%s\n" "${COMPREPLY[@]}" | sort' sh "$src/completion/fieldfs.bash" "$@"
}
fail=0
check() {  # check WHAT EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1: expected [$2], got [$3]"; fail=1; fi
}

help_keys=$("$fieldfs" --help | sed -n '/^Options/,$p' | awk '/^  [a-z_]+(=|  |$)/ {
  k = $1; sub(/=.*/, "=", k); print k }' | sort)
fuse_keys="allow_other
default_permissions
fsname=
subtype="
offered=$(candidates fieldfs -o "")
check "-o keys are those of fieldfs --help and FUSE's" \
  "$(printf '%s\n%s\n' "$help_keys" "$fuse_keys" | sort -u)" "$offered"
check "flags" "--layout" "$(candidates fieldfs --la)"
check "the last item of an -o list" "ro,threads=" "$(candidates fieldfs -o ro,thr)"
check "schema= completes files" "schema=$src/examples/every_kind.h" \
  "$(candidates fieldfs -o "schema=$src/examples/every_k")"
check "SOURCE offers shm names" "$seg" "$(candidates fieldfs "fieldfs_completion_$$")"
check "MOUNTPOINT offers directories" "$dir/mnt" "$(candidates fieldfs "$seg" "$dir/m")"
[ "$fail" = 0 ] && echo "completion: all passed"
exit "$fail"
