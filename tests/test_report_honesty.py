"""No printed number claims more certainty than its bounds.

Every built report's reader text, HTML and PDF alike, is scanned for bound phrases
("12.2% to 15.1%", "at least 905 km²", "more than 8.69%", "at most 9.5%") and each is
matched with the figure in the report's own figures.json whose true bound it is closest
to. A printed range must contain the true interval, a printed lower bound must not
exceed the true one, a printed upper bound must not fall short of it. The scanner is
shown to catch the inward rounding the reports once printed ("12.3% to 15.0%").
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

NUM = r"(−?\d[\d,]*(?:\.\d+)?)"
RANGE = re.compile(NUM + r"(%?)(?: [^\d\s.,;:()]+(?: [a-z]+)?)? to " + NUM + r"(%?)")
LOWER = re.compile(r"\b(?:at least|more than|over) " + NUM + r"(%?)")
UPPER = re.compile(r"\b(?:at most|under|up to) " + NUM + r"(%?)")
REAL = ["kursk-km2", "kursk-mi2", "source-kursk-incursion-2025"]


def _num(text: str) -> float:
    return float(text.replace(",", "").replace("−", "-"))


def _candidates(figures: list[dict], percent: bool) -> list[tuple[str, float | None,
                                                                 float | None]]:
    out = []
    for f in figures:
        if f["unit"] == "date" or isinstance(f["value"], str):
            continue
        if percent and f["unit"] != "dimensionless":
            continue
        scale = 100 if percent else 1
        lo = f["low"] * scale if f["low"] is not None else None
        hi = f["high"] * scale if f["high"] is not None else None
        out.append((f["id"], lo, hi))
    return out


def scan(text: str, figures: list[dict]) -> tuple[int, list[str]]:
    """(phrases matched to a figure, the ones narrower than the figure's true bounds)."""
    matched, bad = 0, []
    tol = 1e-9
    for m in RANGE.finditer(text):
        a, b = _num(m.group(1)), _num(m.group(3))
        percent = bool(m.group(2) or m.group(4))
        best = None
        for fid, lo, hi in _candidates(figures, percent):
            if lo is None or hi is None or hi == lo:
                continue
            dist = (abs(a - lo) + abs(b - hi)) / (hi - lo)
            if dist <= 0.25 and (best is None or dist < best[0]):
                best = (dist, fid, lo, hi)
        if best:
            matched += 1
            _, fid, lo, hi = best
            if a > lo + tol * max(1, abs(lo)) or b < hi - tol * max(1, abs(hi)):
                bad.append(f"{m.group(0)!r} is narrower than {fid}: {lo} to {hi}")
    for pattern, side in ((LOWER, 1), (UPPER, 2)):
        for m in pattern.finditer(text):
            x, percent = _num(m.group(1)), bool(m.group(2))
            best = None
            for cand in _candidates(figures, percent):
                bound = cand[side]
                if bound is None:
                    continue
                rel = abs(x - bound) / max(abs(bound), 1e-12)
                if rel <= 0.02 and (best is None or rel < best[0]):
                    best = (rel, cand[0], bound)
            if best:
                matched += 1
                _, fid, bound = best
                if (side == 1 and x > bound + tol * max(1, abs(bound))) or (
                        side == 2 and x < bound - tol * max(1, abs(bound))):
                    bad.append(f"{m.group(0)!r} claims more than {fid}'s bound {bound}")
    return matched, bad


def _html_text(path: Path) -> str:
    page = path.read_text(encoding="utf-8")
    page = re.sub(r"<(style|svg)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _pdf_text(path: Path) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(path).pages).split())


def _svg_text(path: Path) -> str:
    """The charts' own labels: drawn text counts as printed too."""
    page = path.read_text(encoding="utf-8")
    texts = re.findall(r"<text\b[^>]*>(.*?)</text>", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", t)) for t in texts)


@pytest.mark.parametrize("name", REAL)
def test_no_printed_bound_is_narrower_than_the_truth(built_project, name):
    root, _ = built_project
    folder = root / "reports" / name
    figures = json.loads((folder / "figures.json").read_text())["figures"]
    for label, text in (("html", _html_text(folder / f"{name}.html")),
                        ("pdf", _pdf_text(folder / f"{name}.pdf")),
                        ("chart labels", _svg_text(folder / f"{name}.html"))):
        matched, bad = scan(text, figures)
        assert bad == [], f"{name} {label}: {bad}"
        if label != "chart labels":
            assert matched >= 5, f"{name} {label}: only {matched} bound phrases found"


def test_the_scanner_catches_inward_rounding():
    # the reports once printed the North Korean share, truly 12.28% to 15.03%
    # (10,500 / 85,500 and 11,500 / 76,500), as "12.3% to 15.0%", and the killed share,
    # truly at least 1,000 / 11,500 = 8.696%, as "at least 8.7%"
    figures = [{"id": "nk_share", "unit": "dimensionless", "value": 11 / 81,
                "low": 10500 / 85500, "high": 11500 / 76500},
               {"id": "killed", "unit": "dimensionless", "value": 1 / 11,
                "low": 1000 / 11500, "high": 1.0}]
    matched, bad = scan("shares 12.3% to 15.0%; at least 8.7% died", figures)
    assert matched == 2 and len(bad) == 2
    matched, bad = scan("shares 12.2% to 15.1%; more than 8.69% died", figures)
    assert matched == 2 and bad == []
