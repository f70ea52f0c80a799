#!/usr/bin/env bash
# Builds kura.exe's libraries for Windows x86-64 from Debian's own source packages, at the
# versions Debian 12 ships, with the MinGW-w64 cross compiler (posix threads), as static
# libraries into a cache outside the clone (docs/adr/0007-windows-build.md):
#
#   ${KURA_MINGW_CACHE:-~/.cache/kura/mingw}/<key>/{include,lib,lib/pkgconfig,share}
#   ${KURA_MINGW_CACHE:-~/.cache/kura/mingw}/current -> <key>
#
# <key> is a hash of the compiler's version, the recipe number below and every library's
# Debian source version, so a new Debian point release or compiler makes a new prefix and
# an old one is never half-updated. Inside it, stamps/<library>_<version>.done marks a finished
# library: a second run skips it. Run scripts/windows/setup.sh first.
#
# Usage: build-deps.sh [library...]   (default: all, in dependency order)
# Env:   KURA_MINGW_CACHE (cache root), KURA_MINGW_JOBS (make -j, default 2)
set -euo pipefail

# Bump when a library's configure flags change, so caches built by the old recipe are
# not reused.
RECIPE=1
HOST=x86_64-w64-mingw32
CC="${HOST}-gcc-posix"
CXX="${HOST}-g++-posix"
JOBS="${KURA_MINGW_JOBS:-2}"
CACHE_ROOT="${KURA_MINGW_CACHE:-${HOME}/.cache/kura/mingw}"

# library name -> Debian source package, and the binary package whose candidate version
# is the one Debian ships to this machine (the pin).
declare -A SRC=(
  [zstd]=libzstd [sodium]=libsodium [sqlite]=sqlite3 [openssl]=openssl [curl]=curl
  [fmt]=fmtlib [spdlog]=spdlog [json]=nlohmann-json3 [cli11]=cli11 [toml11]=toml11
  [gtest]=googletest
)
declare -A BIN=(
  [zstd]=libzstd-dev [sodium]=libsodium-dev [sqlite]=libsqlite3-dev [openssl]=libssl-dev
  [curl]=libcurl4-openssl-dev [fmt]=libfmt-dev [spdlog]=libspdlog-dev
  [json]=nlohmann-json3-dev [cli11]=libcli11-dev [toml11]=libtoml11-dev [gtest]=libgtest-dev
)
ALL=(zstd sodium sqlite openssl curl fmt spdlog json cli11 toml11 gtest)

command -v "$CXX" >/dev/null || { echo "build-deps: $CXX is missing; run scripts/windows/setup.sh" >&2; exit 1; }
command -v dpkg-source >/dev/null || { echo "build-deps: dpkg-dev is missing; run scripts/windows/setup.sh" >&2; exit 1; }

# The source version of the binary package's candidate: the version Debian ships now.
src_version() {
  local bin=$1 ver src
  ver=$(apt-cache policy "$bin" | awk '/Candidate:/ {print $2}')
  [ -n "$ver" ] && [ "$ver" != "(none)" ] || { echo "build-deps: no candidate for $bin (apt-get update?)" >&2; exit 1; }
  # A binNMU or a differently versioned source shows as "Source: name (version)".
  src=$(apt-cache show "$bin=$ver" | awk -F'[()]' '/^Source:/ && /\(/ {print $2; exit}')
  echo "${src:-$ver}"
}

declare -A VER
for lib in "${ALL[@]}"; do VER[$lib]=$(src_version "${BIN[$lib]}"); done
toolchain=$("$CXX" --version | head -1)
mingw_rt=$(dpkg-query -W -f='${Version}' mingw-w64-x86-64-dev)
key_text="recipe=$RECIPE|$toolchain|mingw-w64=$mingw_rt"
for lib in "${ALL[@]}"; do key_text+="|$lib=${VER[$lib]}"; done
KEY=$(printf '%s' "$key_text" | sha256sum | cut -c1-16)
PREFIX="$CACHE_ROOT/$KEY"
mkdir -p "$PREFIX"/{include,lib/pkgconfig,stamps,src,logs}
# versions.txt: the pins, then which ones were built from another source (fetch).
{ printf '%s\n' "$key_text" | tr '|' '\n'; cat "$PREFIX"/stamps/*.from 2>/dev/null || true; } >"$PREFIX/versions.txt"
ln -sfn "$KEY" "$CACHE_ROOT/current"
echo "build-deps: prefix $PREFIX"

# fetch LIB: unpacks Debian's source (with Debian's patches applied) into a fresh dir
# and prints its path. The pin is the candidate's source version; when the archive no
# longer serves that exact source (a security upload whose source left the mirror), the
# other source versions apt knows are tried (same upstream version first, then older
# ones), and the one used is written to versions.txt (docs/adr/0007-windows-build.md).
fetch() {
  local lib=$1 work="$PREFIX/src/$1" upstream v
  rm -rf "$work" && mkdir -p "$work"
  upstream=${VER[$lib]%-*}
  # Candidate first, then the same upstream version's other revisions, then older
  # versions of the suites (newest first); never a newer one than the candidate.
  local others; others=$(apt-cache showsrc "${SRC[$lib]}" | awk '/^Version:/ {print $2}' | sort -urV)
  for v in "${VER[$lib]}" $(for o in $others; do [ "${o%-*}" = "$upstream" ] && echo "$o"; done) \
           $(for o in $others; do [ "${o%-*}" != "$upstream" ] && echo "$o"; done); do
    dpkg --compare-versions "$v" le "${VER[$lib]}" || continue
    if (cd "$work" && apt-get source -qq -o APT::Sandbox::User=root --only-source "${SRC[$lib]}=$v") \
        >>"$PREFIX/logs/$lib.fetch.log" 2>&1; then
      if [ "$v" != "${VER[$lib]}" ]; then
        echo "$lib: source ${VER[$lib]} not served; built from $v" | tee "$PREFIX/stamps/${lib}_${VER[$lib]}.from" >>"$PREFIX/versions.txt"
      fi
      find "$work" -mindepth 1 -maxdepth 1 -type d | head -1
      return 0
    fi
  done
  echo "build-deps: apt-get source ${SRC[$lib]}=${VER[$lib]} failed (see $PREFIX/logs/$lib.fetch.log)" >&2
  return 1
}

cmake_cross() {
  cmake -G Ninja -DCMAKE_SYSTEM_NAME=Windows -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
    -DCMAKE_RC_COMPILER="${HOST}-windres" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$PREFIX" -DCMAKE_FIND_ROOT_PATH="$PREFIX" "$@"
}

build_zstd() {
  local s; s=$(fetch zstd) || return 1
  cmake_cross -S "$s/build/cmake" -B "$s/_build" -DZSTD_BUILD_SHARED=OFF -DZSTD_BUILD_STATIC=ON \
    -DZSTD_BUILD_PROGRAMS=OFF -DZSTD_BUILD_TESTS=OFF -DZSTD_MULTITHREAD_SUPPORT=ON
  cmake --build "$s/_build" -j"$JOBS" && cmake --install "$s/_build"
}

build_sodium() {
  local s; s=$(fetch sodium) || return 1
  # Debian's source has no generated configure script.
  (cd "$s" && { [ -x configure ] || autoreconf -fi; } && ./configure --host=$HOST CC="$CC" --prefix="$PREFIX" --enable-static --disable-shared \
      --disable-dependency-tracking && make -j"$JOBS" && make install)
}

build_sqlite() {
  local s; s=$(fetch sqlite) || return 1
  # SQLite's autoconf build does not cross-compile cleanly (its generator tools get the
  # host's .exe suffix and the Unix VFS is forced), so: generate the amalgamation with a
  # native configure, then compile that one file with the cross compiler. The options are
  # those kura relies on in Debian's Linux build (online backup API is always there).
  (cd "$s" && mkdir -p _native && cd _native && ../configure --disable-tcl --disable-readline \
      >/dev/null && make sqlite3.c sqlite3.h sqlite3ext.h && \
    "$CC" -O2 -DSQLITE_THREADSAFE=1 -DSQLITE_ENABLE_COLUMN_METADATA=1 -DSQLITE_SECURE_DELETE=1 \
      -DSQLITE_ENABLE_FTS5 -DSQLITE_ENABLE_MATH_FUNCTIONS -DSQLITE_OMIT_LOAD_EXTENSION=0 \
      -c sqlite3.c -o sqlite3.o && \
    "${HOST}-ar" rcs "$PREFIX/lib/libsqlite3.a" sqlite3.o && \
    install -m644 sqlite3.h ../src/sqlite3ext.h "$PREFIX/include/" 2>/dev/null || install -m644 sqlite3.h sqlite3ext.h "$PREFIX/include/") && \
  printf 'prefix=%s\nlibdir=${prefix}/lib\nincludedir=${prefix}/include\n\nName: SQLite\nDescription: SQL database engine\nVersion: %s\nLibs: -L${libdir} -lsqlite3\nCflags: -I${includedir}\n' \
    "$PREFIX" "${VER[sqlite]%-*}" >"$PREFIX/lib/pkgconfig/sqlite3.pc"
}

build_openssl() {
  local s; s=$(fetch openssl) || return 1
  # no-shared: one kura.exe without DLLs; the engines/modules directories are not needed.
  (cd "$s" && ./Configure mingw64 --cross-compile-prefix=${HOST}- no-shared no-tests \
      no-engine no-module --prefix="$PREFIX" --libdir=lib --openssldir="$PREFIX/ssl" \
      CC=gcc-posix CXX=g++-posix && \
    make -j"$JOBS" build_libs && make install_dev)
}

build_curl() {
  local s; s=$(fetch curl) || return 1
  # curl against the OpenSSL above and nothing else: HTTPS, no compression libraries,
  # no HTTP/2, no IDN, no LDAP, no SSH.
  (cd "$s" && { [ -x configure ] || autoreconf -fi; } && mkdir -p _build && cd _build && \
    ../configure --host=$HOST CC="$CC" --prefix="$PREFIX" --enable-static --disable-shared \
      --with-openssl="$PREFIX" --without-zlib --without-brotli --without-zstd --without-libpsl \
      --without-libidn2 --without-nghttp2 --without-nghttp3 --without-ngtcp2 --without-libssh2 \
      --without-librtmp --without-libgsasl --disable-ldap --disable-ldaps --disable-manual \
      --disable-docs --without-ca-bundle --without-ca-path --disable-dependency-tracking \
      PKG_CONFIG_LIBDIR="$PREFIX/lib/pkgconfig" LIBS="-lcrypt32 -lws2_32 -lbcrypt" && \
    make -j"$JOBS" -C lib && make -C lib install && make -C include install && \
    make install-pkgconfigDATA 2>/dev/null || install -m644 libcurl.pc "$PREFIX/lib/pkgconfig/")
}

# Header-only libraries: their Debian source's include tree, copied as is.
copy_headers() {
  local lib=$1 sub=$2 s; s=$(fetch "$lib") || return 1
  cp -a "$s/$sub/." "$PREFIX/include/"
}
build_fmt() { copy_headers fmt include || headers_from_deb fmt; }        # used with FMT_HEADER_ONLY
build_spdlog() { copy_headers spdlog include || headers_from_deb spdlog; }  # used with SPDLOG_HEADER_ONLY + SPDLOG_FMT_EXTERNAL
build_json() { copy_headers json include || headers_from_deb json; }
build_cli11() { copy_headers cli11 include || headers_from_deb cli11; }
build_toml11() {
  local s
  if s=$(fetch toml11); then
    cp -a "$s/toml.hpp" "$PREFIX/include/" && cp -a "$s/toml" "$PREFIX/include/"
  else
    headers_from_deb toml11
  fi
}

# GoogleTest and GMock, for running kura's unit tests under Wine.
build_gtest() {
  local s; s=$(fetch gtest) || return 1
  cmake_cross -S "$s" -B "$s/_build" -DBUILD_GMOCK=ON -DINSTALL_GTEST=ON -Dgtest_disable_pthreads=OFF
  cmake --build "$s/_build" -j"$JOBS" && cmake --install "$s/_build"
}

# A header-only library whose source the mirror does not serve: the same version's -dev
# package holds the same headers (nothing in them is built for the host), so unpack it.
headers_from_deb() {
  local lib=$1 work="$PREFIX/src/$1-deb"
  rm -rf "$work" && mkdir -p "$work"
  (cd "$work" && apt-get download -qq -o APT::Sandbox::User=root "${BIN[$lib]}=${VER[$lib]}" && \
    dpkg-deb -x ./*.deb root) || return 1
  cp -a "$work/root/usr/include/." "$PREFIX/include/"
  echo "$lib: source ${VER[$lib]} not served; headers from ${BIN[$lib]} ${VER[$lib]}" \
    | tee "$PREFIX/stamps/${lib}_${VER[$lib]}.from" >>"$PREFIX/versions.txt"
  rm -rf "$work"
}

libs=("$@")
[ ${#libs[@]} -gt 0 ] || libs=("${ALL[@]}")
for lib in "${libs[@]}"; do
  [ -n "${SRC[$lib]:-}" ] || { echo "build-deps: unknown library $lib (one of: ${ALL[*]})" >&2; exit 2; }
  stamp="$PREFIX/stamps/${lib}_${VER[$lib]}"
  if [ -f "$stamp.done" ]; then
    echo "build-deps: $lib ${VER[$lib]} is in the cache"
    continue
  fi
  echo "build-deps: building $lib ${VER[$lib]} (log: $PREFIX/logs/$lib.log)"
  start=$(date +%s)
  if ! "build_$lib" >"$PREFIX/logs/$lib.log" 2>&1; then
    echo "build-deps: $lib failed; the last lines of $PREFIX/logs/$lib.log:" >&2
    tail -n 30 "$PREFIX/logs/$lib.log" >&2
    exit 1
  fi
  rm -rf "$PREFIX/src/$lib"
  secs=$(( $(date +%s) - start ))
  echo "$secs" >"$stamp.done"
  echo "build-deps: $lib ${VER[$lib]} built in ${secs}s"
done
echo "build-deps: done; CMake: -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-mingw64.cmake (prefix $PREFIX)"
