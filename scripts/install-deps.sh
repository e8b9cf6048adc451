#!/usr/bin/env bash
# Installs the Debian packages mote needs to build and test, if any are missing (needs root or sudo).
# `install-deps.sh fuzz` also installs what `make fuzz` needs (clang-19 and its libFuzzer runtime).
set -euo pipefail

# GCC's sanitizer runtimes (libasan8, libubsan1, libtsan2) come with g++ (via libgcc-12-dev).
packages=(cmake ninja-build g++ gcc binutils make libgtest-dev libgmock-dev libbenchmark-dev libfmt-dev libssl-dev libseccomp-dev pkg-config)
case "${1:-}" in
  "") ;;
  # clang-14 (Debian's default clang) cannot compile libstdc++ 12's <expected>; clang-19 can.
  fuzz) packages+=(clang-19 libclang-rt-19-dev) ;;
  *) echo "usage: $0 [fuzz]" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "mote: installing missing packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
