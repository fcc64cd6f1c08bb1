# SPDX-License-Identifier: MIT
# Installation (`cmake --install`) and the Debian packages (cmake/deb.cmake). Every file belongs
# to a component: `runtime` (the fieldfs package) or `dev` (fieldfs-dev).
#
# Installs, under CMAKE_INSTALL_PREFIX (default /usr/local: mount(8) runs mount.fuse3 without
# PATH, and its shell finds fieldfs in /usr/local/bin or /usr/bin; the .debs use /usr):
#   runtime: bin/fieldfs, bin/fieldfs-watch, libexec/fieldfs/fieldfs-header,
#            share/man/man1/fieldfs.1.gz, fieldfs-watch.1.gz, lib/systemd/system/fieldfs@.service,
#            share/bash-completion/completions/fieldfs, fieldfs-watch,
#            share/fieldfs/examples/every_kind.h, pos.h, foo_map.c, stdio_client.c
#   dev:     include/fieldfs/*.hpp (mapped.hpp and what it needs), include/fieldfs/seqlock.h
#            (the sequence counter for C, header-only), lib/libfieldfs_core.a,
#            lib/pkgconfig/fieldfs.pc, lib/cmake/fieldfs/ (fieldfsConfig.cmake and its version),
#            share/fieldfs/examples/mapped_foo.cpp, mapped_seq.cpp, seq_writer.c
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

install(TARGETS fieldfs fieldfs-watch RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}"
  COMPONENT runtime)
install(TARGETS fieldfs-header RUNTIME DESTINATION "${CMAKE_INSTALL_LIBEXECDIR}/fieldfs"
  COMPONENT runtime)
# fieldfs_gzip(OUT SOURCE): OUT names a copy of SOURCE that the build compresses with gzip -9n
# (-n: no name or timestamp, so that the packages build reproducibly), as Debian's policy asks
# of man pages and changelogs; man(1) reads them either way.
function(fieldfs_gzip out source)
  get_filename_component(name "${source}" NAME)
  set(copy "${PROJECT_BINARY_DIR}/gz/${name}")
  add_custom_command(OUTPUT "${copy}.gz"
    COMMAND "${CMAKE_COMMAND}" -E copy "${source}" "${copy}"
    COMMAND gzip -9nf "${copy}"
    DEPENDS "${source}" VERBATIM)
  add_custom_target("gz_${name}" ALL DEPENDS "${copy}.gz")
  set(${out} "${copy}.gz" PARENT_SCOPE)
endfunction()
fieldfs_gzip(FIELDFS_MAN_FIELDFS "${FIELDFS_TOP}/man/fieldfs.1")
fieldfs_gzip(FIELDFS_MAN_WATCH "${FIELDFS_TOP}/man/fieldfs-watch.1")
install(FILES "${FIELDFS_MAN_FIELDFS}" "${FIELDFS_MAN_WATCH}"
  DESTINATION "${CMAKE_INSTALL_MANDIR}/man1" COMPONENT runtime)
# The schema and C examples serve the daemon's users; mapped_foo.cpp, mapped_seq.cpp and
# seq_writer.c (which includes fieldfs/seqlock.h) need fieldfs-dev.
set(FIELDFS_DEV_EXAMPLES "${FIELDFS_TOP}/examples/mapped_foo.cpp"
  "${FIELDFS_TOP}/examples/mapped_seq.cpp" "${FIELDFS_TOP}/examples/seq_writer.c")
file(GLOB FIELDFS_EXAMPLES "${FIELDFS_TOP}/examples/*.h" "${FIELDFS_TOP}/examples/*.c")
list(REMOVE_ITEM FIELDFS_EXAMPLES ${FIELDFS_DEV_EXAMPLES})
install(FILES ${FIELDFS_EXAMPLES} DESTINATION "${CMAKE_INSTALL_DATADIR}/fieldfs/examples"
  COMPONENT runtime)
install(FILES ${FIELDFS_DEV_EXAMPLES} DESTINATION "${CMAKE_INSTALL_DATADIR}/fieldfs/examples"
  COMPONENT dev)
# systemd's unit search path has /usr/local/lib/systemd/system and /usr/lib/systemd/system.
install(FILES "${FIELDFS_TOP}/systemd/fieldfs@.service" DESTINATION lib/systemd/system
  COMPONENT runtime)

# The API: include/ holds exactly what is installed, fieldfs::Mapped<T> and the headers it
# needs (segment, schema, result, unique_fd, seqlock), and the C header seqlock.h; the core's
# other headers sit beside its sources.
file(GLOB FIELDFS_API_HEADERS "${FIELDFS_TOP}/include/fieldfs/*.hpp"
  "${FIELDFS_TOP}/include/fieldfs/*.h")
install(FILES ${FIELDFS_API_HEADERS} DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/fieldfs"
  COMPONENT dev)
install(TARGETS fieldfs_core ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT dev)

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

install(FILES "${PROJECT_BINARY_DIR}/install/fieldfs.pc" DESTINATION "${FIELDFS_PKGCONFIGDIR}"
  COMPONENT dev)
install(FILES "${PROJECT_BINARY_DIR}/install/fieldfsConfig.cmake"
  "${PROJECT_BINARY_DIR}/install/fieldfsConfigVersion.cmake" DESTINATION "${FIELDFS_CMAKEDIR}"
  COMPONENT dev)


# bash-completion loads completions on demand from share/bash-completion/completions/NAME,
# under /usr and /usr/local alike (XDG_DATA_DIRS).
install(FILES "${FIELDFS_TOP}/completion/fieldfs.bash"
  DESTINATION "${CMAKE_INSTALL_DATADIR}/bash-completion/completions" RENAME fieldfs
  COMPONENT runtime)
install(FILES "${FIELDFS_TOP}/completion/fieldfs.bash"
  DESTINATION "${CMAKE_INSTALL_DATADIR}/bash-completion/completions" RENAME fieldfs-watch
  COMPONENT runtime)

include("${CMAKE_CURRENT_LIST_DIR}/deb.cmake")
