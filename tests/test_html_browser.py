"""The HTML report in a real browser: Debian's headless chromium, driven by chromium-driver.

It loads with no console error, no request leaves the file (every chart and the logo are
data: URIs), the page is responsive (no horizontal scroll on a phone-sized window outside
the tables' own scroll boxes), and a screenshot is saved in the test's folder.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

webdriver = pytest.importorskip("selenium.webdriver")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER), reason="needs chromium and chromium-driver (make install-test)"
)
EXAMPLE = Path(__file__).parents[1] / "examples" / "acme" / "report.yaml"


@pytest.fixture(scope="module")
def html_report(cli, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("browser")
    result = cli.run("run", EXAMPLE, "--format", "html", "--out", root / "out", cwd=root)
    assert result.code == 0, result.output
    return next((root / "out").glob("*.html"))


def _browser(width: int, height: int):
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
        "--hide-scrollbars",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service(DRIVER), options=options)


def _requests(driver) -> list[str]:
    """Every URL the page asked for, from the DevTools network events."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (390, 844)])
def test_the_report_loads_cleanly_in_chromium(html_report, tmp_path, width, height):
    driver = _browser(width, height)
    try:
        driver.get(html_report.as_uri())
        assert driver.execute_script("return document.readyState") == "complete"
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.complete && i.naturalWidth > 0, i.alt]);"
        )
        assert images and all(loaded for loaded, _alt in images), images
        assert all(alt for _loaded, alt in images[1:] if _loaded), images  # charts carry their takeaway
        errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
        assert errors == [], errors
        leaving = [u for u in _requests(driver) if not u.startswith(("data:", html_report.as_uri()))]
        assert leaving == [], leaving
        # responsive: the page itself never scrolls sideways; wide tables scroll in their own box
        overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"the page is {overflow}px wider than a {width}px window"
        shot = tmp_path / f"report-{width}.png"
        assert driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000
    finally:
        driver.quit()
