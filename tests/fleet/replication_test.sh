#!/bin/sh
# SPDX-License-Identifier: MIT
# SPEC §9 on real mounts: three hosts (network namespaces h1 h2 h3, tests/fleet/fleet_lib.sh)
# each run fieldfs on a segment of their own, replicated through a three-member etcd cluster
# (e1 e2 e3). The clients are the shell, Python and the mapping; the oracle is SPEC's words:
#   - a write on h1 is read on h2 and h3; a .json update is never seen half-applied anywhere;
#   - three hosts each run 200 compare-and-set increments through .json (-o seq=), retrying on
#     EAGAIN: every host ends at exactly 600;
#   - a store to h1's mapping reaches h2's files and wakes h2's poller;
#   - one member killed: writes go on; two killed: writes fail with EIO within the bound, reads
#     serve the last state, .etcd says so; members back: every replica converges;
#   - h3 cut off: its writes fail, h1 and h2 go on; healed: h3 converges and publishes what its
#     mapping stored meanwhile;
#   - a host with another struct is refused with one line.
#   sh tests/fleet/replication_test.sh FIELDFS          (as root; exit 77 when not root)
set -u
here=$(cd "$(dirname "$0")" && pwd)
fieldfs=$1
[ "$(id -u)" -eq 0 ] || { echo "skipped: needs root (network namespaces)" && exit 77; }
if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
  "$here/../../scripts/install-deps" || exit 1
fi

failures=0
# shellcheck source=/dev/null  # tests/mount/check.sh: check()
. "$here/../mount/check.sh"
# shellcheck source=tests/fleet/fleet_lib.sh
. "$here/fleet_lib.sh"

dir=$(mktemp -d "${TMPDIR:-/tmp}/fieldfs-fleetrepl.XXXXXX")
seg_prefix="fieldfs_fleet_$$"
key="fieldfs-test/$$"
unmount_all() {
  for h in h1 h2 h3 odd; do
    [ -d "$dir/$h" ] || continue
    fusermount3 -u "$dir/$h" 2>/dev/null || fusermount3 -uz "$dir/$h" 2>/dev/null
  done
  rm -f /dev/shm/"$seg_prefix"_*
}
cleanup_dir() { rm -rf "$dir"; }
FLEET_BEFORE_DOWN=unmount_all

printf '#include <stdint.h>\nstruct pos { uint32_t seq; int32_t x; int32_t y; char label[24]; };\n' \
  >"$dir/pos.h"
printf 'struct pos { unsigned seq; long x; };\n' >"$dir/other.h"

since() { echo $(($(fleet_now_ms) - $1)); }
# eventually HOST FIELD VALUE: whether HOST's FIELD reads VALUE within 5 s
eventually() {
  i=0
  until [ "$(cat "$dir/$1/$2" 2>/dev/null)" = "$3" ]; do
    i=$((i + 1)) && [ "$i" -lt 500 ] || return 1
    sleep 0.01
  done
}
# mount_host HOST [SCHEMA]: fieldfs in HOST's network namespace on segment seg_HOST
mount_host() {
  mkdir -p "$dir/$1"
  fleet_bg "$1" "$dir/$1.log" "$fieldfs" -f -o "schema=${2:-$dir/pos.h},seq=seq" \
    -o "etcd=$(fleet_endpoints_escaped),etcd_key=$key,etcd_timeout_ms=3000" \
    "${seg_prefix}_$1" "$dir/$1"
  i=0
  until [ -f "$dir/$1/.etcd" ]; do
    i=$((i + 1))
    if [ "$i" -ge 500 ]; then cat "$dir/$1.log" && return 1; fi
    sleep 0.01
  done
}
# add_one HOST: one compare-and-set increment of x through HOST's .json, retried on EAGAIN
add_one() {
  tries=0
  until doc=$(cat "$dir/$1/.json") && x=${doc#*\"x\": } && x=${x%%,*} &&
    printf '%s\n' "$doc" | sed "s/\"x\": $x,/\"x\": $((x + 1)),/" >"$dir/$1/.json" 2>/dev/null; do
    tries=$((tries + 1))
    if [ "$tries" -ge 1000 ]; then echo "FAILED: $1: 1000 attempts, last: $doc" && return 1; fi
  done
}

fleet_up || { echo "FAILED: the fleet did not come up"; cleanup_dir; exit 1; }
for h in h1 h2 h3; do mount_host "$h" || { echo "FAILED: $h did not mount"; exit 1; }; done

echo "== a write on h1 is read on h2 and h3"
start=$(fleet_now_ms)
echo 5 >"$dir/h1/x"
eventually h2 x 5 && eventually h3 x 5
check "h2 and h3 read h1's write ($(since "$start") ms)" "5 5" "$(cat "$dir/h2/x") $(cat "$dir/h3/x")"
check "h1's .etcd" "connected: yes" "$(head -n 1 "$dir/h1/.etcd")"

echo "== a .json update is never seen half-applied"
(i=1; while [ $i -le 150 ]; do
  printf '{"x": %d, "y": %d}\n' "$i" "-$i" >"$dir/h1/.json"; i=$((i + 1))
done) &
writer=$!
mixed=0 && reads=0
while kill -0 "$writer" 2>/dev/null; do
  for h in h2 h3; do
    doc=$(cat "$dir/$h/.json") && x=${doc#*\"x\": } && x=${x%%,*} && y=${doc#*\"y\": } && y=${y%%,*}
    reads=$((reads + 1))
    [ "$y" -eq $((0 - x)) ] || [ "$x" -eq 5 ] || mixed=$((mixed + 1))
  done
done
wait "$writer"
eventually h2 y -150 && eventually h3 y -150
check "h2, h3 end at y" "-150 -150" "$(cat "$dir/h2/y") $(cat "$dir/h3/y")"
check "mixed .json reads on h2 and h3 (of $reads)" 0 "$mixed"

echo "== three hosts, 200 compare-and-set increments each"
echo 0 >"$dir/h1/x" && eventually h2 x 0 && eventually h3 x 0
start=$(fleet_now_ms)
loops=""
for h in h1 h2 h3; do
  (i=0; while [ $i -lt 200 ]; do add_one "$h" || exit 1; i=$((i + 1)); done) &
  loops="$loops $!"
done
for pid in $loops; do wait "$pid"; done  # not a bare wait: the daemons are children too
echo "600 increments in $(since "$start") ms"
for h in h1 h2 h3; do eventually "$h" x 600 || true; done
check "x on h1 h2 h3" "600 600 600" "$(cat "$dir/h1/x") $(cat "$dir/h2/x") $(cat "$dir/h3/x")"

echo "== a store to h1's mapping reaches h2's files and its poller"
python3 -c 'import os,select,sys
fd = os.open(sys.argv[1], os.O_RDONLY); os.pread(fd, 100, 0)
p = select.poll(); p.register(fd, select.POLLPRI)
sys.exit(0 if p.poll(5000) else "not woken in 5 s")' "$dir/h2/label" >"$dir/poll.out" 2>&1 &
poller=$!
sleep 0.3
python3 -c 'import mmap,os,sys; m=mmap.mmap(os.open(sys.argv[1],os.O_RDWR),0); m[12:20]=b"mapped\0\0"' \
  "/dev/shm/${seg_prefix}_h1"
eventually h2 label mapped
check "h2 reads the store to h1's mapping" mapped "$(cat "$dir/h2/label")"
wait "$poller"
check "h2's poller woke" 0 "$?"

echo "== members killed"
# A follower first: killing the leader costs an election (0.5-1.3 s here), which a write rides out
# only if etcd_timeout_ms outlasts it.
leader=$(fleet_leader) || leader=e1
for m in e1 e2 e3; do [ "$m" = "$leader" ] || { first=$m && break; }; done
fleet_kill_member "$first"
echo 11 >"$dir/h2/x" && eventually h1 x 11
check "one member down: writes go on" 11 "$(cat "$dir/h1/x")"
fleet_kill_member "$leader"
start=$(fleet_now_ms)
if /bin/echo 12 >"$dir/h2/x" 2>"$dir/err"; then check "a write with no quorum fails" failed stored; fi
took=$(since "$start")
if [ "$took" -le 6000 ]; then echo "ok: EIO in $took ms"; else check "EIO in 6 s" "<= 6000" "$took"; fi
check "the error" "Input/output error" "$(sed 's/.*: //' "$dir/err")"
check "reads serve the last state" 11 "$(cat "$dir/h2/x")"
i=0
until grep -q 'connected: no' "$dir/h2/.etcd"; do
  i=$((i + 1)); [ "$i" -lt 500 ] || break
  sleep 0.01
done
check ".etcd says so" "connected: no" "$(head -n 1 "$dir/h2/.etcd")"
fleet_start_member "$first" && fleet_start_member "$leader" && fleet_wait_healthy 30
i=0
until echo 13 >"$dir/h3/x" 2>/dev/null; do
  i=$((i + 1)); [ "$i" -lt 100 ] || break
  sleep 0.1
done
for h in h1 h2 h3; do eventually "$h" x 13 || true; done
check "members back: every host converges" "13 13 13" \
  "$(cat "$dir/h1/x") $(cat "$dir/h2/x") $(cat "$dir/h3/x")"

echo "== h3 cut off"
fleet_cut h3
if echo 20 >"$dir/h3/y" 2>/dev/null; then check "h3's write while cut off" fails stored; fi
echo 21 >"$dir/h1/y" && eventually h2 y 21
check "h3 cut off: h1 and h2 go on" 21 "$(cat "$dir/h2/y")"
python3 -c 'import mmap,os,sys; m=mmap.mmap(os.open(sys.argv[1],os.O_RDWR),0); m[12:20]=b"cutoff\0\0"' \
  "/dev/shm/${seg_prefix}_h3"
fleet_heal h3
eventually h3 y 21
check "h3 converges" 21 "$(cat "$dir/h3/y")"
eventually h1 label cutoff
check "what h3's mapping stored meanwhile is published" cutoff "$(cat "$dir/h1/label")"

echo "== another struct is refused"
mkdir -p "$dir/odd"
out=$(fleet_in h3 "$fieldfs" -o "schema=$dir/other.h,etcd=$(fleet_endpoints_escaped),etcd_key=$key" \
  "${seg_prefix}_odd" "$dir/odd" 2>&1)
status=$?
[ "$status" -ne 0 ] || check "another struct: exit status" "non-zero" "$status"
case $out in
  "fieldfs: etcd key $key holds another struct"*"refusing to join") echo "ok: $out" ;;
  *) check "another struct: one line" "fieldfs: etcd key $key holds another struct ..." "$out" ;;
esac

fleet_down
cleanup_dir
[ "$failures" -eq 0 ] || { echo "FAILED: $failures check(s)"; exit 1; }
echo "all fleet replication checks passed"
