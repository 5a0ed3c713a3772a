#!/usr/bin/env bash
# apt-install.sh WHAT PACKAGE…: install Debian PACKAGEs that `make test` needs and finds missing
# (WHAT says what is missing, for the one line printed when they cannot be installed here):
# as root, or through passwordless sudo, on a Debian-like system; otherwise one line saying
# exactly what to install, and exit 1. Called by ensure-postgresql.sh and ensure-chromium.sh.
set -euo pipefail
what="$1"
shift
if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    echo "make test: $what missing; install it (Debian/Ubuntu: sudo apt-get install $*) and rerun" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "make test: $what missing and this is not a Debian-like system; install it (Debian's package: $*) and rerun" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
"${as_root[@]}" apt-get install -y -q "$@"
