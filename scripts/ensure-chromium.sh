#!/usr/bin/env bash
# The HTML report's browser tests (tests/test_report_html_browser.py) and its benchmark drive
# a real headless Chromium through Playwright, launched with the system's `chromium` (never
# `playwright install`). `make test` and CI call this first; it installs Debian's `chromium`
# package when it is missing (scripts/apt-install.sh: as root, or through passwordless sudo),
# and otherwise says exactly what to install.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
exec "$(dirname "$0")/apt-install.sh" "the chromium browser is" chromium
