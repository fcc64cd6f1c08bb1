#!/bin/sh
# SPDX-License-Identifier: MIT
# The fleet harness (tests/fleet/fleet_lib.sh, issue 15) gives the fleet tests what they rely on,
# with etcdctl run in the hosts' namespaces as the oracle:
#   - the root namespace gets no address on the fleet's /24 and cannot reach a member;
#   - ONE cluster of 3 members (same cluster ID from each member alone, member list as built);
#   - a put from h1 is read from h2 and h3, and is in every member's own store;
#   - the leader killed: a put succeeds again within a bound (the failover time is printed);
#   - the new leader killed too (no quorum): a put fails within a bound;
#   - both restarted on their data: healthy, same members, the last acknowledged value, and
#     nothing of the failed put;
#   - h3 cut off: its reads fail within a bound, h1 still writes; healed: h3 reads h1's write;
#   - with a fieldfs binary given: fieldfs started by fleet_bg runs in h1's network namespace and
#     its mount is seen from the test's mount namespace (nsenter --net); fleet_down unmounts it
#     through FLEET_BEFORE_DOWN and the daemon exits;
#   - fleet_down leaves no namespace, process or temporary directory, and a second call is a no-op.
#   sh tests/fleet/cluster_test.sh [FIELDFS]          (as root; exit 77 when not root)
set -u
here=$(cd "$(dirname "$0")" && pwd)
fieldfs=${1:-}
[ "$(id -u)" -eq 0 ] || { echo "skipped: needs root (network namespaces)" && exit 77; }
if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
  "$here/../../scripts/install-deps" || exit 1
fi

failures=0
# shellcheck source=/dev/null  # tests/mount/check.sh: check()
. "$here/../mount/check.sh"
# shellcheck source=tests/fleet/fleet_lib.sh
. "$here/fleet_lib.sh"

die() {
  echo "FAILED: $*"
  exit 1
}
since() { echo $(($(fleet_now_ms) - $1)); }
# within WHAT MS BOUND: checks MS <= BOUND
within() {
  if [ "$2" -le "$3" ]; then
    echo "ok: $1 in $2 ms (bound $3)"
  else
    check "$1 within $3 ms" "<= $3" "$2"
  fi
}
# get NODE [ENDPOINT]: the value of fleet/k read from NODE (a linearizable read from every
# member by default; with ENDPOINT, a serializable read from that member's own store)
get() {
  if [ $# -eq 1 ]; then
    fleet_ctl "$1" get --print-value-only fleet/k 2>&1
  else
    fleet_in "$1" timeout 5 etcdctl --endpoints="$2" --dial-timeout=1s --command-timeout=1s \
      get --consistency=s --print-value-only fleet/k 2>&1
  fi
}
# in_every_store VALUE: whether each member's own store holds VALUE, within 3 s
in_every_store() {
  for m in 11 12 13; do
    i=0
    until [ "$(get h2 "http://$FLEET_NET.$m:2379")" = "$1" ]; do
      i=$((i + 1)) && [ "$i" -lt 30 ] || return 1
      sleep 0.1
    done
  done
}
members() { fleet_ctl h1 member list 2>&1 | sort -t, -k3,3; } # by name
# retry MS CMD...: runs CMD until it succeeds or MS have passed; its output (the last line) in
# $out, the failed tries in $tries
retry() {
  end=$(($(fleet_now_ms) + $1)) && shift && tries=0
  until out=$("$@" 2>&1); do
    tries=$((tries + 1))
    [ "$(fleet_now_ms)" -lt "$end" ] || break
    sleep 0.05
  done
  out=$(echo "$out" | tail -n 1)
}
# quick NODE ARGS...: fleet_ctl with a 500 ms command timeout (run by retry, in a subshell)
quick() {
  FLEET_CTL_TIMEOUT=500ms
  fleet_ctl "$@"
}
last() { echo "$1" | tail -n 1; }

t_start=$(fleet_now_ms)
fleet_up || die "fleet_up"
echo "fleet up on $FLEET_NET.0/24 in $(since "$t_start") ms"
dir=$FLEET_DIR

# --- fieldfs in h1: its network namespace, the test's mount namespace --------------------------
seg="fieldfs-fleet-test-$$"
mnt=
# shellcheck disable=SC2317  # run by fleet_down
unmount() {
  if mountpoint -q "$mnt"; then fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -uz "$mnt"; fi
  rm -f "/dev/shm/$seg"
  rmdir "$mnt"
}
if [ -n "$fieldfs" ]; then
  mnt=$(mktemp -d "${TMPDIR:-/tmp}/fieldfs-fleettest-mnt.XXXXXX") && FLEET_BEFORE_DOWN=unmount
  fleet_bg h1 "$dir/fieldfs.log" "$fieldfs" -f "$seg" "$mnt"
  daemon=$FLEET_BG_PID
  i=0
  while ! mountpoint -q "$mnt" && [ "$i" -lt 100 ]; do i=$((i + 1)) && sleep 0.1; done
  check "fieldfs started in h1 is mounted here" yes "$(mountpoint -q "$mnt" && echo yes)"
  check "its daemon's network namespace" "$(fleet_ns h1)" "$(ip netns identify "$daemon")"
  echo 42 >"$mnt/bar"
  check "cat bar after echo 42 > bar" 42 "$(cat "$mnt/bar")"
fi

# --- isolation from the root namespace, one cluster -------------------------------------------
check "root namespace addresses on $FLEET_NET.0/24" "" \
  "$(ip -4 -o addr show | grep -F " $FLEET_NET.")"
timeout 5 etcdctl --endpoints="http://$FLEET_NET.11:2379" --dial-timeout=1s --command-timeout=1s \
  endpoint health >/dev/null 2>&1
check "the root namespace cannot reach e1 (etcdctl's status)" 1 "$?"
ids=
for m in 11 12 13; do
  ids="$ids${ids:+ }$(fleet_in h1 timeout 5 etcdctl --endpoints="http://$FLEET_NET.$m:2379" \
    endpoint status -w json 2>&1 | sed -n 's/.*"cluster_id":\([0-9]*\).*/\1/p')"
done
# shellcheck disable=SC2086  # the IDs are meant to split into words
set -- $ids
check "each member alone names one and the same cluster" "3 $1 $1 $1" "$# $ids"
before=$(members)
check "member list: e1 e2 e3 started on their addresses" \
  "e1 http://$FLEET_NET.11:2379 e2 http://$FLEET_NET.12:2379 e3 http://$FLEET_NET.13:2379" \
  "$(echo "$before" | awk -F', ' '$2 == "started" { printf "%s%s %s", s, $3, $5; s = " " }')"

# --- replication --------------------------------------------------------------------------------
check "put v1 from h1" OK "$(fleet_ctl h1 put fleet/k v1 2>&1)"
check "h2 reads v1" v1 "$(get h2)"
check "h3 reads v1" v1 "$(get h3)"
in_every_store v1
check "v1 is in each member's own store (serializable reads, 3 s)" 0 "$?"

# --- one member down: a follower, then the leader (the cluster must elect) --------------------
l1=$(fleet_leader) || die "no leader"
for f in e1 e2 e3; do [ "$f" = "$l1" ] || break; done
fleet_kill_member "$f"
t=$(fleet_now_ms)
retry 10000 quick h1 put fleet/k v2
check "put v2 with the follower $f killed" OK "$out"
within "follower $f killed -> a put succeeds ($tries failed tries)" "$(since "$t")" 10000
fleet_start_member "$f" && fleet_wait_healthy 30
check "$f restarted: healthy" 0 "$?"
fleet_kill_member "$l1"
t=$(fleet_now_ms)
retry 10000 quick h1 put fleet/k v2
check "put v2 with the leader $l1 killed" OK "$out"
within "failover: leader $l1 killed -> a put succeeds ($tries failed tries)" "$(since "$t")" 10000
check "h3 reads v2 with 2 members" v2 "$(get h3)"
l2=$(fleet_leader) || die "no leader after $l1 was killed"
echo "ok: $l2 leads after $l1 was killed"

# --- two down: no quorum. Killing the leader again leaves a follower with no leader: a
# proposal is dropped, never logged, so the failed put can leave no trace. ----------------------
fleet_kill_member "$l2"
t=$(fleet_now_ms)
out=$(FLEET_CTL_TIMEOUT=2s fleet_ctl h1 put fleet/k v3 2>&1)
check "put v3 with $l1 and $l2 killed fails (etcdctl's status)" 1 "$?"
within "the failed put returns ($(last "$out"))" "$(since "$t")" 4000

# --- both back on their data: the same members, the last acknowledged value ------------------
t=$(fleet_now_ms)
fleet_start_member "$l1" && fleet_start_member "$l2"
fleet_wait_healthy 30
check "fleet_wait_healthy after restarting $l1 and $l2" 0 "$?"
within "restart -> every member healthy" "$(since "$t")" 30000
check "member list after the restart is the one before" "$before" "$(members)"
if [ -n "$fieldfs" ]; then
  check "fieldfs in h1 still serves bar" 42 "$(cat "$mnt/bar")"
fi
check "h2 reads v2, not the failed v3" v2 "$(get h2)"
in_every_store v2
check "v2 is in each member's own store after the restart" 0 "$?"

# --- h3 cut off, then healed ---------------------------------------------------------------------
fleet_cut h3
t=$(fleet_now_ms)
out=$(get h3)
check "h3 cut off: its read fails (etcdctl's status)" 1 "$?"
within "h3's failed read returns ($(last "$out"))" "$(since "$t")" 4000
check "h1 still puts v4 while h3 is cut off" OK "$(fleet_ctl h1 put fleet/k v4 2>&1)"
fleet_heal h3
t=$(fleet_now_ms)
retry 10000 quick h3 get --print-value-only fleet/k
check "h3 healed reads v4" v4 "$out"
within "heal -> h3 reads ($tries failed tries)" "$(since "$t")" 10000

# the elections: the first, after each leader killed, after the restart; more are spurious
echo "raft term at the end: $(fleet_ctl h1 endpoint status 2>&1 | awk -F', ' '{ print $7 }' |
  sort -u | tr '\n' ' ')(4 when no election was spurious)"

# --- fleet_down leaves nothing ------------------------------------------------------------------
fleet_down
if [ -n "$fieldfs" ]; then
  check "fieldfs unmounted by fleet_down" no "$([ -e "$mnt" ] && echo yes || echo no)"
  check "its daemon reaped" "" "$(ps -o pid= -p "$daemon")"
  check "its segment removed" no "$([ -e "/dev/shm/$seg" ] && echo yes || echo no)"
fi
check "namespaces left" "" "$(ip netns list | grep "^fieldfs-fleet-$$-")"
check "processes left with the fleet's directory in their command line" "" \
  "$(pgrep -af "$dir")"
check "temporary directory left" no "$([ -e "$dir" ] && echo yes || echo no)"
fleet_down
check "a second fleet_down" 0 "$?"
echo "the whole test: $(since "$t_start") ms"
[ "$failures" -eq 0 ] || die "$failures check(s) failed"
echo "all checks passed"
