"""A real browser opens the HTML reports: Debian's Chromium, headless, with the network
cut off (every host name fails to resolve, every connection goes to a dead proxy).

Checked: the page loads with no console message of level error or warning, asks for
nothing beyond its own file (Chromium's net log), and draws something (the screenshot
is not blank); and at a phone's 375 px no chart, image or table is wider than the page
and nothing scrolls sideways (measured in the page, not guessed from a screenshot).
Skipped, saying why, where Chromium is not installed (.ci/run installs it).
"""

from __future__ import annotations

import html
import json
import re
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


# A phone's width. Headless Chromium will not open a window narrower than 500 px, so the
# page is measured inside a 375 px iframe of a wrapper page (file access between the two
# allowed by a flag); the iframe's viewport is then exactly what a phone's would be.
PHONE = 375
_MEASURE = """<!DOCTYPE html><html><body style="margin:0">
<iframe id="f" src="{src}" style="width:{width}px;height:3000px;border:0"></iframe>
<script>
document.getElementById("f").addEventListener("load", () => {{
  const d = document.getElementById("f").contentDocument;
  const vw = d.documentElement.clientWidth;
  const wide = [...d.querySelectorAll("svg, img, table, figure, pre")]
    .filter(el => {{ const r = el.getBoundingClientRect();
                     return r.right > vw + 0.5 || r.left < -0.5; }})
    .map(el => el.tagName + " " + Math.round(el.getBoundingClientRect().width) + " px");
  const out = document.createElement("pre");
  out.id = "measure";
  out.textContent = JSON.stringify({{vw, scroll: d.scrollingElement.scrollWidth, wide,
    charts: d.querySelectorAll("figure.chart svg").length,
    smallest: Math.min(...[...d.querySelectorAll("figure.chart svg")]
      .map(s => s.getBoundingClientRect().width))}});
  document.body.appendChild(out);
}});
</script></body></html>"""


def _measure(page: Path, tmp_path: Path, width: int = PHONE) -> dict:
    wrapper = tmp_path / f"measure-{page.stem}.html"
    wrapper.write_text(_MEASURE.format(src=html.escape(page.as_uri()), width=width))
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--allow-file-access-from-files",
         f"--user-data-dir={tmp_path / 'profile-measure'}",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
         "--dump-dom", wrapper.as_uri()],
        capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="measure">([^<]*)</pre>', proc.stdout)
    assert found, proc.stderr[-2000:]
    return json.loads(html.unescape(found.group(1)))


@pytest.mark.parametrize("name", ["kursk-km2", "kursk-mi2", "source-kursk-incursion-2025",
                                  "source-zz-injected"])
def test_nothing_is_wider_than_a_phone(built_project, tmp_path, name):
    root, _ = built_project
    m = _measure(root / "reports" / name / f"{name}.html", tmp_path)
    # the viewport is the iframe less a scrollbar, if any: never wider than the phone
    assert 300 < m["vw"] <= PHONE
    assert m["wide"] == [], m["wide"]  # no chart, image or table runs off the page
    assert m["scroll"] <= m["vw"] <= PHONE  # and nothing scrolls sideways
    # every chart is drawn at the column's width, not shrunk into a corner
    assert m["charts"] >= 1 and m["smallest"] >= m["vw"] - 40, m


def test_index_is_not_wider_than_a_phone(built_project, tmp_path):
    root, _ = built_project
    m = _measure(root / "reports" / "index.html", tmp_path)
    assert m["wide"] == [] and m["scroll"] <= m["vw"] <= PHONE
