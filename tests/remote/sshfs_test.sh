#!/bin/sh
# SPDX-License-Identifier: MIT
# fieldfs across machines: a second host reads and writes fields through sshfs over SSH.
#
# The "server host" is a network namespace this test creates (fieldfs-srv-PID), joined to the
# host by a veth pair it also creates, on a /30 from 10.231.0.0/16 that it checks is unused
# here. Inside it run fieldfs (on struct foo, from a fresh shm segment) and an sshd of our own
# (throwaway host key and client key in a temporary directory, private config, listening only
# on the namespace's veth address). The host namespace is the "client host": it mounts the
# server's fieldfs directory with sshfs over the veth, with every cache off, and checks that
#   - cat on the client gives what the segment holds,
#   - a store made on the server (to the mapping, or echo on the server's mount) is seen by
#     the very next client read, and a client write is in the mapping when it returns,
#   - invalid writes fail on the client with the errno the README's table says sshfs turns each
#     one into, and leave the old value,
#   - a second, "lean" sshfs mount that keeps the name and attribute caches (the tree never
#     changes) but not the page cache nor asynchronous writes passes the same freshness checks,
# then measures per-operation latency (open + read to EOF + close like cat(1), and
# open(O_TRUNC) + write + close like echo >) through sshfs and, in the same run, directly on
# the fieldfs mount, and prints medians, worsts and ratios. FIELDFS_SSHFS_N sets the number of
# repetitions (default 200).
#
# Run as root. Installs sshfs, openssh-server, iproute2 and fuse3 only if missing. Everything it made
# (mounts, sshd and its sessions, fieldfs, the namespace and the veth pair, the temporary
# directory, the segment) is removed on exit, whatever happened. Exit status 0 when every check
# passed and the fieldfs daemon exited 0 after its unmount; one line per check ("ok: ..." or
# "FAIL: ...").
#
# Why fieldfs is started with nsenter --net and not ip netns exec: `ip netns exec` also enters
# a new mount namespace (to remount /sys), so a FUSE mount made under it is seen neither by the
# host nor by another `ip netns exec` (the sshd). nsenter --net changes only the network
# namespace: the fieldfs mount lives in the host's mount namespace, and the sshd, started
# afterwards under `ip netns exec`, gets a copy of it. The host also sees the server's mount (the
# test uses it for the baseline and for server-side writes), but sshfs reaches the files only
# through ssh to 10.231.N.2, over the veth.
set -eu

n_ops=${FIELDFS_SSHFS_N:-200}
here=$(cd "$(dirname "$0")/../.." && pwd)

fail_count=0
ok() { echo "ok: $*"; }
bad() {
  echo "FAIL: $*"
  fail_count=$((fail_count + 1))
}
die() {
  echo "FAIL: $*"
  exit 1
}
# check WHAT EXPECTED ACTUAL
check() {
  if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: expected '$2', got '$3'"; fi
}
names() { # the entries of a directory, sorted, on one line
  _out=""
  for _f in "$1"/*; do _out="$_out ${_f##*/}"; done
  echo "${_out# }"
}
is_mounted() {
  grep -q " $1 " /proc/self/mounts
}

[ "$(id -u)" -eq 0 ] || die "run as root (network namespaces, veth, sshd)"

# --- what it needs, installed only if missing ------------------------------------------------
FIELDFS_EXTRA_PACKAGES="sshfs openssh-server iproute2" "$here/scripts/install-deps"
[ -c /dev/fuse ] || die "/dev/fuse is missing: this machine cannot mount FUSE filesystems"

fieldfs=${FIELDFS:-}
if [ -z "$fieldfs" ]; then
  for f in "$here/build/release/fieldfs" "$here/build/fieldfs"; do
    if [ -x "$f" ]; then fieldfs=$f && break; fi
  done
fi
if [ -z "$fieldfs" ]; then
  (cd "$here" && cmake --preset release >/dev/null && cmake --build --preset release >/dev/null)
  fieldfs="$here/build/release/fieldfs"
fi
[ -x "$fieldfs" ] || die "no fieldfs binary ($fieldfs)"

# --- names, and a /30 nobody uses ------------------------------------------------------------
ns="fieldfs-srv-$$"
veth_host="ffs$$h" # at most 15 characters
veth_srv="ffs$$s"
seg="fieldfs-sshfs-$$"
net=""
used=$(ip -4 -o addr show; ip -4 route show table all)
for i in $(seq 0 255); do
  case $used in
    *"10.231.$i."*) ;;
    *) net="10.231.$i" && break ;;
  esac
done
[ -n "$net" ] || die "no free /30 in 10.231.0.0/16"
host_ip="$net.1"
srv_ip="$net.2"

tmp=""
sshd_pid=""
fieldfs_pid=""
sshfs_pids=""
made_run_sshd=0
daemon_failed=0

# the processes in our namespace other than the sshd listener and fieldfs: ssh sessions
sessions() {
  [ -e "/run/netns/$ns" ] || return 0
  for p in $(ip netns pids "$ns" 2>/dev/null); do
    [ "$p" = "$sshd_pid" ] || [ "$p" = "$fieldfs_pid" ] || echo "$p"
  done
}

cleanup() {
  status=$?
  set +e
  # 1. the client's sshfs mounts (their ssh connections close with them)
  for m in "$tmp/client" "$tmp/client_lean"; do
    if [ -n "$tmp" ] && is_mounted "$m"; then
      fusermount3 -u "$m" 2>/dev/null || fusermount3 -uz "$m"
    fi
  done
  for p in $sshfs_pids; do
    kill "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  # 2. sshd and every session process it forked: all of them live in our namespace and hold a
  #    copy of the fieldfs mount (which keeps the FUSE connection alive), so they go first.
  #    The sessions end by themselves once their ssh client is gone; let sshd reap them.
  for _ in $(seq 30); do
    [ -z "$(sessions)" ] && break
    sleep 0.1
  done
  for p in $(sessions); do kill "$p" 2>/dev/null; done
  sleep 0.1
  if [ -n "$sshd_pid" ]; then
    kill "$sshd_pid" 2>/dev/null
    wait "$sshd_pid" 2>/dev/null
  fi
  # 3. fieldfs: unmount (the daemon then exits 0), lazily if it must
  if [ -n "$tmp" ] && is_mounted "$tmp/server"; then
    fusermount3 -u "$tmp/server" 2>/dev/null || fusermount3 -uz "$tmp/server"
  fi
  if [ -n "$fieldfs_pid" ]; then
    for _ in $(seq 25); do
      kill -0 "$fieldfs_pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$fieldfs_pid" 2>/dev/null; then
      echo "FAIL: the fieldfs daemon still runs 5 s after its unmount"
      kill "$fieldfs_pid" 2>/dev/null
      wait "$fieldfs_pid" 2>/dev/null
      daemon_failed=1
    else
      wait "$fieldfs_pid"
      s=$?
      if [ "$s" -eq 0 ]; then
        echo "ok: the fieldfs daemon exited 0 after its unmount"
      else
        echo "FAIL: the fieldfs daemon exited $s: $(cat "$tmp/fieldfs.log")"
        daemon_failed=1
      fi
    fi
  fi
  # 4. the namespace (it takes its end of the veth pair, and so the pair, with it)
  ip link del "$veth_host" 2>/dev/null
  [ -e "/run/netns/$ns" ] && ip netns del "$ns"
  [ "$made_run_sshd" = 1 ] && rmdir /run/sshd 2>/dev/null
  rm -f "/dev/shm/$seg"
  [ -n "$tmp" ] && rm -rf "$tmp"
  if [ "$status" -eq 0 ] && [ "$fail_count" -ne 0 ]; then status=1; fi
  if [ "$status" -eq 0 ] && [ "$daemon_failed" -ne 0 ]; then status=1; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

tmp=$(mktemp -d /tmp/fieldfs-sshfs.XXXXXX)
mkdir "$tmp/server" "$tmp/client" "$tmp/client_lean"

# --- the helper: mapping access, freshness loops, errno probes, latency loops ----------------
cat >"$tmp/helper.py" <<'EOF'
import errno, mmap, os, statistics, struct, sys, time

OFF = {"bar": 0, "baz": 4}          # struct foo { int bar; int baz; }

def mapping(seg):
    fd = os.open("/dev/shm/" + seg, os.O_RDWR)
    m = mmap.mmap(fd, 8)
    os.close(fd)
    return m

def read_file(path):                # what cat(1) does: read to EOF with a 128 KiB buffer
    fd = os.open(path, os.O_RDONLY)
    try:
        out = b""
        while True:
            b = os.read(fd, 131072)
            if not b:
                return out
            out += b
    finally:
        os.close(fd)

def write_file(path, text):         # what echo > does
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, text)
    finally:
        os.close(fd)

def ename(e):
    return errno.errorcode.get(e.errno, str(e.errno))

cmd = sys.argv[1]
if cmd == "set":                    # set SEG FIELD VALUE: a store to the mapping
    struct.pack_into("i", mapping(sys.argv[2]), OFF[sys.argv[3]], int(sys.argv[4]))
elif cmd == "get":                  # get SEG FIELD: a load from the mapping
    print(struct.unpack_from("i", mapping(sys.argv[2]), OFF[sys.argv[3]])[0])
elif cmd == "fresh":                # fresh SEG FIELD PATH N: store, then read through PATH
    m, off, stale = mapping(sys.argv[2]), OFF[sys.argv[3]], 0
    for i in range(int(sys.argv[5])):
        struct.pack_into("i", m, off, 1000 + i)
        if read_file(sys.argv[4]) != b"%d\n" % (1000 + i):
            stale += 1
    print(stale)
elif cmd == "lands":                # lands SEG FIELD PATH N: write through PATH, then load
    m, off, late = mapping(sys.argv[2]), OFF[sys.argv[3]], 0
    for i in range(int(sys.argv[5])):
        write_file(sys.argv[4], b"%d\n" % (5000 + i))
        if struct.unpack_from("i", m, off)[0] != 5000 + i:
            late += 1
    print(late)
elif cmd == "fresh_held":           # fresh_held SEG FIELD PATH N: the same, one descriptor, pread at 0
    m, off, stale = mapping(sys.argv[2]), OFF[sys.argv[3]], 0
    fd = os.open(sys.argv[4], os.O_RDONLY)
    for i in range(int(sys.argv[5])):
        struct.pack_into("i", m, off, 3000 + i)
        if os.pread(fd, 4096, 0) != b"%d\n" % (3000 + i):
            stale += 1
    os.close(fd)
    print(stale)
elif cmd == "lands_held":           # lands_held SEG FIELD PATH N: pwrite at 0 on one descriptor, then load
    m, off, late = mapping(sys.argv[2]), OFF[sys.argv[3]], 0
    fd = os.open(sys.argv[4], os.O_WRONLY)
    for i in range(int(sys.argv[5])):
        os.pwrite(fd, b"%d\n" % (7000 + i), 0)
        if struct.unpack_from("i", m, off)[0] != 7000 + i:
            late += 1
    os.close(fd)
    print(late)
elif cmd == "try_write":            # try_write PATH TEXT: the errno at write() and at close()
    fd = os.open(sys.argv[2], os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, sys.argv[3].encode())
        w = "OK"
    except OSError as e:
        w = ename(e)
    try:
        os.close(fd)
        c = "OK"
    except OSError as e:
        c = ename(e)
    print("write=%s close=%s" % (w, c))
elif cmd == "try":                  # try OP PATH: the errno of one other operation
    op, path = sys.argv[2], sys.argv[3]
    try:
        if op == "read":
            read_file(path)
        elif op == "create":
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
        elif op == "unlink":
            os.unlink(path)
        print("OK")
    except OSError as e:
        print(ename(e))
elif cmd == "bench":                # bench read|write PATH N: median and worst in microseconds
    op, path, n = sys.argv[2], sys.argv[3], int(sys.argv[4])
    for i in range(10):             # warm up: first lookups, the connection's windows
        read_file(path) if op == "read" else write_file(path, b"%d\n" % i)
    t = []
    for i in range(n):
        t0 = time.perf_counter_ns()
        if op == "read":
            read_file(path)
        else:
            write_file(path, b"%d\n" % i)
        t.append((time.perf_counter_ns() - t0) / 1000)
    print("%.0f %.0f" % (statistics.median(t), max(t)))
EOF
py() { python3 "$tmp/helper.py" "$@"; }

# --- the server host: namespace, veth, fieldfs, sshd ------------------------------------------
ip netns add "$ns"
ip link add "$veth_host" type veth peer name "$veth_srv" netns "$ns"
ip addr add "$host_ip/30" dev "$veth_host"
ip link set "$veth_host" up
ip -n "$ns" link set lo up
ip -n "$ns" addr add "$srv_ip/30" dev "$veth_srv"
ip -n "$ns" link set "$veth_srv" up
ok "namespace $ns, veth $veth_host $host_ip/30 <-> $veth_srv $srv_ip/30"

nsenter --net="/run/netns/$ns" "$fieldfs" -f "$seg" "$tmp/server" 2>"$tmp/fieldfs.log" &
fieldfs_pid=$!
for _ in $(seq 100); do
  is_mounted "$tmp/server" && break
  kill -0 "$fieldfs_pid" 2>/dev/null || break
  sleep 0.1
done
is_mounted "$tmp/server" || die "fieldfs did not mount: $(cat "$tmp/fieldfs.log")"
ok "fieldfs serves /dev/shm/$seg at $tmp/server (daemon in $ns)"

ssh-keygen -q -t ed25519 -N "" -C fieldfs-test-host -f "$tmp/host_key"
ssh-keygen -q -t ed25519 -N "" -C fieldfs-test-client -f "$tmp/client_key"
cp "$tmp/client_key.pub" "$tmp/authorized_keys"
echo "$srv_ip $(cat "$tmp/host_key.pub")" >"$tmp/known_hosts"
cat >"$tmp/sshd_config" <<EOF
ListenAddress $srv_ip:22
HostKey $tmp/host_key
PidFile $tmp/sshd.pid
AuthorizedKeysFile $tmp/authorized_keys
# the key files sit under /tmp, which is world-writable
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
PrintMotd no
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
# sshd refuses to start without its privilege-separation directory, which systemd-tmpfiles
# makes on a booted Debian system; make it (and remove it afterwards) when it is missing.
if [ ! -d /run/sshd ]; then
  mkdir -m 0755 /run/sshd
  made_run_sshd=1
fi
/usr/sbin/sshd -t -f "$tmp/sshd_config" || die "sshd rejects its configuration"
ip netns exec "$ns" /usr/sbin/sshd -D -f "$tmp/sshd_config" -E "$tmp/sshd.log" &
sshd_pid=$!
for _ in $(seq 100); do
  ip netns exec "$ns" ss -Hltn "src $srv_ip:22" 2>/dev/null | grep -q LISTEN && break
  kill -0 "$sshd_pid" 2>/dev/null || break
  sleep 0.1
done
ip netns exec "$ns" ss -Hltn "src $srv_ip:22" | grep -q LISTEN ||
  die "sshd does not listen on $srv_ip:22: $(cat "$tmp/sshd.log")"
ok "sshd listens on $srv_ip:22 inside $ns"

# --- the client host: sshfs over the veth -----------------------------------------------------
# -F /dev/null: no ssh_config of this machine's; the host key is pinned in our known_hosts.
ssh_opts="IdentityFile=$tmp/client_key,UserKnownHostsFile=$tmp/known_hosts,StrictHostKeyChecking=yes,BatchMode=yes"
# Nothing cached: direct_io (no page cache: every read and write goes to the server),
# dir_cache=no (sshfs's own cache of names and attributes), entry_timeout=0, attr_timeout=0
# (the kernel's), sshfs_sync (write() waits for the server's answer: errors come back from
# write(), not later), no_readahead (read only what was asked for).
# The options are the ones docs/remote.md tells users to give, read from its recipe.
fresh_opts=$(sed -n 's/^sshfs -o \([^ ]*\) .*/\1/p' "$here/docs/remote.md" | head -n 1)
case ",$fresh_opts," in
  *,direct_io,*sshfs_sync,*) ;;
  *) die "docs/remote.md's sshfs recipe lost its options: '$fresh_opts'" ;;
esac
# The lean variant keeps names and attributes cached (a fieldfs tree never changes while
# mounted) and turns off only what could make a value stale or an error late: without
# direct_io a held descriptor's pread is served from the page cache (stale), without
# sshfs_sync write() returns before the server answered (late, and `echo abc > bar` "succeeds").
lean_opts="direct_io,sshfs_sync,no_readahead"

mount_sshfs() { # MOUNTPOINT OPTIONS LOG
  sshfs -f -F /dev/null -o "$ssh_opts,$2" "root@$srv_ip:$tmp/server" "$1" 2>"$3" &
  sshfs_pids="$sshfs_pids $!"
  for _ in $(seq 100); do
    is_mounted "$1" && return 0
    kill -0 "$!" 2>/dev/null || break
    sleep 0.1
  done
  die "sshfs did not mount $1: $(cat "$3")"
}
mount_sshfs "$tmp/client" "$fresh_opts" "$tmp/sshfs.log"
ok "sshfs root@$srv_ip:$tmp/server on $tmp/client (-o $fresh_opts)"
tries=0
while ! ss -Htn state established | grep -q " $srv_ip:22 *\$" && [ "$tries" -lt 50 ]; do
  tries=$((tries + 1))
  sleep 0.1
done
if [ "$tries" -lt 50 ]; then
  ok "the ssh connection runs over the veth to $srv_ip:22 (seen after $tries retries)"
else
  bad "no established ssh connection to $srv_ip:22 on the client side"
fi

c=$tmp/client
check "ls on the client" "bar baz" "$(names "$c")"

# --- values: server -> client, client -> server -----------------------------------------------
py set "$seg" bar 42
py set "$seg" baz -5
check "client cat bar = the mapping's 42" 42 "$(cat "$c/bar")"
check "client cat baz = the mapping's -5" -5 "$(cat "$c/baz")"
py set "$seg" bar 1234
check "a store to the server's mapping is seen by the next client cat" 1234 "$(cat "$c/bar")"
echo 99 >"$tmp/server/baz"
check "echo 99 on the server's mount is seen by the next client cat" 99 "$(cat "$c/baz")"
check "stale client reads right after a store to the mapping ($n_ops)" 0 \
  "$(py fresh "$seg" bar "$c/bar" "$n_ops")"
check "stale preads at 0 on a held client descriptor after a store ($n_ops)" 0 \
  "$(py fresh_held "$seg" bar "$c/bar" "$n_ops")"

echo 7 >"$c/bar"
check "client echo 7 > bar: the mapping holds 7 when echo returns" 7 "$(py get "$seg" bar)"
check "server cat bar after the client's write" 7 "$(cat "$tmp/server/bar")"
check "client writes not yet in the mapping when close() returns ($n_ops)" 0 \
  "$(py lands "$seg" baz "$c/baz" "$n_ops")"
check "held client descriptor: pwrites not yet in the mapping when pwrite returns ($n_ops)" 0 \
  "$(py lands_held "$seg" baz "$c/baz" "$n_ops")"
echo 7 >"$c/baz"

# --- errors over sshfs --------------------------------------------------------------------------
if err=$(sh -c "echo abc > '$c/bar'" 2>&1); then
  bad "client echo abc > bar succeeded"
else
  ok "client echo abc > bar fails: $err"
fi
check "the old value stays after echo abc" 7 "$(py get "$seg" bar)"
# The README's table of what each refusal becomes over sshfs: every refused write() is EIO (sshfs
# turns the server's errno into a generic SFTP failure), an incomplete value's close() succeeds
# (sshfs drops the answer to CLOSE) and stores nothing, EPERM arrives as EACCES.
check "abc directly on the mount" "write=EINVAL close=OK" "$(py try_write "$tmp/server/bar" "abc\n")"
check "abc (EINVAL on the mount) over sshfs" "write=EIO close=OK" "$(py try_write "$c/bar" "abc\n")"
check "2147483648 (ERANGE on the mount) over sshfs" "write=EIO close=OK" \
  "$(py try_write "$c/bar" "2147483648\n")"
check "5000 blanks (EFBIG on the mount) over sshfs" "write=EIO close=OK" \
  "$(py try_write "$c/bar" "$(head -c 5000 /dev/zero | tr '\0' ' ')")"
check "'-' then close (EINVAL at close on the mount) over sshfs" "write=OK close=OK" \
  "$(py try_write "$c/bar" "-")"
check "the old value stays after every refused write" 7 "$(py get "$seg" bar)"
check "cat nope (ENOENT on the mount) over sshfs" ENOENT "$(py try read "$c/nope")"
check "create new (EPERM on the mount) over sshfs" EACCES "$(py try create "$c/new")"
check "rm bar (EPERM on the mount) over sshfs" EACCES "$(py try unlink "$c/bar")"
check "ls after the refused operations" "bar baz" "$(names "$c")"
check "the value after the refused operations" 7 "$(cat "$c/bar")"

# --- the lean mount: caches for names and attributes only ---------------------------------------
mount_sshfs "$tmp/client_lean" "$lean_opts" "$tmp/sshfs_lean.log"
ok "second sshfs on $tmp/client_lean (-o $lean_opts)"
check "stale reads on the lean mount ($n_ops)" 0 \
  "$(py fresh "$seg" bar "$tmp/client_lean/bar" "$n_ops")"
check "late writes on the lean mount ($n_ops)" 0 \
  "$(py lands "$seg" baz "$tmp/client_lean/baz" "$n_ops")"
check "stale held preads on the lean mount ($n_ops)" 0 \
  "$(py fresh_held "$seg" bar "$tmp/client_lean/bar" "$n_ops")"
check "late held pwrites on the lean mount ($n_ops)" 0 \
  "$(py lands_held "$seg" baz "$tmp/client_lean/baz" "$n_ops")"
if sh -c "echo abc > '$tmp/client_lean/bar'" 2>/dev/null; then
  bad "echo abc > bar succeeded on the lean mount"
else
  ok "echo abc > bar fails on the lean mount"
fi

# --- latency: same run, same loop, three mounts -------------------------------------------------
echo "latency, $n_ops operations each, microseconds (median / worst):"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
for op in read write; do
  r=$(py bench "$op" "$tmp/server/bar" "$n_ops")
  lm=${r% *} lw=${r#* }
  r=$(py bench "$op" "$c/bar" "$n_ops")
  sm=${r% *} sw=${r#* }
  r=$(py bench "$op" "$tmp/client_lean/bar" "$n_ops")
  em=${r% *} ew=${r#* }
  case $op in
    read) what="open + read to EOF + close (cat)" ;;
    *) what="open(O_TRUNC) + write + close (echo >)" ;;
  esac
  echo "  $what: local $lm / $lw; sshfs $sm / $sw ($(ratio "$sm" "$lm")x);" \
    "lean sshfs $em / $ew ($(ratio "$em" "$lm")x)"
done
check "no sshfs or sshd errors logged" "" "$(grep -ih 'error\|fatal' "$tmp/sshfs.log" "$tmp/sshfs_lean.log" "$tmp/sshd.log" || true)"

[ "$fail_count" -eq 0 ] || die "$fail_count check(s) failed"
echo "all checks passed"
