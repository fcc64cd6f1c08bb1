#!/bin/sh
# SPDX-License-Identifier: MIT
# The installed fieldfs: builds the release preset, installs it into a temporary prefix, mounts
# through mount(8) (-t fuse.fieldfs, and an fstab of its own with -T), compiles
# examples/mapped_foo.cpp against the installed package (pkg-config and find_package) and
# examples/seq_writer.c (C11) against the installed fieldfs/seqlock.h, and
# builds the two .debs (fieldfs, fieldfs-dev), checking their files, their Depends and what
# lintian says of them (tests/install/deb_checks.sh). With FIELDFS_INSTALL_DEB=1 both are
# installed into this system, checked and removed again. Needs root (mount(8)) and /dev/fuse; it
# fails, never skips, without them. Every mount, segment, temporary directory and package it made
# is removed on exit, whatever happened.
set -eu

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# check WHAT EXPECTED ACTUAL
check() {
  [ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
  echo "ok: $1"
}

is_mounted() {
  grep -q " $1 " /proc/self/mounts
}

# mount(8) runs its helpers without PATH, so mount.fuse3's /bin/sh finds `fieldfs` only on its
# default path (/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin). To mount the
# temporary prefix's fieldfs with `-t fuse.fieldfs` without touching the system, these checks run
# in a private mount namespace in which $prefix is bind-mounted on /usr/local (so that fieldfs
# finds fieldfs-header in ../libexec/fieldfs, as an installed tree does).
mount_checks() {
  tmp=$1 prefix=$2 seg=$3
  trap 'for m in "$tmp/mnt" "$tmp/mnt2"; do
          if is_mounted "$m"; then fusermount3 -u "$m" || fusermount3 -uz "$m" || true; fi
        done' EXIT
  schema="$prefix/share/fieldfs/examples/every_kind.h"
  mount --bind "$prefix" /usr/local

  timeout 30 mount -t fuse.fieldfs "$seg" "$tmp/mnt" -o "schema=$schema"
  is_mounted "$tmp/mnt" || fail "mount -t fuse.fieldfs did not mount"
  echo 42 >"$tmp/mnt/i"
  check "echo 42 > i; cat i" 42 "$(cat "$tmp/mnt/i")"
  echo hello >"$tmp/mnt/name"
  check "a string field" hello "$(cat "$tmp/mnt/name")"
  echo STATE_RUNNING >"$tmp/mnt/state"
  check "an enum field" STATE_RUNNING "$(cat "$tmp/mnt/state")"
  if echo abc >"$tmp/mnt/i" 2>/dev/null; then fail "echo abc > i succeeded"; fi
  check "a rejected write keeps the value" 42 "$(cat "$tmp/mnt/i")"
  timeout 2 "$prefix/bin/fieldfs-watch" "$tmp/mnt/i" >"$tmp/watch.out" || true
  check "fieldfs-watch prints FILE VALUE" "$tmp/mnt/i 42" "$(head -n 1 "$tmp/watch.out")"
  [ -f "/dev/shm/$seg" ] || fail "the segment /dev/shm/$seg is missing"
  umount "$tmp/mnt"
  if is_mounted "$tmp/mnt"; then fail "umount left the mount"; fi
  echo "ok: umount"

  printf '%s %s fuse.fieldfs schema=%s,nofail 0 0\n' "$seg" "$tmp/mnt2" "$schema" >"$tmp/fstab"
  timeout 30 mount -T "$tmp/fstab" "$tmp/mnt2"
  is_mounted "$tmp/mnt2" || fail "mount -T $tmp/fstab did not mount"
  check "mount -T fstab: the value survived the unmount" 42 "$(cat "$tmp/mnt2/i")"
  echo 0x10 >"$tmp/mnt2/i"
  check "echo 0x10 > i; cat i" 16 "$(cat "$tmp/mnt2/i")"
  umount "$tmp/mnt2"
  if is_mounted "$tmp/mnt2"; then fail "umount left the fstab mount"; fi
  echo "ok: umount (fstab)"
}

# The installed unit's ExecStartPre, ExecStart and ExecStop lines run as systemd would run them
# for the instance $2: %i/%I replaced, Environment= set, a leading "-" ignoring failure,
# $VAR split into words and ${VAR} one word. Then what Restart=on-failure does after SIGKILL:
# ExecStartPre must clear the dead mount so that ExecStart mounts again.
service_checks() {
  unit=$1 inst=$2
  mnt="/run/fieldfs/$inst"
  trap 'kill -9 "$daemon" 2>/dev/null || true
        for _ in 1 2 3; do is_mounted "$mnt" && { fusermount3 -uz "$mnt" || true; }; done
        rmdir "$mnt" /run/fieldfs 2>/dev/null || true; rm -f "/dev/shm/$inst"' EXIT
  daemon=
  unit_line() {
    sed -n "s/^$1=//p" "$unit" | head -n 1 | sed "s/%[iI]/$inst/g"
  }
  eval "export $(unit_line Environment)"
  run_line() {  # run_line KEY [exec]
    line=$(unit_line "$1") may_fail=no
    case $line in -*) may_fail=yes line=${line#-} ;; esac
    [ -n "$line" ] || fail "the unit has no $1="
    eval "set -- $line"
    if [ "${2:-}" = exec ]; then exec "$@"; fi
    "$@" || [ "$may_fail" = yes ]
  }
  start() {
    run_line ExecStartPre || fail "ExecStartPre failed"
    (run_line ExecStart exec) &
    daemon=$!
    for _ in $(seq 300); do
      is_mounted "$mnt" && return 0
      kill -0 "$daemon" 2>/dev/null || break
      sleep 0.1
    done
    fail "ExecStart did not mount $mnt"
  }
  mkdir -p "$mnt"  # RuntimeDirectory=
  start
  echo 12 >"$mnt/bar"
  check "the unit's ExecStart serves $inst" 12 "$(cat "$mnt/bar")"
  kill -KILL "$daemon"
  wait "$daemon" || true
  is_mounted "$mnt" || fail "SIGKILL left no mount to clear (the check proves nothing)"
  start
  check "after SIGKILL, ExecStartPre and ExecStart serve it again" 12 "$(cat "$mnt/bar")"
  check "one mount, not one over a dead one" 1 "$(grep -c " $mnt " /proc/self/mounts)"
  run_line ExecStop || fail "ExecStop failed"
  for _ in $(seq 100); do
    kill -0 "$daemon" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$daemon" 2>/dev/null && fail "the daemon still runs 10 s after ExecStop"
  status=0
  wait "$daemon" || status=$?
  check "ExecStop unmounts; the daemon exits 0" "0 no" \
    "$status $(is_mounted "$mnt" && echo yes || echo no)"
}

cleanup() {
  status=$?
  for m in "$tmp/mnt" "$tmp/mnt2" "$tmp/mnt3"; do
    if is_mounted "$m"; then
      umount "$m" 2>/dev/null || fusermount3 -u "$m" 2>/dev/null || fusermount3 -uz "$m" || true
    fi
  done
  if [ "$deb_installed" = 1 ]; then
    dpkg -r fieldfs-dev fieldfs >/dev/null 2>&1 || true
  fi
  rm -f "/dev/shm/$seg" "/dev/shm/$seg_foo" "/dev/shm/$seg_pos"
  rm -rf "$tmp"
  exit "$status"
}

if [ "${1:-}" = --mount-checks ]; then
  shift
  mount_checks "$@"
  exit
fi
if [ "${1:-}" = --service-checks ]; then
  shift
  service_checks "$@"
  exit
fi

self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
root=$(cd "$(dirname "$self")/../.." && pwd)
build="$root/build/release"
tmp=$(mktemp -d /tmp/fieldfs-install-XXXXXX)
prefix="$tmp/prefix"
seg="such_foo_$$"
seg_foo="such_foo_mapped_$$"
seg_pos="such_pos_seq_$$"
deb_installed=0
# shellcheck source=/dev/null  # tests/install/deb_checks.sh: the package checks
. "$root/tests/install/deb_checks.sh"

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ "$(id -u)" = 0 ] || fail "must run as root (mount -t fuse.fieldfs, dpkg)"
[ -c /dev/fuse ] || fail "/dev/fuse is missing"
# man-db (man -w), dpkg-dev and file (cpack's .debs, dpkg-shlibdeps), lintian, systemd
# (systemd-analyze verify of the unit)
FIELDFS_EXTRA_PACKAGES="man-db dpkg-dev file lintian systemd" "$root/scripts/install-deps"
for tool in cmake cpack dpkg-deb dpkg-shlibdeps lintian pkg-config c++ fusermount3 man timeout \
  unshare systemd-analyze; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done

# Libraries go to Debian's multi-arch directory under every prefix (CMakeLists.txt says why).
libdir="lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)"

echo "== build (cmake --preset release)"
cd "$root"
cmake --preset release >/dev/null
cmake --build --preset release >/dev/null

echo "== cmake --install into $prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
for f in bin/fieldfs bin/fieldfs-watch libexec/fieldfs/fieldfs-header; do
  [ -x "$prefix/$f" ] || fail "$f was not installed"
done
for f in share/man/man1/fieldfs.1.gz share/man/man1/fieldfs-watch.1.gz \
  share/fieldfs/examples/every_kind.h share/fieldfs/examples/mapped_foo.cpp \
  share/fieldfs/examples/seq_writer.c share/fieldfs/examples/mapped_seq.cpp \
  share/fieldfs/examples/pos.h include/fieldfs/seqlock.h include/fieldfs/seqlock.hpp \
  lib/systemd/system/fieldfs@.service include/fieldfs/mapped.hpp include/fieldfs/segment.hpp \
  "$libdir/libfieldfs_core.a" "$libdir/pkgconfig/fieldfs.pc" \
  "$libdir/cmake/fieldfs/fieldfsConfig.cmake" "$libdir/cmake/fieldfs/fieldfsConfigVersion.cmake"; do
  [ -f "$prefix/$f" ] || fail "$f was not installed"
done
echo "ok: every file landed"
check "man -w finds the page" "$prefix/share/man/man1/fieldfs.1.gz" \
  "$(MANPATH="$prefix/share/man" man -w fieldfs)"
"$prefix/bin/fieldfs" -V | grep -q '^fieldfs ' || fail "fieldfs -V"
echo "ok: fieldfs -V"

mkdir "$tmp/mnt" "$tmp/mnt2" "$tmp/mnt3"

echo "== the systemd unit's Exec lines, as systemd runs them, with a restart after SIGKILL"
PATH="$prefix/bin:$PATH" sh "$self" --service-checks "$prefix/lib/systemd/system/fieldfs@.service" \
  "fieldfs_unit_$$"

echo "== mount -t fuse.fieldfs and mount -T fstab (in a private mount namespace)"
unshare --mount --propagation private sh "$self" --mount-checks "$tmp" "$prefix" "$seg"

echo "== examples/mapped_foo.cpp against the installed package"
pc_path="$prefix/$libdir/pkgconfig"
# No -std= here: fieldfs.pc's Cflags carry -std=c++20 (g++ 12 defaults to C++17).
# shellcheck disable=SC2046 # pkg-config's output is a list of words
c++ -o "$tmp/mapped_foo_pc" "$root/examples/mapped_foo.cpp" \
  $(PKG_CONFIG_PATH="$pc_path" pkg-config --cflags --libs fieldfs)
mkdir "$tmp/consumer"
cat >"$tmp/consumer/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.25)
project(consumer LANGUAGES CXX)
find_package(fieldfs 0.1 REQUIRED)
add_executable(mapped_foo "$root/examples/mapped_foo.cpp")
target_link_libraries(mapped_foo PRIVATE fieldfs::mapped)
EOF
cmake -S "$tmp/consumer" -B "$tmp/consumer/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$tmp/consumer/build" >/dev/null
echo "ok: compiled with pkg-config and with find_package(fieldfs)"
"$tmp/mapped_foo_pc" "$seg_foo" set bar 5
check "Mapped<foo> creates the segment with the struct's size" 8 \
  "$(wc -c <"/dev/shm/$seg_foo" | tr -d ' ')"
"$prefix/bin/fieldfs" "$seg_foo" "$tmp/mnt3"
check "a store through Mapped<foo> (pkg-config build) shows in the file" 5 \
  "$(cat "$tmp/mnt3/bar")"
echo 9 >"$tmp/mnt3/baz"
check "a write to the file shows through Mapped<foo> (CMake build)" 9 \
  "$("$tmp/consumer/build/mapped_foo" "$seg_foo" get baz)"
fusermount3 -u "$tmp/mnt3"

echo "== examples/seq_writer.c (C11, -Wpedantic) against the installed fieldfs/seqlock.h"
cc -std=c11 -Wall -Wextra -Wpedantic -Werror -I "$prefix/include" -o "$tmp/seq_writer" \
  "$prefix/share/fieldfs/examples/seq_writer.c"
printf '#include <stdint.h>\nstruct pos { uint32_t seq; int32_t x; int32_t y; };\n' >"$tmp/pos.h"
head -c 12 /dev/zero >"/dev/shm/$seg_pos"
"$tmp/seq_writer" "$seg_pos" set 3 4
"$tmp/seq_writer" "$seg_pos" add 1 -1
check "seq_writer: set and add, two sections" "x=4 y=3 seq=4" \
  "$("$tmp/seq_writer" "$seg_pos" get)"
"$prefix/bin/fieldfs" -o "schema=$tmp/pos.h,seq=seq" "$seg_pos" "$tmp/mnt3"
check "the mount shows what seq_writer stored (seq x y)" "4 4 3" \
  "$(cat "$tmp/mnt3/seq") $(cat "$tmp/mnt3/x") $(cat "$tmp/mnt3/y")"
echo 9 >"$tmp/mnt3/x"
check "seq_writer reads the installed daemon's section" "x=9 y=3 seq=6" \
  "$("$tmp/seq_writer" "$seg_pos" get)"
fusermount3 -u "$tmp/mnt3"

echo "== the install recipes of README.md and docs/services.md, as written (cmake --install to"
echo "   /usr/local, mount(8), /etc/fstab: overlays that tests/docs/run_recipes.py keeps private)"
python3 "$root/tests/docs/run_recipes.py" --group install --timeout 900 --source "$root" \
  --build "$build" "$root/README.md" "$root/docs/services.md" || fail "an install recipe failed"

deb_checks
echo "PASS"
