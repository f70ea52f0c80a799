#!/usr/bin/env bash
# Installs what cross-building kura.exe needs on Debian 12 (docs/adr/0007-windows-build.md):
# the MinGW-w64 cross compiler with POSIX threads (std::thread, std::mutex), the tools the
# library builds call, Wine to run the tests, msitools (wixl) for the MSI, and a deb-src
# entry for the same suites as the deb entries so build-deps.sh can `apt-get source` the
# libraries at exactly the versions Debian ships. Run as root or with sudo. Safe to run again.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

packages=(
  # the cross compiler (posix thread model: C++20 threads and std::filesystem work) and
  # its binutils; mingw-w64-tools has widl/gendef; the -dev headers come with the compiler
  g++-mingw-w64-x86-64-posix gcc-mingw-w64-x86-64-posix mingw-w64-tools
  binutils-mingw-w64-x86-64 mingw-w64-x86-64-dev
  # fetching and unpacking Debian's source packages; tclsh generates SQLite's sources
  dpkg-dev tcl
  # what the libraries' own build systems run (OpenSSL's Configure is Perl; curl and
  # libsodium use autotools scripts shipped in their tarballs; SQLite's amalgamation is C)
  build-essential cmake ninja-build make perl pkg-config autoconf automake libtool
  # tests under Wine, and the MSI
  wine64 wine msitools wixl
  # clean tree for the MSI's file list
  rsync
)

# deb-src for exactly the suites the deb entries name, so `apt-get source` gives the
# same versions as the binary packages (the pin the cache key is made of).
src_file=/etc/apt/sources.list.d/kura-deb-src.sources
changed=0
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  want=$(awk 'BEGIN{RS=""; ORS="\n\n"} /Types:[^\n]*deb([ \n]|$)/ && !/deb-src/ {
            sub(/Types:[^\n]*/, "Types: deb-src"); print }' /etc/apt/sources.list.d/debian.sources)
else
  want=$(sed -n 's/^deb \(\[[^]]*\] \)\?/deb-src \1/p' /etc/apt/sources.list)
  src_file=/etc/apt/sources.list.d/kura-deb-src.list
fi
if grep -qs '^Types:.*deb-src' /etc/apt/sources.list.d/debian.sources; then
  : # the image already has deb-src entries
elif [ ! -f "$src_file" ] || [ "$(cat "$src_file")" != "$want" ]; then
  echo "kura windows setup: adding deb-src entries ($src_file)"
  printf '%s\n' "$want" | $SUDO tee "$src_file" >/dev/null
  changed=1
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ] || [ "$changed" -eq 1 ]; then
  $SUDO apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "kura windows setup: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "kura windows setup: the cross toolchain, wine64 and msitools are installed"
