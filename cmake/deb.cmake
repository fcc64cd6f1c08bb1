# SPDX-License-Identifier: MIT
# The Debian packages, built by `cpack -G DEB` in the build directory (they install under /usr):
#
#   fieldfs      the component `runtime`: the programs, fieldfs-header, man pages, the unit,
#                bash completion, the schema and C examples
#   fieldfs-dev  the component `dev`: fieldfs::Mapped<T> (headers, libfieldfs_core.a, fieldfs.pc,
#                the CMake package), the C header fieldfs/seqlock.h, and the examples that use them
#
# fieldfs-dev does not depend on fieldfs: the archive is static and complete (it opens segments
# itself, with no daemon, FUSE or libclang), so a program built with it runs wherever the
# segment is, a container that only bind-mounts /dev/shm included.
#
# Depends come from dpkg-shlibdeps (libc6, libstdc++6, libfuse3-3, libclang1-14 from what the
# binaries link), plus what no ELF file names: fuse3 (fusermount3, which the daemon and the unit
# run) and libclang-common-14-dev (clang's resource headers, <stddef.h>, <stdbool.h>,
# <stdint.h>: a schema includes them, and libclang has no others; glibc's headers are not
# needed, clang's <stdint.h> defines the types itself when libc6-dev is absent).
set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime dev)
set(CPACK_PACKAGE_NAME fieldfs)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "fieldfs maintainers <fieldfs@example.org>")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME fieldfs)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS "fuse3, libclang-common-14-dev")
# The first line of a description is the package's synopsis.
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION
  [=[mount a C struct in shared memory as a directory of text files
fieldfs serves a C struct that lives in a POSIX shared-memory segment (or a
file) as a FUSE directory with one text file per field, with the semantics of
sysfs attributes: cat reads a field, echo sets it, and programs that map the
same bytes see every change at once. The struct comes from a C header, read
with libclang. Includes fieldfs-watch and a systemd template unit
(fieldfs@NAME.service).]=])

set(CPACK_DEBIAN_DEV_PACKAGE_NAME fieldfs-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_DESCRIPTION
  [=[fieldfs::Mapped<T>: map a fieldfs segment from C++20
fieldfs serves a C struct in shared memory as a directory of text files.
fieldfs::Mapped<T> lets a C++20 program map the same segment itself, with the
daemon's own rules for size, layout and locking: the headers, the static
library libfieldfs_core.a, a pkg-config file (fieldfs) and a CMake package
(find_package(fieldfs), target fieldfs::mapped). A C program follows the
struct's sequence counter with the header-only fieldfs/seqlock.h (C11).]=])

# Debian's policy: every package carries /usr/share/doc/PACKAGE/copyright and, being native (a
# version without a Debian revision), changelog.gz. The changelog's date honours
# SOURCE_DATE_EPOCH.
string(TIMESTAMP FIELDFS_DEB_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)
file(CONFIGURE OUTPUT "${PROJECT_BINARY_DIR}/install/changelog" @ONLY CONTENT [=[
fieldfs (@PROJECT_VERSION@) unstable; urgency=medium

  * fieldfs @PROJECT_VERSION@, packaged with CPack.

 -- @CPACK_PACKAGE_CONTACT@  @FIELDFS_DEB_DATE@
]=])
fieldfs_gzip(FIELDFS_CHANGELOG "${PROJECT_BINARY_DIR}/install/changelog")
file(CONFIGURE OUTPUT "${PROJECT_BINARY_DIR}/install/copyright" CONTENT [=[
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: fieldfs

Files: *
Copyright: 2026 the fieldfs authors
License: MIT
 Permission is hereby granted, free of charge, to any person obtaining a copy
 of this software and associated documentation files (the "Software"), to deal
 in the Software without restriction, including without limitation the rights
 to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
 copies of the Software, and to permit persons to whom the Software is
 furnished to do so, subject to the following conditions:
 .
 The above copyright notice and this permission notice shall be included in
 all copies or substantial portions of the Software.
 .
 THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
 IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
 FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
 AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
 LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
 OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN
 THE SOFTWARE.
]=])
foreach(component IN ITEMS runtime dev)
  set(package fieldfs)
  if(component STREQUAL dev)
    set(package fieldfs-dev)
  endif()
  install(FILES "${PROJECT_BINARY_DIR}/install/copyright" "${FIELDFS_CHANGELOG}"
    DESTINATION "${CMAKE_INSTALL_DATADIR}/doc/${package}" COMPONENT ${component})
endforeach()

include(CPack)
