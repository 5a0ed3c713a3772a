#!/usr/bin/env bash
# The PostgreSQL tests start a real server (tests/postgres.py): they need its server binaries
# (initdb, postgres). `make test` and CI call this first; it installs them from Debian's
# packages when they are missing (as root, or through passwordless sudo), and otherwise says
# exactly what to install.
set -euo pipefail
if command -v initdb >/dev/null 2>&1 || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    echo "make test: the PostgreSQL server binaries (initdb) are missing; install them (Debian/Ubuntu: sudo apt-get install postgresql) and rerun" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "make test: the PostgreSQL server binaries (initdb) are missing and this is not a Debian-like system; install PostgreSQL's server package and rerun" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
"${as_root[@]}" apt-get install -y -q postgresql
