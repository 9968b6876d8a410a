#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, when they are missing:
# Fashion-MNIST's IDX files, Chromium for the browser tests (Playwright drives it), a Korean font, and wrk
# (the C load generator the service benchmarks use).
set -euo pipefail
packages=(dataset-fashion-mnist chromium fonts-nanum wrk)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]}; run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
echo "installing ${missing[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
