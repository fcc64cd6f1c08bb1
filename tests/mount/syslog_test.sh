#!/bin/sh
# SPDX-License-Identifier: MIT
# A detached fieldfs logs to syslog: in a private mount namespace, /dev is a copy whose log is a
# datagram socket of this test's (Python's socket module reads it, as journald would read
# /dev/log). The daemon detaches, the segment is truncated under it, a field is read twice: the
# shrink arrives once, as "fieldfs[PID]: segment NAME shrank below the struct: ...". A
# detached daemon also tells the service manager READY=1 with its own pid (not its parent's).
#   sh tests/mount/syslog_test.sh BUILT_FIELDFS
set -u

fieldfs=$1
if [ "${FIELDFS_SYSLOG_TEST_NS:-}" != 1 ]; then
  FIELDFS_SYSLOG_TEST_NS=1 exec unshare --mount --propagation private sh "$0" "$@"
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/fieldfs-syslog-test.XXXXXX")
seg="fieldfs-test-syslog-$$"
listener=

# shellcheck disable=SC2317  # run by the trap
cleanup() {
  if mountpoint -q "$work/mnt" 2>/dev/null; then
    fusermount3 -u "$work/mnt" 2>/dev/null || fusermount3 -uz "$work/mnt"
  fi
  [ -n "$listener" ] && kill "$listener" 2>/dev/null
  umount -R /dev 2>/dev/null
  umount -R "$work/dev" 2>/dev/null
  rm -f /dev/shm/"$seg"
  rm -rf "$work"
}
trap cleanup EXIT

failures=0
# shellcheck source=/dev/null  # tests/mount/check.sh: check()
. "$(dirname "$0")/check.sh"

# A /dev of the namespace's own: the nodes fieldfs needs, and a log socket of ours.
mkdir "$work/dev" "$work/mnt"
mount -t tmpfs -o mode=0755 fieldfs-test-dev "$work/dev" || exit 1
for node in fuse null zero urandom; do
  touch "$work/dev/$node" && mount --bind "/dev/$node" "$work/dev/$node" || exit 1
done
mkdir "$work/dev/shm" && mount --bind /dev/shm "$work/dev/shm" || exit 1
python3 - "$work/dev/log" "$work/log.txt" "$work/notify" "$work/notify.txt" <<'PY' &
import os, select, socket, sys
socks = {}
for path, out in ((sys.argv[1], sys.argv[2]), (sys.argv[3], sys.argv[4])):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    socks[s] = open(out, "ab", buffering=0)
open(sys.argv[2] + ".ready", "w").close()
while True:
    for s in select.select(list(socks), [], [])[0]:
        socks[s].write(s.recv(65536).replace(b"\n", b"|") + b"\n")
PY
listener=$!
for _ in $(seq 100); do [ -e "$work/log.txt.ready" ] && break; sleep 0.1; done
mount --rbind "$work/dev" /dev || exit 1

NOTIFY_SOCKET=$work/notify "$fieldfs" "$seg" "$work/mnt"
check "fieldfs detaches and exits 0" 0 $?
check "the field reads before the shrink" 0 "$(cat "$work/mnt/bar")"
truncate -s 0 /dev/shm/"$seg"
cat "$work/mnt/bar" 2>/dev/null
check "a read of a shrunk segment fails" 1 $?
cat "$work/mnt/baz" 2>/dev/null
sleep 0.5
pid=$(sed -n 's/^READY=1|MAINPID=\([0-9]*\)$/\1/p' "$work/notify.txt")
check "READY=1 names a live daemon, not the parent that exited" 0 "$(kill -0 "$pid" 2>&1; echo $?)"
line=$(grep -c "fieldfs\[$pid\]: segment $seg shrank below the struct: fields past byte 0 fail with EIO" "$work/log.txt")
check "the shrink is logged once, through syslog" 1 "$line"
fusermount3 -u "$work/mnt"
check "STOPPING=1 arrives at the unmount" "STOPPING=1" "$(sleep 0.5; tail -n 1 "$work/notify.txt")"
[ "$failures" -eq 0 ] || { echo "--- syslog:"; cat "$work/log.txt"; echo "--- notify:"; cat "$work/notify.txt"; }
exit "$failures"
