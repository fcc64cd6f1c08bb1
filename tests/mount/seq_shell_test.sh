#!/bin/sh
# SPDX-License-Identifier: MIT
# Compare-and-set from the shell (SPEC §8, issue 12): two dash loops each add 1 to x LOOPS times
# by reading .json, changing x and writing the document back with its "seq"; a write that lost the
# race fails (EAGAIN: printf's write error) and the loop reads again. x ends exactly at the sum.
# And the counter's file is read-only to the shell: `echo 5 > seq` fails, nothing changes.
#   sh tests/mount/seq_shell_test.sh BUILT_FIELDFS
set -u

fieldfs=$1
loops=200
work=$(mktemp -d "${TMPDIR:-/tmp}/fieldfs-seq-shell-test.XXXXXX")
m=$work/mnt
seg="fieldfs-test-seq-shell-$$"
daemon=

# shellcheck disable=SC2317  # run by the trap
cleanup() {
  if mountpoint -q "$m" 2>/dev/null; then fusermount3 -u "$m" 2>/dev/null || fusermount3 -uz "$m"; fi
  [ -n "$daemon" ] && wait "$daemon"
  rm -f /dev/shm/"$seg"
  rm -rf "$work"
}
trap cleanup EXIT

failures=0
# shellcheck source=/dev/null  # tests/mount/check.sh: check()
. "$(dirname "$0")/check.sh"

mkdir "$m"
printf '#include <stdint.h>\nstruct pos { unsigned int seq; int x; int y; char name[24]; };\n' \
  >"$work/pos.h"
"$fieldfs" -f "$seg" "$m" -o "schema=$work/pos.h,seq=seq" 2>"$work/log" &
daemon=$!
i=0
while ! mountpoint -q "$m" && [ "$i" -lt 300 ]; do i=$((i + 1)) && sleep 0.1; done
mountpoint -q "$m" || { cat "$work/log" && exit 1; }

status=0
# shellcheck disable=SC2320  # the status of echo with its redirection is the point
{ echo 5 >"$m/seq"; } 2>"$work/echo" || status=$?
check "echo 5 > seq fails as a redirection does" 2 "$status"
check "with the shell's message" 1 "$(grep -c 'Permission denied' "$work/echo")"
check "the counter is unchanged" 0 "$(cat "$m/seq")"

# add N: N increments of x through .json; prints how many writes lost the race.
add() {
  done_=0 lost=0
  while [ "$done_" -lt "$1" ] && [ "$lost" -lt 100000 ]; do
    doc=$(cat "$m/.json") || { lost=$((lost + 1)) && continue; }
    rest=${doc#*\"seq\": } && seq=${rest%%,*}
    rest=${doc#*\"x\": } && x=${rest%%,*}
    if printf '{"seq": %s, "x": %s}\n' "$seq" $((x + 1)) >"$m/.json" 2>/dev/null; then
      done_=$((done_ + 1))
    else
      lost=$((lost + 1))
    fi
  done
  echo "$lost"
}
add "$loops" >"$work/a" &
a=$!
add "$loops" >"$work/b" &
b=$!
wait "$a" "$b"
check "x is exactly the sum of both loops' increments" $((2 * loops)) "$(cat "$m/x")"
echo "writes that lost the race and were retried: $(cat "$work/a") + $(cat "$work/b")"
check "each increment advanced the counter by 2" $((4 * loops)) "$(cat "$m/seq")"

status=0
printf '{"seq": 0, "x": 0}\n' >"$m/.json" 2>"$work/stale" || status=$?
check "a stale document fails" 1 "$status"
check "and changes nothing" $((2 * loops)) "$(cat "$m/x")"
exit "$failures"
