#!/usr/bin/env bash
# Installs the Debian packages mote needs to build and test, if any are missing (needs root or sudo).
set -euo pipefail

packages=(cmake ninja-build g++ gcc binutils make libgtest-dev libgmock-dev libbenchmark-dev libfmt-dev libssl-dev)

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
