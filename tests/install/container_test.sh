#!/bin/sh
# SPDX-License-Identifier: MIT
# A container keeps reading a field of the host's fieldfs@NAME unit while the host's daemon is
# SIGKILLed and started again by the unit's own ExecStartPre and ExecStart lines. The container
# is made of namespaces, as docker, podman and lxc make one: `unshare --mount --pid --fork`, the
# host's /run/fieldfs bind-mounted into it, then its propagation set as `-v ...:rslave` or
# docker's default (rprivate) sets it. Three cases:
#   shared  - the unit as written, container rslave: reads fail while the daemon is dead and
#             succeed again after the restart, in the same container process;
#   private - the unit without its shared-parent line, container rslave: the container keeps
#             the dead mount, "Transport endpoint is not connected" (lxcfs's bug);
#   rprivate - the unit as written, container rprivate: the same dead mount;
#   systemd - as shared, on a host whose /run is shared already (systemd makes / shared at
#             boot): the unit's bind of /run/fieldfs inside it changes nothing of the above.
# Each case runs in its own private mount namespace with a tmpfs on /run and /dev/shm, so the
# unit's /run/fieldfs is used as written and every mount dies with the namespace; every process
# is stopped by its PID.
#   sh tests/install/container_test.sh BUILT_FIELDFS UNIT
set -eu

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# wait_for WHAT COMMAND...: polls COMMAND for 10 s.
wait_for() {
  what=$1
  shift
  for _ in $(seq 100); do
    if "$@"; then return 0; fi
    sleep 0.1
  done
  fail "$what (10 s)"
}

is_mounted() {
  grep -q " $1 " /proc/self/mounts
}

# since MARK PATTERN: a line of the reader's log after line MARK matches PATTERN.
since() {
  tail -n "+$(($1 + 1))" "$log" | grep -q "$2"
}

# The container: its own mount and PID namespaces (a copy of the host's mounts made slaves, as
# runc makes them), the host's /run/fieldfs bound at $ctr with propagation $1, and a reader
# that cats the field every 50 ms for as long as the container lives.
container() {
  # shellcheck disable=SC2016 # the container's shell expands them
  exec unshare --mount --propagation slave --pid --fork --kill-child sh -c '
    mount --rbind /run/fieldfs "$1" && mount --make-"$2" "$1" || exit 1
    while :; do
      if v=$(cat "$1/$3/bar" 2>&1); then echo "ok $v"; else echo "err $v"; fi
      sleep 0.05
    done' container "$ctr" "$1" "$inst" >>"$log" 2>&1
}

stop_all() {
  for pid in $reader $daemon; do
    kill -KILL "$pid" && wait "$pid"
  done 2>/dev/null || true
}

# The host's side of one case, in a private mount namespace: start the unit, start the
# container, SIGKILL the daemon, start the unit again, and see what the container reads.
run_case() {
  case=$1 unit=$2 propagation=$3 expect=$4 host_run=${5:-private}
  inst="fieldfs_ctr_$$" ctr="$work/$case.ctr" log="$work/$case.log"
  daemon='' reader=''
  trap stop_all EXIT
  mount -t tmpfs tmpfs /run
  mount --make-"$host_run" /run
  mount -t tmpfs tmpfs /dev/shm
  mkdir -p "/run/fieldfs/$inst" "$ctr" # RuntimeDirectory=fieldfs/%I
  : >"$log"
  # shellcheck source=tests/install/unit_exec.sh
  . "$(dirname "$0")/unit_exec.sh"
  unit_env "$unit" "$inst"
  mnt=/run/fieldfs/$inst
  start() {
    unit_run "$unit" "$inst" ExecStartPre || fail "$case: ExecStartPre failed"
    (unit_run "$unit" "$inst" ExecStart exec) &
    daemon=$!
    wait_for "$case: ExecStart did not mount $mnt" is_mounted "$mnt"
  }
  start
  echo 12 >"$mnt/bar"
  container "$propagation" &
  reader=$!
  wait_for "$case: the container never read 12" since 0 '^ok 12$'
  kill -KILL "$daemon"
  wait "$daemon" 2>/dev/null || true
  mark=$(wc -l <"$log")
  wait_for "$case: the container's reads did not fail with the daemon dead" \
    since "$mark" 'Transport endpoint is not connected'
  start
  echo 13 >"$mnt/bar"
  [ "$(cat "$mnt/bar")" = 13 ] || fail "$case: the host does not read its own restarted mount"
  if [ "$expect" = back ]; then
    wait_for "$case: the container never read the restarted daemon's 13" since "$mark" '^ok 13$'
    kill -0 "$reader" 2>/dev/null || fail "$case: the container's reader died"
    [ "$(findmnt -no PROPAGATION /run/fieldfs)" = shared ] || fail "$case: /run/fieldfs not shared"
    [ "$(grep -c ' /run/fieldfs ' /proc/self/mounts)" = 1 ] ||
      fail "$case: a restart stacked another /run/fieldfs mount"
    echo "ok: $case: the container reads the restarted daemon, without a restart of its own"
  else
    sleep 1.5
    if since "$mark" '^ok'; then fail "$case: the container read the restarted daemon"; fi
    tail -n 1 "$log" | grep -q 'Transport endpoint is not connected' ||
      fail "$case: expected 'Transport endpoint is not connected', got: $(tail -n 1 "$log")"
    echo "ok: $case: the container keeps the dead mount (Transport endpoint is not connected)"
  fi
  kill -KILL "$reader" # unshare --kill-child: the container's PID 1, and so all in it, dies
  wait "$reader" 2>/dev/null || true
  reader=
  unit_run "$unit" "$inst" ExecStop || fail "$case: ExecStop failed"
  status=0
  wait "$daemon" || status=$?
  daemon=
  [ "$status" = 0 ] || fail "$case: the daemon exited $status after ExecStop"
  unit_run "$unit" "$inst" ExecStopPost || fail "$case: ExecStopPost failed"
  if is_mounted "$mnt"; then fail "$case: ExecStop left $mnt mounted"; fi
}

if [ "${1:-}" = --case ]; then
  shift
  work=$1
  shift
  run_case "$@"
  exit
fi

fieldfs=$1 unit=$2
[ "$(id -u)" = 0 ] || fail "must run as root (mount and PID namespaces, mount --make-rshared)"
[ -c /dev/fuse ] || fail "/dev/fuse is missing"
PATH="$(cd "$(dirname "$fieldfs")" && pwd):$PATH"
export PATH
work=$(mktemp -d "${TMPDIR:-/tmp}/fieldfs-container-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
sed '/make-rshared/d' "$unit" >"$work/unshared.service"

in_namespace() {
  unshare --mount --propagation private sh "$0" --case "$work" "$@"
}
in_namespace private "$work/unshared.service" rslave stale
in_namespace shared "$unit" rslave back
in_namespace rprivate "$unit" rprivate stale
in_namespace systemd "$unit" rslave back shared
echo PASS
