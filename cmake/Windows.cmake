# The Windows build of kura's layers, cross-compiled with MinGW-w64 against the library
# cache of scripts/windows/build-deps.sh (docs/adr/0007-windows-build.md). Included by the
# top-level CMakeLists.txt only when WIN32, which then stops reading, so the Linux build
# never sees this file. Configure with:
#
#   cmake -S . -B build-win -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-mingw64.cmake
#
# A layer builds here only once every POSIX call in it has a Windows implementation
# (docs/windows-port.md); KURA_WINDOWS_LAYERS lists those that do.

find_package(Threads REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)

# libsodium's headers declare dllimport unless told the library is static.
target_compile_definitions(PkgConfig::SODIUM INTERFACE SODIUM_STATIC=1)
# OpenSSL's static libcrypto needs the Windows socket and certificate-store libraries.
target_link_libraries(OpenSSL::Crypto INTERFACE ws2_32 crypt32 bcrypt)

# fmt and spdlog header-only, with nlohmann-json, CLI11 and toml11 from the cache's
# include/ (the toolchain file puts it on the search path).
add_library(kura_win_headers INTERFACE)
target_include_directories(kura_win_headers SYSTEM INTERFACE ${KURA_MINGW_PREFIX}/include)
target_compile_definitions(kura_win_headers INTERFACE FMT_HEADER_ONLY SPDLOG_HEADER_ONLY SPDLOG_FMT_EXTERNAL
                                                      # off_t of 64 bits, as on Linux (sparse.h, io.h)
                                                      _FILE_OFFSET_BITS=64
                                                      # Windows 10 and later: the APIs of docs/windows-port.md
                                                      _WIN32_WINNT=0x0A00 WINVER=0x0A00 NOMINMAX WIN32_LEAN_AND_MEAN)

# kura_win_layer(NAME): the static library kura_NAME from src/NAME/*.cc, where a file
# src/NAME/win/X.cc replaces src/NAME/X.cc (the POSIX implementation of the same header).
function(kura_win_layer name)
  file(GLOB srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${name}/*.cc)
  file(GLOB win_srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${name}/win/*.cc)
  foreach(w IN LISTS win_srcs)
    get_filename_component(base ${w} NAME)
    list(REMOVE_ITEM srcs ${PROJECT_SOURCE_DIR}/src/${name}/${base})
  endforeach()
  add_library(kura_${name} STATIC ${srcs} ${win_srcs})
  target_include_directories(kura_${name} PUBLIC ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(kura_${name} PUBLIC kura_win_headers)
endfunction()

set(KURA_WINDOWS_LAYERS util crypto chunker)
# Not ported yet (docs/windows-port.md §2-6): left out of kura_util, so what links them
# fails to link rather than running POSIX code.
set(KURA_WINDOWS_UNPORTED)
kura_win_layer(util)
foreach(f IN LISTS KURA_WINDOWS_UNPORTED)
  get_target_property(util_srcs kura_util SOURCES)
  list(REMOVE_ITEM util_srcs ${PROJECT_SOURCE_DIR}/src/util/${f}.cc)
  set_property(TARGET kura_util PROPERTY SOURCES ${util_srcs})
endforeach()
target_link_libraries(kura_util PUBLIC OpenSSL::Crypto Threads::Threads ntdll)
kura_win_layer(crypto)
target_link_libraries(kura_crypto PUBLIC kura_util OpenSSL::Crypto PkgConfig::SODIUM)
kura_win_layer(chunker)
target_link_libraries(kura_chunker PUBLIC kura_util kura_crypto)
message(STATUS "kura: Windows build of the layers ${KURA_WINDOWS_LAYERS}; util without ${KURA_WINDOWS_UNPORTED} (docs/windows-port.md)")

# The Windows smoke check of the ported layers, run under Wine by ctest (the toolchain
# file sets Wine as the emulator): tests/windows/smoke_main.cc.
add_executable(kura_windows_smoke tests/windows/smoke_main.cc)
target_link_libraries(kura_windows_smoke PRIVATE kura_crypto shell32)
enable_testing()
add_test(NAME WindowsSmoke COMMAND kura_windows_smoke)
# Wine's state lives in the build directory, made on first use, so runs share nothing.
set_tests_properties(WindowsSmoke PROPERTIES LABELS unit TIMEOUT 300
                     ENVIRONMENT "WINEDEBUG=-all;WINEPREFIX=${CMAKE_BINARY_DIR}/wineprefix")

# GoogleTest suites written for Windows (tests/windows/*_test.cc), when build-deps.sh has
# put GoogleTest in the cache. Registered with plain add_test: gtest_discover_tests would
# start Wine at build time.
find_package(GTest CONFIG QUIET)
file(GLOB KURA_WINDOWS_TEST_SRCS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/windows/*_test.cc)
if(GTest_FOUND AND KURA_WINDOWS_TEST_SRCS)
  add_executable(kura_windows_tests ${KURA_WINDOWS_TEST_SRCS})
  target_link_libraries(kura_windows_tests PRIVATE kura_crypto GTest::gtest GTest::gtest_main)
  add_test(NAME WindowsTests COMMAND kura_windows_tests)
  set_tests_properties(WindowsTests PROPERTIES LABELS unit TIMEOUT 300
                       ENVIRONMENT "WINEDEBUG=-all;WINEPREFIX=${CMAKE_BINARY_DIR}/wineprefix")
endif()
