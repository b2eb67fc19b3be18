"""A real browser opens the HTML reports: Debian's Chromium, headless, with the network
cut off (every host name fails to resolve, every connection goes to a dead proxy).

Checked: the page loads with no console message of level error or warning, asks for
nothing beyond its own file (Chromium's net log), and draws something (the screenshot
is not blank). Skipped, saying why, where Chromium is not installed (.ci/run installs it).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium; .ci/run does)")

# Chromium's own background traffic (updates, spell-check dictionaries, sign-in), which the
# flags below mostly silence; anything else in the net log came from the page.
BROWSER_HOSTS = ("google.com", "googleapis.com", "gvt1.com", "gstatic.com")


def _open(page: Path, tmp_path: Path, width: int) -> tuple[str, set[str], np.ndarray]:
    shot, netlog = tmp_path / f"shot-{width}.png", tmp_path / f"net-{width}.json"
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", f"--user-data-dir={tmp_path / f'profile-{width}'}",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
         "--enable-logging=stderr", "--v=0", f"--log-net-log={netlog}",
         f"--screenshot={shot}", f"--window-size={width},2000", page.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert shot.exists(), proc.stderr[-2000:]
    urls = set()
    if netlog.exists():
        try:
            events = json.loads(netlog.read_text())["events"]
        except (json.JSONDecodeError, KeyError):
            events = []  # Chromium may leave the log unterminated; nothing to read then
        for event in events:
            url = (event.get("params") or {}).get("url")
            if url and not any(host in url for host in BROWSER_HOSTS):
                urls.add(url)
    return proc.stderr, urls, image.imread(shot)


@pytest.mark.parametrize("width", [1000, 390])
@pytest.mark.parametrize("name", ["kursk-km2", "source-zz-injected"])
def test_report_opens_in_chromium_offline_without_errors(built_project, tmp_path, name, width):
    root, _ = built_project
    page = root / "reports" / name / f"{name}.html"
    stderr, urls, pixels = _open(page, tmp_path, width)
    console = [line for line in stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console
    assert not [u for u in urls if not u.startswith(("file:", "data:"))], urls
    # not blank: a real page has dark text on a light ground, so many distinct shades
    grey = pixels[..., :3].mean(axis=2)
    assert (grey < 0.5).mean() > 0.005, "the screenshot is (nearly) blank"
    assert len(np.unique((grey * 255).astype(int))) > 20


def test_index_page_opens_offline(built_project, tmp_path):
    root, _ = built_project
    stderr, urls, pixels = _open(root / "reports" / "index.html", tmp_path, 1000)
    assert [line for line in stderr.splitlines() if ":CONSOLE" in line] == []
    assert not [u for u in urls if not u.startswith(("file:", "data:"))], urls
    assert (pixels[..., :3].mean(axis=2) < 0.5).mean() > 0.001
