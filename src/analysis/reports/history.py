"""What changed between builds: the figures each build's reports used, kept by content.

Each report's `figures.json` is stored once under its sha256 in
`reports/.history/objects/`; a build that changed any report's figures writes one
record, `reports/.history/builds/<build>.json` = {"build", "time", "reports": {name:
sha256}}, naming the figures of every report as of that build. A report whose
figures did not change costs nothing (same hash, no new object); a build in which no
report's figures changed writes no record. Comparing two records compares the JSON
figures the notebooks wrote; this room never loads the figures engine.

A changed figure is one whose value, bounds or unit differ (matched by report and
figure id). Its finding changed when the new bounds do not meet the old ones, or
when a one-sided figure ("at least 600") became two-sided (or back).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from analysis.errors import UsageError
from analysis.files import atomic_write, sha256
from analysis.words import counted

HISTORY = ".history"
NOTE_FILE = "changes.txt"  # a report's changes since its previous version, beside it
_BUILD_ID = re.compile(r"^\d{8}T\d{6}Z(-\d+)?$")


@dataclass
class Change:
    """One figure of one report that differs between two builds."""

    report: str
    figure: str
    old: dict | None  # the figure's JSON object then (None: new figure)
    new: dict | None  # and now (None: dropped)
    finding: str | None = None  # why the finding changed, in words

    def to_json(self) -> dict:
        return {"report": self.report, "figure": self.figure, "old": self.old,
                "new": self.new, "finding_changed": self.finding}


# --- storing -----------------------------------------------------------------------------


def _folder(reports_dir: Path) -> Path:
    return Path(reports_dir) / HISTORY


def _build_order(path: Path) -> tuple[str, int]:
    """A build record's place in time: its stamp, then its count within that second
    (``<stamp>-2`` is the second build of a second; sorted as names, the "-" put it
    before the first, and `diff` compared the wrong builds)."""
    stamp, _, n = path.stem.partition("-")
    return stamp, int(n) if n.isdigit() else 1


def builds(reports_dir: Path) -> list[dict]:
    """Every build record, oldest first; unreadable records are skipped."""
    out = []
    folder = _folder(reports_dir) / "builds"
    for path in sorted(folder.glob("*.json"), key=_build_order) if folder.is_dir() else []:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and isinstance(record.get("reports"), dict):
            out.append(record)
    return out


def _payload(reports_dir: Path, digest: str | None) -> dict | None:
    if not digest:
        return None
    try:
        data = json.loads((_folder(reports_dir) / "objects" / f"{digest}.json")
                          .read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def record(reports_dir: Path, figures: dict[str, bytes], names: list[str],
           time: str) -> tuple[dict | None, dict | None]:
    """Keep the figures of the reports just built; returns (previous record, new record).

    `figures` maps a report built now to its figures.json bytes; `names` are every
    report the manifest holds (reports gone from it are dropped). The new record is
    None when no report's figures changed.
    """
    reports_dir = Path(reports_dir)
    history = builds(reports_dir)
    previous = history[-1] if history else None
    current = {n: d for n, d in (previous or {}).get("reports", {}).items() if n in names}
    objects = _folder(reports_dir) / "objects"
    for name, data in figures.items():
        digest = sha256(data)
        path = objects / f"{digest}.json"
        if not path.exists():  # content-addressed: an unchanged report writes nothing
            atomic_write(path, data)
        current[name] = digest
    if previous is not None and current == previous.get("reports"):
        return previous, None
    stamp = _dt.datetime.fromisoformat(time).astimezone(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    build_id, n = stamp, 1
    while (_folder(reports_dir) / "builds" / f"{build_id}.json").exists():
        n += 1
        build_id = f"{stamp}-{n}"
    new = {"build": build_id, "time": time, "reports": dict(sorted(current.items()))}
    atomic_write(_folder(reports_dir) / "builds" / f"{build_id}.json",
                 (json.dumps(new, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    return previous, new


# --- comparing -----------------------------------------------------------------------------


def _figures(payload: dict | None) -> dict[str, dict]:
    out = {}
    for obj in (payload or {}).get("figures") or []:
        if isinstance(obj, dict) and isinstance(obj.get("id"), str):
            out[obj["id"]] = obj
    return out


def _side(x):
    return None if x is None else float(x)


def _finding(old: dict, new: dict) -> str | None:
    """Why a figure's finding changed, or None when only its size moved."""
    if old.get("unit") != new.get("unit"):
        return f"its unit changed from {old.get('unit')} to {new.get('unit')}"
    o_lo, o_hi, n_lo, n_hi = (_side(old.get("low")), _side(old.get("high")),
                              _side(new.get("low")), _side(new.get("high")))
    o_lo = -math.inf if o_lo is None else o_lo
    n_lo = -math.inf if n_lo is None else n_lo
    o_hi = math.inf if o_hi is None else o_hi
    n_hi = math.inf if n_hi is None else n_hi
    if n_hi < o_lo or o_hi < n_lo:
        return "the new bounds do not meet the old ones"
    old_open = old.get("high") is None or old.get("low") is None
    new_open = new.get("high") is None or new.get("low") is None
    if old_open and not new_open:
        return "a one-sided figure became two-sided"
    if new_open and not old_open:
        return "a two-sided figure became one-sided"
    return None


def compare(report: str, old: dict | None, new: dict | None) -> list[Change]:
    """The figures of one report that differ between two figures.json payloads."""
    before, after = _figures(old), _figures(new)
    out = []
    for fid in list(before) + [f for f in after if f not in before]:
        o, n = before.get(fid), after.get(fid)
        if o is not None and n is not None:
            if all(o.get(k) == n.get(k) for k in ("value", "low", "high", "unit")):
                continue
            out.append(Change(report, fid, o, n, _finding(o, n)))
        else:
            out.append(Change(report, fid, o, n))
    return out


def changes_between(reports_dir: Path, base: dict | None, head: dict,
                    name: str | None = None) -> list[Change]:
    """Every changed figure from build record `base` to `head` (one report, or all)."""
    old_reports = (base or {}).get("reports", {})
    out: list[Change] = []
    for report in sorted(set(old_reports) | set(head["reports"])):
        if name and report != name:
            continue
        if old_reports.get(report) == head["reports"].get(report):
            continue
        out += compare(report, _payload(reports_dir, old_reports.get(report)),
                       _payload(reports_dir, head["reports"].get(report)))
    return out


def report_note(reports_dir: Path, name: str, figures: bytes) -> str | None:
    """The changes of one report's figures since the last recorded build, as plain text
    for `reports/<name>/changes.txt`; None when there is no earlier version or no change."""
    history = builds(reports_dir)
    if not history or name not in history[-1]["reports"]:
        return None
    last = history[-1]
    try:
        new = json.loads(figures)
    except ValueError:
        return None
    changes = compare(name, _payload(reports_dir, last["reports"][name]), new)
    if not changes:
        return None
    lines = [f"Changes in the figures of {name} since its previous version (build "
             f"{last['build']}, {last['time']}):", ""]
    lines += [change_text(c).removeprefix(f"{name}: ") for c in changes]
    return "\n".join(lines) + "\n"


def _build_list(history: list[dict]) -> str:
    ids = [r["build"] for r in history]
    shown = ids[-8:]
    more = f" (and {len(ids) - len(shown)} older)" if len(ids) > len(shown) else ""
    return ", ".join(shown) + more if ids else "none yet"


def find_base(history: list[dict], since: str | None) -> dict:
    """The build to compare the latest with: `since` (a build id, or a date: the last build
    before that day), else the build before the latest. UsageError naming the builds."""
    if not history:
        raise UsageError("no build has been recorded yet; run `analysis build` first")
    if since is None:
        if len(history) < 2:
            raise UsageError(f"only one build is recorded ({history[0]['build']}); nothing to "
                             "compare it with yet")
        return history[-2]
    for r in history:
        if r["build"] == since:
            return r
    try:
        day = _dt.date.fromisoformat(since)
    except ValueError:
        day = None
    if day is not None and not _BUILD_ID.match(since):
        start = _dt.datetime.combine(day, _dt.time(), tzinfo=_dt.UTC)
        before = [r for r in history
                  if _dt.datetime.fromisoformat(r["time"]).astimezone(_dt.UTC) < start]
        if before:
            return before[-1]
        raise UsageError(f"no build before {since}; builds: {_build_list(history)}")
    raise UsageError(f"no build '{since}'; builds: {_build_list(history)} (or give a date, "
                     "YYYY-MM-DD, for the last build before it)")


def diff(reports_dir: Path, name: str | None = None, since: str | None = None,
         known: list[str] | None = None) -> tuple[dict, dict, list[Change]]:
    """(base record, latest record, changes) for `analysis diff`."""
    history = builds(reports_dir)
    base = find_base(history, since)
    head = history[-1]
    if name and known is not None and name not in known and name not in head["reports"]:
        raise UsageError(f"no report named '{name}'; known: {', '.join(sorted(known))}")
    return base, head, changes_between(reports_dir, base, head, name)


# --- in words --------------------------------------------------------------------------------


def _num(x) -> str:
    """Enough digits to tell values apart, none invented: 250, 12.5, 0.0931."""
    if x is None:
        return "unbounded"
    x = float(x)
    if x == int(x) and abs(x) < 1e15:
        return f"{int(x):,}"
    return f"{x:,.4g}" if abs(x) < 1e6 else f"{x:,.0f}"


def _bounds(obj: dict) -> str:
    lo, hi = obj.get("low"), obj.get("high")
    if lo is None and hi is None:
        return "unbounded"
    if hi is None:
        return f"at least {_num(lo)}"
    if lo is None:
        return f"at most {_num(hi)}"
    return "exact" if lo == hi else f"{_num(lo)} to {_num(hi)}"


def _unit(obj: dict) -> str:
    unit = obj.get("unit") or ""
    return "" if unit == "dimensionless" else f" {unit}"


def change_text(c: Change) -> str:
    """One line: `report: figure 250 -> 280 km² (+30, +12%); bounds ...; FINDING CHANGED`."""
    head = f"{c.report}: {c.figure}"
    if c.old is None:
        return f"{head} new: {_num(c.new.get('value'))}{_unit(c.new)} ({_bounds(c.new)})"
    if c.new is None:
        return f"{head} dropped (was {_num(c.old.get('value'))}{_unit(c.old)})"
    o, n = c.old, c.new
    text = f"{head} {_num(o.get('value'))} -> {_num(n.get('value'))}{_unit(n)}"
    ov, nv = o.get("value"), n.get("value")
    if isinstance(ov, int | float) and isinstance(nv, int | float) and o.get("unit") == n.get(
            "unit") and ov != nv:
        delta = nv - ov
        text += f" ({'+' if delta > 0 else '-'}{_num(abs(delta))}"
        if ov:
            text += f", {delta / abs(ov) * 100:+.2g}%"
        text += ")"
    if (o.get("low"), o.get("high")) != (n.get("low"), n.get("high")):
        text += f"; bounds {_bounds(o)} -> {_bounds(n)}"
    if c.finding:
        text += f"; FINDING CHANGED: {c.finding}"
    return text


def summary_lines(previous: dict | None, new: dict | None, changes: list[Change]) -> list[str]:
    """What a build says about changed figures ([] when none changed). Lines that start
    with "changed:" report a change; the first build's line only says what was kept."""
    if new is None:
        return []
    if previous is None:
        return [f"kept: the figures of {counted(len(new['reports']), 'report')}, the first "
                f"recorded build ({new['build']}); later builds list what changed"]
    new_reports = sorted(set(new["reports"]) - set(previous.get("reports", {})))
    shown = [c for c in changes if c.report not in new_reports]
    lines = [f"changed: {counted(len(shown), 'figure')} since build {previous['build']} "
             f"(now {new['build']})"]
    lines += [f"  {name}: a new report" for name in new_reports]
    lines += [f"  {change_text(c)}" for c in shown]
    return lines
