#!/bin/sh
# SPDX-License-Identifier: MIT
# scripts/quickstart with a built fieldfs (FIELDFS_BINARY): it mounts a fresh segment and shows
# echo 42; it keeps the values of a segment that exists; it shows its own mount again without
# unmounting it; it refuses, leaving it mounted and unchanged, a directory where another
# fieldfs is mounted, and a dead mount; a relative MOUNTPOINT is the caller's. Unique names and directories; everything is unmounted and removed at exit.
#   sh tests/mount/quickstart_test.sh BUILT_FIELDFS
set -u

fieldfs=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/fieldfs-quickstart-test.XXXXXX")
chmod 755 "$work"
tag="fieldfs-test-qs-$$"
failures=0

cleanup() {
  # from the mount table: a dead mount is not even a directory to a glob
  awk -v w="$work/" 'index($2, w) == 1 { print $2 }' /proc/self/mounts | while read -r d; do
    fusermount3 -u "$d" 2>/dev/null || fusermount3 -uz "$d"
  done
  rm -rf "$work"
  rm -f /dev/shm/"$tag"-*
}
trap cleanup EXIT

check() {  # check WHAT EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then
    echo "ok: $1"
  else
    echo "FAILED: $1: expected [$2], got [$3]"
    failures=$((failures + 1))
  fi
}

quickstart() {  # quickstart DIR SEGMENT: its output in $work/out, its status echoed
  FIELDFS_BINARY=$fieldfs sh "$root/scripts/quickstart" "$@" >"$work/out" 2>&1
  echo $?
}

# A fresh segment: mounted, and the demo's echo 42 shows.
mkdir "$work/fresh"
check "fresh segment: exit status" 0 "$(quickstart "$work/fresh" "$tag-fresh")"
check "fresh segment: bar is the demo's 42" 42 "$(cat "$work/fresh/bar")"

# Run again on its own mount: shown as it is, not unmounted, the value kept.
echo 5 >"$work/fresh/bar"
check "its own mount again: exit status" 0 "$(quickstart "$work/fresh" "$tag-fresh")"
check "its own mount again: bar kept" 5 "$(cat "$work/fresh/bar")"
check "its own mount again: one mount" 1 "$(grep -c " $work/fresh fuse" /proc/self/mounts)"

# A segment that exists with a value: mounted, the value kept, and the output says so.
mkdir "$work/made" "$work/existing"
"$fieldfs" "$tag-existing" "$work/made" && echo 7 >"$work/made/bar" && fusermount3 -u "$work/made"
check "existing segment: exit status" 0 "$(quickstart "$work/existing" "$tag-existing")"
check "existing segment: bar kept" 7 "$(cat "$work/existing/bar")"
check "existing segment: says its values are kept" 1 "$(grep -c 'values are kept' "$work/out")"

# Another fieldfs at the target (another segment): refused; that mount stays, unchanged.
mkdir "$work/other"
"$fieldfs" "$tag-other" "$work/other" && echo 9 >"$work/other/bar"
status=$(quickstart "$work/other" "$tag-mine")
check "someone else's mount: refused" 1 "$status"
check "someone else's mount: still mounted" 1 "$(grep -c " $work/other fuse" /proc/self/mounts)"
check "someone else's mount: bar unchanged" 9 "$(cat "$work/other/bar")"
check "someone else's mount: no segment made" no "$([ -e /dev/shm/"$tag-mine" ] && echo yes || echo no)"
check "someone else's mount: says why" 1 "$(grep -c 'mount point already' "$work/out")"

# A dead fieldfs mount of the same segment (its daemon killed): refused, with how to clear it.
mkdir "$work/dead"
"$fieldfs" -f "$tag-dead" "$work/dead" 2>/dev/null &
daemon=$!
for _ in $(seq 100); do grep -q " $work/dead fuse" /proc/self/mounts && break; sleep 0.1; done
kill -KILL "$daemon"
wait "$daemon" 2>/dev/null
check "a dead mount: refused" 1 "$(quickstart "$work/dead" "$tag-dead")"
check "a dead mount: says how to clear it" 1 "$(grep -c 'fusermount3 -uz' "$work/out")"

# A relative MOUNTPOINT is taken from where the script was started, not from the checkout.
mkdir "$work/relative"
status=$(cd "$work" && quickstart relative "$tag-relative")
check "relative mountpoint: exit status" 0 "$status"
check "relative mountpoint: mounted there" 1 "$(grep -c " $work/relative fuse" /proc/self/mounts)"

[ "$failures" -eq 0 ] || { echo "$failures check(s) failed; last output:"; cat "$work/out"; }
[ "$failures" -eq 0 ]
