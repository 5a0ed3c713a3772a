#!/usr/bin/env bash
# The HTML report's browser tests (tests/test_report_html_browser.py) and its benchmark drive
# a real headless Chromium through Playwright, launched with the system's `chromium` (never
# `playwright install`). `make test` and CI call this first; it installs Debian's `chromium`
# package when it is missing (as root, or through passwordless sudo), and otherwise says
# exactly what to install.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    echo "make test: the chromium browser is missing; install it (Debian/Ubuntu: sudo apt-get install chromium) and rerun" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "make test: the chromium browser is missing and this is not a Debian-like system; install Chromium so that \`chromium\` is on PATH and rerun" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
"${as_root[@]}" apt-get install -y -q chromium
