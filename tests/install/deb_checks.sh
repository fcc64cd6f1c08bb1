# SPDX-License-Identifier: MIT
# shellcheck shell=sh disable=SC2034,SC2154 # install_test.sh sets and reads the variables
# The .debs, sourced by install_test.sh, which defines fail, check, $root, $build, $libdir and
# $tmp, and cleans up: it runs `dpkg -r fieldfs-dev fieldfs` on exit while $deb_installed is 1.
# deb_checks builds fieldfs and fieldfs-dev with cpack, checks each one's files, Depends and
# lintian's verdict, and with FIELDFS_INSTALL_DEB=1 installs both, checks them in place and
# removes them.

# The lintian warnings left, "PACKAGE: TAG" one a line, each explained in docs/services.md
# ("Packages"). None today: a new one fails the test until it is fixed or explained.
lintian_warnings_explained=""

# deb_files DEB: the files (not directories) the package installs, sorted.
deb_files() {
  dpkg-deb --fsys-tarfile "$1" | tar -t | grep -v '/$' | sed 's/^\.//' | sort
}

# dep_names DEB: the names in its Depends, sorted, one line.
dep_names() {
  dpkg-deb -f "$1" Depends | tr ',' '\n' | sed 's/^ *//; s/[ (].*//' | grep . | sort | xargs
}

# The dependencies checked where they matter: fieldfs-header needs clang's resource headers
# (libclang-common-14-dev) and nothing of libc6-dev, whose /usr/include is hidden here.
installed_checks() {
  schema=/usr/share/fieldfs/examples/every_kind.h
  /usr/bin/fieldfs -V | grep -q '^fieldfs ' || fail "fieldfs -V after dpkg -i"
  /usr/bin/fieldfs --layout -o schema=$schema | grep -q '^grid/1/2 ' ||
    fail "fieldfs --layout -o schema= after dpkg -i (is /usr/libexec/fieldfs/fieldfs-header there?)"
  unshare --mount --propagation private sh -c "mount -t tmpfs none /usr/include &&
    /usr/bin/fieldfs --layout -o schema=$schema" | grep -q '^grid/1/2 ' ||
    fail "fieldfs --layout needs /usr/include (libc6-dev), which fieldfs does not depend on"
  if unshare --mount --propagation private sh -c "mount -t tmpfs none /usr/lib/llvm-14/lib/clang &&
    /usr/bin/fieldfs --layout -o schema=$schema" >/dev/null 2>&1; then
    fail "--layout works without clang's resource headers: is libclang-common-14-dev needed?"
  fi
  echo "ok: fieldfs-header needs libclang-common-14-dev's headers, not libc6-dev's"
  check "man -w fieldfs after dpkg -i" /usr/share/man/man1/fieldfs.1.gz "$(man -w fieldfs)"
  # No -std=: the installed fieldfs.pc's Cflags carry it.
  # shellcheck disable=SC2046 # pkg-config's output is a list of words
  c++ -o "$tmp/mapped_foo_deb" /usr/share/fieldfs/examples/mapped_foo.cpp \
    $(pkg-config --cflags --libs fieldfs) || fail "mapped_foo.cpp against fieldfs-dev"
  echo "ok: mapped_foo.cpp builds with the installed fieldfs.pc"
  cc -std=c11 -Wall -Wextra -Wpedantic -Werror -o "$tmp/seq_writer_deb" \
    /usr/share/fieldfs/examples/seq_writer.c || fail "seq_writer.c against fieldfs-dev"
  echo "ok: seq_writer.c builds with the installed fieldfs/seqlock.h (no -I)"
}

deb_checks() {
  echo "== cpack -G DEB: fieldfs and fieldfs-dev"
  rm -f "$build"/fieldfs*.deb
  (cd "$build" && cpack -G DEB >/dev/null)
  deb=$(ls "$build"/fieldfs_*.deb)
  deb_dev=$(ls "$build"/fieldfs-dev_*.deb)

  check "fieldfs's files" "$(sort <<EOF
/usr/bin/fieldfs
/usr/bin/fieldfs-watch
/usr/lib/systemd/system/fieldfs@.service
/usr/libexec/fieldfs/fieldfs-header
/usr/share/bash-completion/completions/fieldfs
/usr/share/bash-completion/completions/fieldfs-watch
/usr/share/doc/fieldfs/changelog.gz
/usr/share/doc/fieldfs/copyright
/usr/share/fieldfs/examples/every_kind.h
/usr/share/fieldfs/examples/foo_map.c
/usr/share/fieldfs/examples/pos.h
/usr/share/fieldfs/examples/stdio_client.c
/usr/share/man/man1/fieldfs-watch.1.gz
/usr/share/man/man1/fieldfs.1.gz
EOF
)" "$(deb_files "$deb")"
  check "fieldfs-dev's files" "$(sort <<EOF
/usr/include/fieldfs/mapped.hpp
/usr/include/fieldfs/result.hpp
/usr/include/fieldfs/schema.hpp
/usr/include/fieldfs/segment.hpp
/usr/include/fieldfs/seqlock.h
/usr/include/fieldfs/seqlock.hpp
/usr/include/fieldfs/unique_fd.hpp
/usr/include/fieldfs/words.hpp
/usr/$libdir/cmake/fieldfs/fieldfsConfig.cmake
/usr/$libdir/cmake/fieldfs/fieldfsConfigVersion.cmake
/usr/$libdir/libfieldfs_core.a
/usr/$libdir/pkgconfig/fieldfs.pc
/usr/share/doc/fieldfs-dev/changelog.gz
/usr/share/doc/fieldfs-dev/copyright
/usr/share/fieldfs/examples/mapped_foo.cpp
/usr/share/fieldfs/examples/mapped_seq.cpp
/usr/share/fieldfs/examples/seq_writer.c
EOF
)" "$(deb_files "$deb_dev")"
  dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/share/man/man1/fieldfs.1.gz | gzip -t ||
    fail "fieldfs.1.gz is not gzip"
  dpkg-deb --fsys-tarfile "$deb_dev" | tar -xO "./usr/$libdir/pkgconfig/fieldfs.pc" |
    grep -q '^Cflags: -std=c++20 ' || fail "fieldfs.pc's Cflags lack -std=c++20"

  # dpkg-shlibdeps finds libc6 ... libclang1-14 and libcurl4 (etcd, -o etcd=) in the binaries;
  # fuse3 (fusermount3, a program) and libclang-common-14-dev (headers libclang reads) are named
  # in cmake/deb.cmake.
  check "fieldfs's Depends (names)" \
    "fuse3 libc6 libclang-common-14-dev libclang1-14 libcurl4 libfuse3-3 libgcc-s1 libstdc++6" \
    "$(dep_names "$deb")"
  dpkg-deb -f "$deb" Depends | grep -q 'libc6 (>= [0-9.]*)' ||
    fail "libc6 without a version: $(dpkg-deb -f "$deb" Depends)"
  check "fieldfs-dev's Depends (none: its archive is static and complete)" "" \
    "$(dpkg-deb -f "$deb_dev" Depends)"

  lintian --fail-on error "$deb" "$deb_dev" >"$tmp/lintian.log" 2>&1 ||
    fail "lintian reports errors: $(cat "$tmp/lintian.log")"
  check "lintian: the warnings left (docs/services.md explains each)" \
    "$lintian_warnings_explained" \
    "$(sed -n 's/^W: \([^:]*\): \([^ ]*\).*/\1: \2/p' "$tmp/lintian.log" | sort -u)"
  for tag in $(echo "$lintian_warnings_explained" | sed 's/.*: //'); do
    grep -q "\`$tag\`" "$root/docs/services.md" || fail "docs/services.md does not explain $tag"
  done

  if [ "${FIELDFS_INSTALL_DEB:-0}" != 1 ]; then
    echo "ok: the .debs' contents (set FIELDFS_INSTALL_DEB=1 to install them)"
    return 0
  fi
  for p in fieldfs fieldfs-dev; do
    if dpkg -s "$p" >/dev/null 2>&1; then fail "a $p package is installed already"; fi
  done
  deb_installed=1
  dpkg -i "$deb" "$deb_dev" >/dev/null
  installed_checks
  python3 "$root/tests/docs/run_recipes.py" --group deb --source "$root" --build "$build" \
    "$root/man/fieldfs.1" "$root/docs/services.md" ||
    fail "a recipe for the installed packages failed (man/fieldfs.1, docs/services.md)"
  systemd-analyze verify fieldfs@such_foo.service >"$tmp/verify.log" 2>&1 ||
    fail "systemd-analyze verify: $(cat "$tmp/verify.log")"
  echo "ok: systemd-analyze verify fieldfs@such_foo.service"
  dpkg -r fieldfs-dev fieldfs >/dev/null
  deb_installed=0
  for f in /usr/bin/fieldfs /usr/include/fieldfs /usr/share/fieldfs; do
    if [ -e "$f" ]; then fail "dpkg -r left $f"; fi
  done
  echo "ok: dpkg -i, fieldfs -V, --layout through fieldfs-header, man -w, pkg-config, dpkg -r"
}
