# Cross-compiling kura for Windows x86-64 with Debian's MinGW-w64 (posix thread model) and
# the static libraries scripts/windows/build-deps.sh put in the cache
# (docs/adr/0007-windows-build.md):
#
#   cmake -S . -B build-win -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-mingw64.cmake
#
# KURA_MINGW_PREFIX (cache variable or environment) names the prefix; by default the one
# build-deps.sh last made, ~/.cache/kura/mingw/current.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(KURA_MINGW_HOST x86_64-w64-mingw32)

# The -posix compilers: std::thread, std::mutex and std::condition_variable need the
# winpthreads thread model (the -win32 ones lack them in GCC 12).
set(CMAKE_C_COMPILER ${KURA_MINGW_HOST}-gcc-posix)
set(CMAKE_CXX_COMPILER ${KURA_MINGW_HOST}-g++-posix)
set(CMAKE_RC_COMPILER ${KURA_MINGW_HOST}-windres)
set(CMAKE_AR ${KURA_MINGW_HOST}-gcc-ar-posix CACHE FILEPATH "")
set(CMAKE_RANLIB ${KURA_MINGW_HOST}-gcc-ranlib-posix CACHE FILEPATH "")

if(NOT KURA_MINGW_PREFIX)
  if(DEFINED ENV{KURA_MINGW_PREFIX})
    set(KURA_MINGW_PREFIX $ENV{KURA_MINGW_PREFIX})
  else()
    set(KURA_MINGW_PREFIX $ENV{HOME}/.cache/kura/mingw/current)
  endif()
endif()
get_filename_component(KURA_MINGW_PREFIX "${KURA_MINGW_PREFIX}" REALPATH)
set(KURA_MINGW_PREFIX "${KURA_MINGW_PREFIX}" CACHE PATH "Prefix of the MinGW-w64 libraries (build-deps.sh)" FORCE)
# CMake reads this file again for each try_compile, in the same process and without the
# cache: the environment carries the prefix there, so every read picks the same one.
set(ENV{KURA_MINGW_PREFIX} "${KURA_MINGW_PREFIX}")
if(NOT EXISTS "${KURA_MINGW_PREFIX}/versions.txt")
  message(FATAL_ERROR "No MinGW-w64 library cache at ${KURA_MINGW_PREFIX}: run scripts/windows/setup.sh and scripts/windows/build-deps.sh")
endif()

# Libraries and headers only from the cache and the MinGW sysroot, programs from the host.
set(CMAKE_FIND_ROOT_PATH ${KURA_MINGW_PREFIX} /usr/${KURA_MINGW_HOST})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(ENV{PKG_CONFIG_LIBDIR} ${KURA_MINGW_PREFIX}/lib/pkgconfig)
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")
set(OPENSSL_ROOT_DIR ${KURA_MINGW_PREFIX})
set(OPENSSL_USE_STATIC_LIBS TRUE)
set(CURL_ROOT ${KURA_MINGW_PREFIX})

# One kura.exe without MinGW's runtime DLLs beside it (libstdc++, libgcc, winpthread).
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")

# Tests and tools built for Windows run under Wine (Debian's wine64).
find_program(KURA_WINE NAMES wine wine64)
if(KURA_WINE)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${KURA_WINE})
endif()
