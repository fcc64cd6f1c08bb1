#!/bin/sh
# SPDX-License-Identifier: MIT
# The fleet of the bench's etcd figures (bench/fleet_phases.py): tests/fleet/fleet_lib.sh's
# three-member etcd cluster and hosts h1 h2 h3 in network namespaces; in each host fieldfs
# -o schema=SCHEMA,seq=seq,etcd=...,etcd_key=KEY on segment SEG-hN, mounted on DIR/hN (the mounts
# are visible in this mount namespace: fleet_lib enters only the network namespace).
#   sh bench/fleet_hosts.sh FIELDFS SCHEMA SEG KEY DIR
# Prints "ready" when every mount's .etcd exists, then waits for standard input to close (the
# bench is done, or died) and unmounts, stops the daemons and the cluster, removes the
# namespaces and the segments. Exits 1, saying why, if the fleet does not come up.
set -u
here=$(cd "$(dirname "$0")" && pwd)
fieldfs=$1 schema=$2 seg=$3 key=$4 dir=$5
# shellcheck source=tests/fleet/fleet_lib.sh
. "$here/../tests/fleet/fleet_lib.sh"

unmount_all() {
  for h in $FLEET_HOSTS; do
    [ -d "$dir/$h" ] || continue
    fusermount3 -u "$dir/$h" 2>/dev/null || fusermount3 -uz "$dir/$h" 2>/dev/null
  done
}
remove_all() {
  for h in $FLEET_HOSTS; do
    rm -f "/dev/shm/$seg-$h"
    [ ! -d "$dir/$h" ] || rmdir "$dir/$h"
  done
}
FLEET_BEFORE_DOWN=unmount_all

fleet_up || exit 1
for h in $FLEET_HOSTS; do
  mkdir -p "$dir/$h"
  fleet_bg "$h" "$dir/$h.log" "$fieldfs" -f -o "schema=$schema,seq=seq" \
    -o "etcd=$(fleet_endpoints_escaped),etcd_key=$key" "$seg-$h" "$dir/$h"
done
for h in $FLEET_HOSTS; do
  i=0
  until [ -f "$dir/$h/.etcd" ]; do
    i=$((i + 1))
    [ "$i" -lt 1000 ] || { echo "$h did not mount:" && tail -n 5 "$dir/$h.log" && exit 1; }
    sleep 0.01
  done
done
echo ready
cat >/dev/null
fleet_down
remove_all
