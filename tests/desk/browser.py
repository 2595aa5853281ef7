"""A real headless Chromium for the desk's page tests: the system's chromium and chromedriver, by path.

Selenium Manager never runs and nothing is downloaded; tests skip, saying so, only when no chromium is
installed (`make browser` installs it where it can).
"""

from __future__ import annotations

import os
import shutil
from typing import Any

import pytest

CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium") or "") if p and os.path.exists(p)), None)
DRIVER = next(
    (p for p in ("/usr/bin/chromedriver", shutil.which("chromedriver") or "") if p and os.path.exists(p)), None
)

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="browser test skipped: no chromium/chromedriver installed (`make browser` installs them where it can)",
)


def browser() -> Any:
    os.environ["SE_OFFLINE"] = "true"  # belt and braces: Selenium Manager must never go online
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM or ""
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
