"""The system's Chromium, driven by Playwright: the one launcher of the HTML report's browser
tests (tests/test_report_html_browser.py) and its benchmark (benchmarks/workloads/report_html.py).

Chromium is Debian's ``chromium`` package (scripts/ensure-chromium.sh installs it; `make test`
and `make bench` call that first), launched by path — never ``playwright install``.
"""

from __future__ import annotations

import shutil
from typing import Any

#: Headless, and quiet: no GPU, no sandbox (containers, root), no background requests of its own.
CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking")


def chromium_path() -> str | None:
    """The system Chromium's executable, or None when it is not installed."""
    return shutil.which("chromium")


def launch_chromium(playwright: Any) -> Any:
    """A headless Chromium browser (Playwright's ``Browser``) from the system's executable;
    AssertionError saying what to install when there is none."""
    executable = chromium_path()
    assert executable, "chromium is not installed: run scripts/ensure-chromium.sh (Debian: apt-get install chromium)"
    return playwright.chromium.launch(executable_path=executable, args=list(CHROMIUM_ARGS))
