#!/bin/sh
# SPDX-License-Identifier: MIT
# The mount table names each segment as a SOURCE that names it again (findmnt -t fuse.fieldfs),
# and an fstab line's mount is found there: a second `mount -a` leaves it alone (util-linux's
# libmount is the oracle). In a private mount namespace whose /usr/local/bin holds only a
# `fieldfs` that runs the built one: mount.fuse3 looks for it there, without a PATH of its own.
#   sh tests/mount/fstab_test.sh BUILT_FIELDFS
set -u

fieldfs=$(readlink -f "$1")
if [ "${FIELDFS_FSTAB_TEST_NS:-}" != 1 ]; then
  FIELDFS_FSTAB_TEST_NS=1 exec unshare --mount --propagation private sh "$0" "$@"
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/fieldfs-fstab-test.XXXXXX")
real=$(readlink -f "$work")
seg="fieldfs-test-fstab-$$"

# shellcheck disable=SC2317  # run by the trap
cleanup() {
  for m in "$work"/m*; do
    if mountpoint -q "$m"; then fusermount3 -u "$m" 2>/dev/null || fusermount3 -uz "$m"; fi
  done
  umount /usr/local/bin 2>/dev/null
  rm -f /dev/shm/"$seg"-a /dev/shm/"$seg"-b
  rm -rf "$work"
}
trap cleanup EXIT

failures=0
# shellcheck source=/dev/null  # tests/mount/check.sh: check()
. "$(dirname "$0")/check.sh"

mkdir "$work/m1" "$work/m2" "$work/m3" "$work/m4" "$work/sub"
mount -t tmpfs -o mode=0755 fieldfs-test-bin /usr/local/bin || exit 1
printf '#!/bin/sh\nexec %s "$@"\n' "$fieldfs" >/usr/local/bin/fieldfs
chmod 755 /usr/local/bin/fieldfs
cat >"$work/fstab" <<FSTAB
$seg-a $work/m1 fuse.fieldfs defaults 0 0
shm:$seg-b $work/m2 fuse.fieldfs defaults 0 0
$work/sub/../state $work/m3 fuse.fieldfs defaults 0 0
file:$work/other $work/m4 fuse.fieldfs defaults 0 0
FSTAB
mount -T "$work/fstab" -a
check "mount -a mounts every line" 0 $?
check "findmnt names each segment" "$seg-a shm:$seg-b $real/state file:$real/other" \
  "$(for m in 1 2 3 4; do findmnt -n -t fuse.fieldfs -o SOURCE --mountpoint "$work/m$m"; done |
    tr '\n' ' ' | sed 's/ $//')"
mount -T "$work/fstab" -a >"$work/again" 2>&1
check "a second mount -a finds them mounted" "0 " "$? $(cat "$work/again")"
check "one mount each" 4 "$(grep -c " $work/m[1-4] fuse.fieldfs " /proc/self/mounts)"
exit "$failures"
