#!/usr/bin/env bash
# The PostgreSQL tests start a real server (tests/postgres.py): they need its server binaries
# (initdb, postgres). `make test` and CI call this first; it installs them from Debian's
# packages when they are missing (scripts/apt-install.sh: as root, or through passwordless
# sudo), and otherwise says exactly what to install.
set -euo pipefail
if command -v initdb >/dev/null 2>&1 || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
    exit 0
fi
exec "$(dirname "$0")/apt-install.sh" "the PostgreSQL server binaries (initdb) are" postgresql
