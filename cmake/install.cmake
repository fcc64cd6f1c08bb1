# SPDX-License-Identifier: MIT
# Installation and the Debian package. In the top-level CMakeLists.txt, replace the line
#
#   install(TARGETS fieldfs fieldfs-watch RUNTIME DESTINATION bin)
#
# with
#
#   include(cmake/install.cmake)
#
# (after every target is defined), and add, inside `if(FIELDFS_TESTS)`,
#
#   add_subdirectory(tests/mapped)
#
# Installs, under CMAKE_INSTALL_PREFIX (default /usr/local: mount(8) runs mount.fuse3 without
# PATH, and its shell finds fieldfs in /usr/local/bin or /usr/bin; the .deb uses /usr):
#   bin/fieldfs, bin/fieldfs-watch        share/man/man1/fieldfs.1, fieldfs-watch.1
#   share/fieldfs/examples/               every_kind.h, foo_map.c, mapped_foo.cpp
#   lib/systemd/system/fieldfs@.service   include/fieldfs/*.hpp (mapped.hpp and what it needs)
#   lib/libfieldfs_core.a                 lib/pkgconfig/fieldfs.pc
#   lib/cmake/fieldfs/                    fieldfsConfig.cmake, fieldfsConfigVersion.cmake
#
# fieldfs::Mapped<T> (include/fieldfs/mapped.hpp) opens segments with Segment::open, the
# daemon's own code, so the package ships the core as a static library with its headers and
# both the CMake package (target fieldfs::mapped) and fieldfs.pc link it. The core's static
# archive pulls in only the objects a program uses (segment, codec): no libclang, no FUSE.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

get_filename_component(FIELDFS_TOP "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)

# Programs may link Mapped<T> into shared objects (plugins, Python extensions).
set_target_properties(fieldfs_core PROPERTIES POSITION_INDEPENDENT_CODE ON)

install(TARGETS fieldfs fieldfs-watch RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
install(TARGETS fieldfs-header RUNTIME DESTINATION "${CMAKE_INSTALL_LIBEXECDIR}/fieldfs")
install(FILES "${FIELDFS_TOP}/man/fieldfs.1" "${FIELDFS_TOP}/man/fieldfs-watch.1"
  DESTINATION "${CMAKE_INSTALL_MANDIR}/man1")
file(GLOB FIELDFS_EXAMPLES "${FIELDFS_TOP}/examples/*.h" "${FIELDFS_TOP}/examples/*.c"
  "${FIELDFS_TOP}/examples/*.cpp")
install(FILES ${FIELDFS_EXAMPLES} DESTINATION "${CMAKE_INSTALL_DATADIR}/fieldfs/examples")
# systemd's unit search path has /usr/local/lib/systemd/system and /usr/lib/systemd/system.
install(FILES "${FIELDFS_TOP}/systemd/fieldfs@.service" DESTINATION lib/systemd/system)

# The C++ API: include/ holds exactly what is installed, fieldfs::Mapped<T> and the headers it
# needs (segment, schema, result, unique_fd); the core's other headers sit beside its sources.
file(GLOB FIELDFS_API_HEADERS "${FIELDFS_TOP}/include/fieldfs/*.hpp")
install(FILES ${FIELDFS_API_HEADERS} DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/fieldfs")
install(TARGETS fieldfs_core ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}")

# Both files find the prefix from where they are installed, so `cmake --install --prefix`,
# DESTDIR and the .deb's /usr all work without reconfiguring.
set(FIELDFS_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/fieldfs")
set(FIELDFS_PKGCONFIGDIR "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
file(RELATIVE_PATH FIELDFS_PC_UP "/p/${FIELDFS_PKGCONFIGDIR}" "/p")
file(RELATIVE_PATH FIELDFS_CMAKE_UP "/p/${FIELDFS_CMAKEDIR}" "/p")
string(REGEX REPLACE "/$" "" FIELDFS_PC_UP "${FIELDFS_PC_UP}")
string(REGEX REPLACE "/$" "" FIELDFS_CMAKE_UP "${FIELDFS_CMAKE_UP}")

file(CONFIGURE OUTPUT "${PROJECT_BINARY_DIR}/install/fieldfs.pc" @ONLY CONTENT [=[
prefix=${pcfiledir}/@FIELDFS_PC_UP@
includedir=${prefix}/@CMAKE_INSTALL_INCLUDEDIR@
libdir=${prefix}/@CMAKE_INSTALL_LIBDIR@

Name: fieldfs
Description: fieldfs::Mapped<T>: map a fieldfs segment with the daemon's rules (C++20)
Version: @PROJECT_VERSION@
Cflags: -std=c++20 -I${includedir}
Libs: -L${libdir} -lfieldfs_core
]=])

file(CONFIGURE OUTPUT "${PROJECT_BINARY_DIR}/install/fieldfsConfig.cmake" @ONLY CONTENT [=[
# SPDX-License-Identifier: MIT
# find_package(fieldfs) defines fieldfs::mapped (include/fieldfs/mapped.hpp, C++20) and
# fieldfs::core (libfieldfs_core.a, which Mapped<T> opens segments with).
get_filename_component(_fieldfs_prefix "${CMAKE_CURRENT_LIST_DIR}/@FIELDFS_CMAKE_UP@" ABSOLUTE)
if(NOT TARGET fieldfs::core)
  add_library(fieldfs::core STATIC IMPORTED)
  set_target_properties(fieldfs::core PROPERTIES
    IMPORTED_LOCATION "${_fieldfs_prefix}/@CMAKE_INSTALL_LIBDIR@/libfieldfs_core.a"
    INTERFACE_INCLUDE_DIRECTORIES "${_fieldfs_prefix}/@CMAKE_INSTALL_INCLUDEDIR@"
    INTERFACE_COMPILE_FEATURES cxx_std_20)
endif()
if(NOT TARGET fieldfs::mapped)
  add_library(fieldfs::mapped INTERFACE IMPORTED)
  set_target_properties(fieldfs::mapped PROPERTIES INTERFACE_LINK_LIBRARIES fieldfs::core)
endif()
foreach(_fieldfs_file IN ITEMS "@CMAKE_INSTALL_LIBDIR@/libfieldfs_core.a"
                               "@CMAKE_INSTALL_INCLUDEDIR@/fieldfs/mapped.hpp")
  if(NOT EXISTS "${_fieldfs_prefix}/${_fieldfs_file}")
    set(fieldfs_FOUND FALSE)
    set(fieldfs_NOT_FOUND_MESSAGE "${_fieldfs_prefix}/${_fieldfs_file} is missing")
  endif()
endforeach()
unset(_fieldfs_file)
unset(_fieldfs_prefix)
]=])

write_basic_package_version_file("${PROJECT_BINARY_DIR}/install/fieldfsConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}" COMPATIBILITY SameMinorVersion)

install(FILES "${PROJECT_BINARY_DIR}/install/fieldfs.pc" DESTINATION "${FIELDFS_PKGCONFIGDIR}")
install(FILES "${PROJECT_BINARY_DIR}/install/fieldfsConfig.cmake"
  "${PROJECT_BINARY_DIR}/install/fieldfsConfigVersion.cmake" DESTINATION "${FIELDFS_CMAKEDIR}")

# The Debian package: `cpack -G DEB` in the build directory (installs under /usr).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME fieldfs)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "fieldfs maintainers <fieldfs@example.org>")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "mount a C struct in shared memory as a directory of text files")
set(CPACK_PACKAGE_DESCRIPTION [=[fieldfs serves a C struct that lives in a POSIX shared-memory segment (or a
file) as a FUSE directory with one text file per field, with the semantics of
sysfs attributes: cat reads a field, echo sets it, and programs that map the
same bytes see every change at once. The struct comes from a C header, read
with libclang. Includes fieldfs-watch, a systemd template unit
(fieldfs@NAME.service) and fieldfs::Mapped<T>, a C++20 API (static library,
pkg-config and CMake package) for programs that map the segment themselves.]=])
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "fuse3, libfuse3-3, libclang1-14, libclang-common-14-dev")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
include(CPack)

# bash-completion loads completions on demand from share/bash-completion/completions/NAME,
# under /usr and /usr/local alike (XDG_DATA_DIRS).
install(FILES "${FIELDFS_TOP}/completion/fieldfs.bash"
  DESTINATION "${CMAKE_INSTALL_DATADIR}/bash-completion/completions" RENAME fieldfs)
install(FILES "${FIELDFS_TOP}/completion/fieldfs.bash"
  DESTINATION "${CMAKE_INSTALL_DATADIR}/bash-completion/completions" RENAME fieldfs-watch)
