"""What a report depends on, and whether its published files are still fresh.

The cache key hashes the notebook without outputs, execution counts or metadata
(tags kept), the parameters as canonical JSON, the bytes of every input file, the
`analysis` package's code (every file of the package, templates included), the
Python version and the versions of papermill, nbconvert and nbclient. `freshness`
is the one answer to "is this report up to date?", used by `build` and `status`.
"""

from __future__ import annotations

import hashlib
import json
import platform
from pathlib import Path

from analysis import __version__
from analysis.errors import UsageError
from analysis.files import sha256
from analysis.reports import publish as pub
from analysis.reports.reportlist import ReportSpec

KEY_VERSION = "analysis-build-1"  # bump when the key's recipe changes
TOOLS = ("papermill", "nbconvert", "nbclient")


def stripped_notebook(data: bytes, path: str = "notebook") -> bytes:
    """The part of a notebook that decides its results: cell types, sources, tags, kernel.

    Outputs, execution counts, ids and other metadata are dropped, so re-saving an
    executed notebook leaves it unchanged while editing any cell (markdown too) does not.
    """
    try:
        nb = json.loads(data)
        cells = []
        for c in nb.get("cells", []):
            src = c.get("source", "")
            tags = (c.get("metadata") or {}).get("tags") or []
            cells.append({
                "type": c.get("cell_type"),
                "source": "".join(src) if isinstance(src, list) else src,
                "tags": sorted(tags),
            })
        kernel = ((nb.get("metadata") or {}).get("kernelspec") or {}).get("name")
    except (ValueError, AttributeError, TypeError) as exc:
        raise UsageError(f"{path}: not a readable notebook ({exc})") from exc
    return _canonical({"cells": cells, "kernel": kernel, "nbformat": nb.get("nbformat")})


def _canonical(value) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8")


def code_hash() -> str:
    """Hash of the `analysis` package: its version and every file in it (templates too)."""
    package = Path(__file__).resolve().parents[1]  # the whole analysis package
    h = hashlib.sha256(__version__.encode())
    for path in sorted(package.rglob("*")):
        if "__pycache__" in path.parts or not path.is_file() or path.suffix == ".pyc":
            continue
        rel = path.relative_to(package).as_posix()
        h.update(b"\0" + rel.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def environment() -> dict:
    """Versions that change what a notebook produces."""
    from importlib.metadata import PackageNotFoundError, version

    env = {"python": platform.python_version(), "analysis": __version__}
    for tool in TOOLS:
        try:
            env[tool] = version(tool)
        except PackageNotFoundError:
            env[tool] = None
    return env


def input_hashes(report: ReportSpec, root: Path) -> tuple[dict[str, str], dict[str, bytes]]:
    """({path: sha256}, {path: bytes}) of a report's inputs; the notebook hashed stripped."""
    hashes, files = {}, {}
    for rel in report.input_paths():
        data = (root / rel).read_bytes()
        files[rel] = data
        if rel == report.notebook:
            data = stripped_notebook(data, rel)
        hashes[rel] = sha256(data)
    return hashes, files


def cache_key(report: ReportSpec, inputs: dict[str, str], code: str, env: dict,
              with_code: bool) -> str:
    """The exact cache key of a report: everything that decides its artifacts but formats."""
    return sha256(_canonical({
        "recipe": KEY_VERSION,
        "notebook": report.notebook,
        "parameters": report.parameters,
        "inputs": inputs,
        "code": code,
        "env": env,
        "with_code": with_code,
    }))




def freshness(entry: dict, key: str, formats, reports_dir: Path, name: str) -> str | None:
    """None when the published report is up to date; else why it is not, in words."""
    if entry.get("key") != key:
        return "inputs changed"
    files = entry.get("files") or {}
    missing = [f for f in formats if not isinstance(files, dict) or f not in files]
    if missing:
        return f"not yet published as {', '.join(missing)}"
    # A published file that is missing or changed is a corrupt cache entry: rebuild.
    if not pub.verify_files(reports_dir, name, entry.get("hashes")):
        return f"published files in {Path(reports_dir) / name} are missing or changed"
    return None


def why_stale(entry: dict, report: ReportSpec, inputs: dict, code: str, env: dict) -> list[str]:
    """What differs between the last good build and now, in words."""
    reasons = []
    old = entry.get("inputs") or {}
    for rel in sorted(set(old) | set(inputs)):
        if rel not in old:
            reasons.append(f"new input {rel}")
        elif rel not in inputs:
            reasons.append(f"no longer reads {rel}")
        elif old[rel] != inputs[rel]:
            reasons.append(f"{rel} changed")
    if entry.get("parameters") != report.parameters:
        reasons.append("parameters changed")
    if entry.get("code") != code:
        reasons.append("the analysis package changed")
    old_env = entry.get("env") or {}
    for k in sorted(set(old_env) | set(env)):
        if old_env.get(k) != env.get(k):
            reasons.append(f"{k} {old_env.get(k)} -> {env.get(k)}")
    return reasons


