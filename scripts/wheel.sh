#!/usr/bin/env bash
# The wheel's two steps, as the Dockerfile runs them and the package test (tests/package) checks them:
#   scripts/wheel.sh build DIST            the wheel (dashboard included) into DIST
#   scripts/wheel.sh install VENV WHEEL    a fresh venv at VENV: the locked dependencies, then the wheel
# uv comes from $UV (default: uv on the PATH).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
uv="${UV:-uv}"
case "${1:-}" in
    build)
        "$uv" build --quiet --wheel --out-dir "$2" --build-constraint "$root/requirements/build.txt" "$root"
        ;;
    install)
        python3 -m venv "$2"
        "$uv" pip install --quiet --python "$2/bin/python" --require-hashes -r "$root/requirements/run.txt"
        "$uv" pip install --quiet --python "$2/bin/python" --no-deps "$3"
        ;;
    *)
        echo "usage: $0 build DIST | install VENV WHEEL" >&2
        exit 2
        ;;
esac
