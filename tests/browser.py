"""Headless Chromium for the tests of the run page: a driver with its console log kept, a run's page as report or
viewer, and waiting for the page.

Needs Debian's `chromium` and `chromium-driver` (/usr/bin/chromium, /usr/bin/chromedriver) and
selenium; nothing is downloaded.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from moot.report.html import write_report
from moot.report.server import open_viewer

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--window-size=1440,1000",
]
WAIT_S = 20


def chromium(tmp_path_factory):
    """Yield a headless Chromium with a fresh profile, its console log kept; quit it afterwards."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        pytest.fail(
            f"the browser tests need Debian's chromium and chromium-driver ({', '.join(missing)} missing): "
            "apt-get install -y chromium chromium-driver",
            pytrace=False,
        )
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("the browser tests need selenium: pip install -e '.[test]'", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in [*FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    yield browser
    browser.quit()


def page_of(kind: str, run_dir: Path, tmp_path_factory):
    """Yield the URL of a run's page: the static report file, or the viewer serving it until the generator closes."""
    if kind == "report":
        yield write_report(run_dir, tmp_path_factory.mktemp("report") / "report.html").resolve().as_uri()
        return
    server = open_viewer(run_dir, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.url
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def wait_for(driver, condition):
    """Wait until the condition holds (returns it), failing after WAIT_S seconds.

    An element the page replaced while the condition read it (the list re-rendering) is read
    again on the next poll rather than ending the wait.
    """
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT_S, ignored_exceptions=(StaleElementReferenceException,)).until(condition)
