#!/bin/sh
# SPDX-License-Identifier: MIT
# fieldfs/seqlock.h compiles as C11 and C17 with gcc and clang under -Wall -Wextra -Wpedantic
# -Werror: alone in strict ISO C (examples/seq_writer.c defines no feature macro), after POSIX's
# or glibc's headers with _GNU_SOURCE (where syscall(2) is declared already), and in the test
# worker. A C++ compiler gets the #error that points to seqlock.hpp. Fails if a compiler is
# missing: CI never skips it.
#   seqlock_h_check.sh SOURCE_DIR
set -eu
root=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/gnu.c" <<'C'
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>
#include "fieldfs/seqlock.h"
int main(void) { return fieldfs_seq_init(&(struct fieldfs_seq){0}, NULL, 3) == EINVAL ? 0 : 1; }
C
for cc in gcc clang; do
  command -v "$cc" >/dev/null || { echo "FAIL: $cc is not installed" >&2; exit 1; }
  for std in c11 c17; do
    for src in "$root/examples/seq_writer.c" "$root/tests/mapped/seq_worker.c" "$tmp/gnu.c"; do
      "$cc" -std="$std" -Wall -Wextra -Wpedantic -Wredundant-decls -Werror -I "$root/include" \
        -c "$src" -o "$tmp/out.o" || { echo "FAIL: $cc -std=$std $src" >&2; exit 1; }
    done
    echo "ok: $cc -std=$std"
  done
done
if echo '#include "fieldfs/seqlock.h"' | c++ -x c++ -I "$root/include" -fsyntax-only - \
  2>"$tmp/cxx.log"; then
  echo "FAIL: a C++ compiler took fieldfs/seqlock.h" >&2
  exit 1
fi
grep -q 'fieldfs/seqlock.hpp' "$tmp/cxx.log" || { cat "$tmp/cxx.log" >&2; exit 1; }
echo "ok: C++ is sent to fieldfs/seqlock.hpp"
