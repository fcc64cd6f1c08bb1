#!/bin/sh
# SPDX-License-Identifier: MIT
# shellcheck shell=sh
# A fleet in network namespaces for the etcd tests (SPEC §9, issue 15). Sourced, not run:
#   . tests/fleet/fleet_lib.sh && fleet_up
# builds, in namespaces this shell creates and owns (named fieldfs-fleet-PID-NAME):
#   sw        a "switch": a bridge br0 in a namespace of its own, so nothing touches the host's
#             network (no link, address or route is added to the root namespace);
#   e1 e2 e3  the members of ONE etcd cluster, each in its namespace, on eth0 = NET.11-13/24,
#             listening there only (clients :2379, peers :2380), data in a temporary directory;
#   h1 h2 h3  the "hosts", each in its namespace, on eth0 = NET.21-23/24, where fieldfs runs.
# Every node's eth0 is a veth whose peer, named after the node, is a port of br0 in sw; fleet_cut
# sets that port down (a pulled cable: the node's packets vanish, no RST), fleet_heal sets it up.
# NET is the first 10.213.X (FLEET_NET_BASE) that no address or route of this machine mentions.
# Raft: heartbeat FLEET_HEARTBEAT_MS (50), election timeout FLEET_ELECTION_MS (500), pre-vote on
# (a member coming back does not depose the leader): a killed leader is replaced in 0.5-1.3 s.
# Start fieldfs in a host with fleet_in or fleet_bg (nsenter --net, not `ip netns exec`, which
# also enters a new mount namespace: tests/remote/sshfs_test.sh says why that hides the mount).
# fleet_up installs an EXIT trap (INT, TERM, HUP exit through it) that calls fleet_down, after
# the command named by FLEET_BEFORE_DOWN if set (unmount there). Call the functions that start or
# stop processes in the shell that ran fleet_up, not in $(...): they must stay its children.
# Needs root, etcd (etcd-server), etcdctl (etcd-client), ip (iproute2), nsenter, GNU coreutils.

FLEET_ID=$$
FLEET_MEMBERS="e1 e2 e3"
FLEET_HOSTS="h1 h2 h3"
FLEET_DIR=
FLEET_NET=
FLEET_BG_PID=
: "${FLEET_NET_BASE:=10.213}"
: "${FLEET_HEARTBEAT_MS:=50}" "${FLEET_ELECTION_MS:=500}"
: "${FLEET_CTL_TIMEOUT:=2s}" "${FLEET_BOUND:=10}"

fleet__log() { echo "fleet: $*" >&2; }

## fleet_ns NAME: the network namespace's name for node NAME (sw, e1..e3, h1..h3).
fleet_ns() { echo "fieldfs-fleet-$FLEET_ID-$1"; }

## fleet_ip NAME: the node's address on the fleet's /24.
fleet_ip() {
  case $1 in
    e[1-3]) echo "$FLEET_NET.1${1#e}" ;;
    h[1-3]) echo "$FLEET_NET.2${1#h}" ;;
    *) fleet__log "no node $1" && return 1 ;;
  esac
}

## fleet_now_ms: milliseconds since the epoch.
fleet_now_ms() { date +%s%3N; }

## fleet_in NAME CMD...: runs CMD in node NAME's network namespace only (its mounts are the host's).
fleet_in() {
  _fi_ns=$(fleet_ns "$1") && shift && nsenter --net="/run/netns/$_fi_ns" "$@"
}

## fleet_endpoints: the members' client URLs, comma-separated (etcdctl --endpoints=).
fleet_endpoints() {
  _fe_out=
  for _fe_m in $FLEET_MEMBERS; do
    _fe_out="$_fe_out${_fe_out:+,}http://$(fleet_ip "$_fe_m"):2379"
  done
  echo "$_fe_out"
}

## fleet_endpoints_escaped: the same separated by '\,', as fieldfs -o etcd= takes them.
fleet_endpoints_escaped() { fleet_endpoints | sed 's/,/\\,/g'; }

## fleet_ctl NAME ARGS...: etcdctl ARGS in node NAME against every member, dial 1 s, command
## FLEET_CTL_TIMEOUT, the whole at most FLEET_BOUND seconds.
fleet_ctl() {
  _fc_node=$1 && shift
  timeout -k 1 "$FLEET_BOUND" nsenter --net="/run/netns/$(fleet_ns "$_fc_node")" etcdctl \
    --endpoints="$(fleet_endpoints)" --dial-timeout=1s --command-timeout="$FLEET_CTL_TIMEOUT" "$@"
}

## fleet_alive PID: whether PID runs in one of this fleet's namespaces (a recycled PID does not).
fleet_alive() {
  case $(ip netns identify "$1" 2>/dev/null) in
    "fieldfs-fleet-$FLEET_ID-"*) return 0 ;;
    *) return 1 ;;
  esac
}

## fleet_member_pid N: the PID of member N's etcd, empty when it does not run.
fleet_member_pid() {
  [ -f "$FLEET_DIR/$1.pid" ] || return 0
  _fp_pid=$(cat "$FLEET_DIR/$1.pid")
  if fleet_alive "$_fp_pid"; then echo "$_fp_pid"; fi
}

## fleet_start_member N: starts member N's etcd on its data dir (a new cluster member the first
## time, a restart that rejoins afterwards); does not wait.
fleet_start_member() {
  _fs_ip=$(fleet_ip "$1") || return 1
  [ -z "$(fleet_member_pid "$1")" ] || { fleet__log "$1 already runs" && return 1; }
  _fs_cluster=
  for _fs_m in $FLEET_MEMBERS; do
    _fs_cluster="$_fs_cluster${_fs_cluster:+,}$_fs_m=http://$(fleet_ip "$_fs_m"):2380"
  done
  nsenter --net="/run/netns/$(fleet_ns "$1")" etcd --name "$1" --data-dir "$FLEET_DIR/$1.data" \
    --listen-client-urls "http://$_fs_ip:2379" --advertise-client-urls "http://$_fs_ip:2379" \
    --listen-peer-urls "http://$_fs_ip:2380" --initial-advertise-peer-urls "http://$_fs_ip:2380" \
    --initial-cluster "$_fs_cluster" --initial-cluster-state new \
    --initial-cluster-token "fieldfs-fleet-$FLEET_ID-${FLEET_DIR##*.}" \
    --heartbeat-interval "$FLEET_HEARTBEAT_MS" --election-timeout "$FLEET_ELECTION_MS" \
    --pre-vote --logger zap --log-outputs stderr </dev/null >>"$FLEET_DIR/$1.log" 2>&1 &
  echo "$!" >"$FLEET_DIR/$1.pid"
}

## fleet_kill_member N [SIGNAL]: fleet_stop on member N's etcd, with KILL by default (a crash).
fleet_kill_member() {
  _fk_pid=$(fleet_member_pid "$1")
  rm -f "$FLEET_DIR/$1.pid"
  [ -z "$_fk_pid" ] || fleet_stop "$_fk_pid" "${2:-KILL}"
}

## fleet_cut NAME / fleet_heal NAME: sets the switch's port to node NAME down / up.
fleet_cut() { ip -n "$(fleet_ns sw)" link set "$1" down; }
fleet_heal() { ip -n "$(fleet_ns sw)" link set "$1" up; }

## fleet_member_healthy N: whether member N answers a linearizable read (it is in a quorum).
fleet_member_healthy() {
  timeout -k 1 5 nsenter --net="/run/netns/$(fleet_ns "$1")" etcdctl \
    --endpoints="http://$(fleet_ip "$1"):2379" --dial-timeout=1s --command-timeout=1s \
    endpoint health >/dev/null 2>&1
}

## fleet_wait_healthy [SECONDS]: waits (default 20 s) until every running member is healthy;
## 1 if none runs or the bound passes.
fleet_wait_healthy() {
  _fw_end=$(($(fleet_now_ms) + ${1:-20} * 1000))
  while :; do
    _fw_live=0 _fw_ok=0
    for _fw_m in $FLEET_MEMBERS; do
      [ -n "$(fleet_member_pid "$_fw_m")" ] || continue
      _fw_live=$((_fw_live + 1))
      fleet_member_healthy "$_fw_m" && _fw_ok=$((_fw_ok + 1))
    done
    [ "$_fw_live" -gt 0 ] && [ "$_fw_ok" -eq "$_fw_live" ] && return 0
    [ "$(fleet_now_ms)" -lt "$_fw_end" ] || break
    sleep 0.1
  done
  fleet__log "not healthy after ${1:-20} s: $_fw_ok of $_fw_live running members"
  return 1
}

## fleet_leader: the name of the member that is the Raft leader, by its own account.
fleet_leader() {
  for _fl_m in $FLEET_MEMBERS; do
    [ -n "$(fleet_member_pid "$_fl_m")" ] || continue
    timeout -k 1 5 nsenter --net="/run/netns/$(fleet_ns "$_fl_m")" etcdctl \
      --endpoints="http://$(fleet_ip "$_fl_m"):2379" --dial-timeout=1s --command-timeout=1s \
      endpoint status 2>/dev/null | awk -F', ' '$5 == "true" { found = 1 } END { exit !found }' &&
      echo "$_fl_m" && return 0
  done
  return 1
}

## fleet_bg NAME LOG CMD...: starts CMD in node NAME's network namespace in the background, its
## output to LOG; its PID in FLEET_BG_PID. fleet_down stops it (TERM, then KILL after 5 s).
fleet_bg() {
  _fb_ns=$(fleet_ns "$1") && _fb_log=$2 && shift 2
  nsenter --net="/run/netns/$_fb_ns" "$@" </dev/null >>"$_fb_log" 2>&1 &
  FLEET_BG_PID=$!
  echo "$FLEET_BG_PID" >>"$FLEET_DIR/bg.pids"
}

## fleet_stop PID [SIGNAL]: sends SIGNAL (default TERM), KILL after 5 s, then reaps; only a PID
## in this fleet's namespaces.
fleet_stop() {
  fleet_alive "$1" || { wait "$1" 2>/dev/null; return 0; }
  kill "-${2:-TERM}" "$1" 2>/dev/null
  for _ft_i in $(seq 50); do
    fleet_alive "$1" || break
    [ "$_ft_i" -eq 50 ] && fleet__log "PID $1 still runs 5 s after ${2:-TERM}: KILL" &&
      kill -KILL "$1"
    sleep 0.1
  done
  wait "$1" 2>/dev/null
  return 0
}

fleet__pick_net() {
  _fn_used=$(ip -4 -o addr show && ip -4 route show table all) || return 1
  for _fn_i in $(seq 0 255); do
    case $_fn_used in
      *"$FLEET_NET_BASE.$_fn_i."*) ;;
      *) FLEET_NET=$FLEET_NET_BASE.$_fn_i && return 0 ;;
    esac
  done
  fleet__log "no unused /24 in $FLEET_NET_BASE.0.0/16" && return 1
}

# fleet__node NAME: NAME's namespace, its eth0 on the fleet's /24, the peer a port of br0.
fleet__node() {
  _fo_ns=$(fleet_ns "$1") && _fo_sw=$(fleet_ns sw)
  ip netns add "$_fo_ns" &&
    ip -n "$_fo_sw" link add "$1" type veth peer name eth0 netns "$_fo_ns" &&
    ip -n "$_fo_sw" link set "$1" master br0 up &&
    ip -n "$_fo_ns" link set lo up &&
    ip -n "$_fo_ns" addr add "$(fleet_ip "$1")/24" dev eth0 &&
    ip -n "$_fo_ns" link set eth0 up
}

# fleet__reap_stale: what fleets of shells that no longer exist left (a SIGKILLed test):
# their processes (by PID, found in their namespaces), namespaces and temporary directories.
fleet__reap_stale() {
  for _fr_ns in $(ip netns list | awk '/^fieldfs-fleet-[0-9]+-/ { print $1 }'); do
    _fr_pid=${_fr_ns#fieldfs-fleet-} && _fr_pid=${_fr_pid%%-*}
    [ -d "/proc/$_fr_pid" ] && continue
    fleet__log "removing $_fr_ns, left by PID $_fr_pid"
    for _fr_p in $(ip netns pids "$_fr_ns"); do kill -KILL "$_fr_p"; done
    ip netns del "$_fr_ns"
  done
  for _fr_d in "${TMPDIR:-/tmp}"/fieldfs-fleet-*.*; do
    _fr_pid=${_fr_d##*/fieldfs-fleet-} && _fr_pid=${_fr_pid%%.*}
    case $_fr_pid in '' | *[!0-9]*) continue ;; esac
    [ -d "$_fr_d" ] && [ ! -d "/proc/$_fr_pid" ] && rm -rf "$_fr_d"
  done
  return 0
}

fleet__on_exit() {
  _fx_status=$?
  fleet_down
  exit "$_fx_status"
}

## fleet_up: builds the switch, the members and the hosts, starts the cluster and waits until
## it is healthy (FLEET_UP_BOUND seconds, default 30); 1, saying why, if it cannot.
fleet_up() {
  [ -z "$FLEET_DIR" ] || { fleet__log "already up ($FLEET_DIR)" && return 1; }
  [ "$(id -u)" -eq 0 ] || { fleet__log "needs root (namespaces, veths)" && return 1; }
  for _fu_c in etcd etcdctl ip nsenter timeout; do
    command -v "$_fu_c" >/dev/null || { fleet__log "$_fu_c is missing" && return 1; }
  done
  trap fleet__on_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
  fleet__reap_stale
  FLEET_DIR=$(mktemp -d "${TMPDIR:-/tmp}/fieldfs-fleet-$FLEET_ID.XXXXXX") || return 1
  fleet__pick_net || return 1
  _fu_sw=$(fleet_ns sw)
  ip netns add "$_fu_sw" && ip -n "$_fu_sw" link set lo up &&
    ip -n "$_fu_sw" link add br0 type bridge && ip -n "$_fu_sw" link set br0 up || return 1
  for _fu_n in $FLEET_MEMBERS $FLEET_HOSTS; do
    fleet__node "$_fu_n" || { fleet__log "cannot build node $_fu_n" && return 1; }
  done
  for _fu_m in $FLEET_MEMBERS; do fleet_start_member "$_fu_m" || return 1; done
  fleet_wait_healthy "${FLEET_UP_BOUND:-30}" || { tail -n 5 "$FLEET_DIR"/e?.log >&2; return 1; }
}

## fleet_down: runs FLEET_BEFORE_DOWN, stops fleet_bg's processes and the members, kills what
## else runs in the fleet's namespaces (saying so), deletes the namespaces (and with them the
## veths and the bridge) and the temporary directory. Does nothing the second time.
fleet_down() {
  [ -n "$FLEET_DIR" ] || return 0
  if [ -n "${FLEET_BEFORE_DOWN:-}" ]; then
    _fd_hook=$FLEET_BEFORE_DOWN && FLEET_BEFORE_DOWN= && "$_fd_hook"
  fi
  if [ -f "$FLEET_DIR/bg.pids" ]; then
    while read -r _fd_p; do fleet_stop "$_fd_p"; done <"$FLEET_DIR/bg.pids"
  fi
  for _fd_m in $FLEET_MEMBERS; do fleet_kill_member "$_fd_m"; done
  for _fd_n in $FLEET_HOSTS $FLEET_MEMBERS sw; do
    _fd_ns=$(fleet_ns "$_fd_n")
    [ -e "/run/netns/$_fd_ns" ] || continue
    for _fd_p in $(ip netns pids "$_fd_ns"); do
      fleet__log "killing PID $_fd_p, left running in $_fd_ns" && kill -KILL "$_fd_p"
    done
    ip netns del "$_fd_ns"
  done
  rm -rf "$FLEET_DIR"
  FLEET_DIR=
}
