"""What a report depends on, and whether its published files are still fresh.

The cache key hashes the notebook without outputs, execution counts or metadata
(tags kept), the parameters as canonical JSON, the bytes of every input file, the
`analysis` package's code, the template files of the report's formats, and the
versions of everything that can change an output: Python and the libraries a
notebook runs on (`EXECUTION_TOOLS`) for every report, plus each format's renderer
(`FORMAT_TOOLS`: nbconvert, bleach, pygments, Jinja for HTML; pandoc, pypandoc and
Typst for PDF). So upgrading pandoc marks the PDF reports stale and no others.

`Fingerprint.of` gathers those versions and hashes once per command, and
`assess` is the one answer to "is this report up to date, and if not why?", used
by `build` (to skip) and `status` (to tell) with the same key and the same inputs.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import platform
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from analysis import __version__
from analysis.errors import UsageError
from analysis.files import atomic_write, sha256
from analysis.reports import publish as pub
from analysis.reports.reportlist import ReportSpec

KEY_VERSION = "analysis-build-2"  # bump when the key's recipe changes
# Distributions whose version can change what any report computes or draws.
EXECUTION_TOOLS = (
    "papermill", "nbclient", "nbformat", "jupyter_client", "ipykernel", "ipython",
    "pint", "matplotlib", "matplotlib-inline", "numpy", "pandas", "pyyaml",
)
# ... and what each format's renderer runs on ("pandoc" is the binary pypandoc runs).
FORMAT_TOOLS = {
    "html": ("nbconvert", "bleach", "pygments", "jinja2", "mistune"),
    "pdf": ("nbconvert", "pypandoc", "pandoc", "typst"),
    "ipynb": (),
}
# The template folder under reports/templates/ that each format renders with.
FORMAT_TEMPLATES = {"html": "report_html", "pdf": "typst"}
TOOLS = tuple(dict.fromkeys(
    [*EXECUTION_TOOLS, *(t for tools in FORMAT_TOOLS.values() for t in tools)]))
# pypandoc ships under two distribution names; either may be the one installed.
_DISTRIBUTIONS = {"pypandoc": ("pypandoc", "pypandoc-binary")}
TOOLS_CACHE = "tools.json"  # in reports/.cache: the pandoc binary's version, by its file


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


def _package() -> Path:
    return Path(__file__).resolve().parents[1]  # the whole analysis package


def _hash_files(folder: Path, skip: Path | None = None, seed: bytes = b"") -> str:
    h = hashlib.sha256(seed)
    for path in sorted(folder.rglob("*")):
        if "__pycache__" in path.parts or not path.is_file() or path.suffix == ".pyc":
            continue
        if skip is not None and path.is_relative_to(skip):
            continue
        rel = path.relative_to(folder).as_posix()
        h.update(b"\0" + rel.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def code_hash() -> str:
    """Hash of the `analysis` package's version and files, its templates apart."""
    package = _package()
    return _hash_files(package, skip=package / "reports" / "templates",
                       seed=__version__.encode())


def package_hash() -> str:
    """Hash of the whole package, templates included: a Dask worker must run the same."""
    return _hash_files(_package(), seed=__version__.encode())


def template_hashes() -> dict[str, str]:
    """{format: hash of every file in the template folder it renders with}."""
    templates = _package() / "reports" / "templates"
    return {fmt: _hash_files(templates / folder) for fmt, folder in FORMAT_TEMPLATES.items()}


def environment(cache_dir: Path | None = None) -> dict:
    """{tool: version} for Python, `analysis` and every tool in `TOOLS` (None: absent)."""
    installed = _installed()
    env = {"python": platform.python_version(), "analysis": __version__}
    for tool in TOOLS:
        if tool == "pandoc":
            env[tool] = pandoc_version(cache_dir)
            continue
        env[tool] = None
        for dist in _DISTRIBUTIONS.get(tool, (tool,)):
            found = installed.get(_normal(dist)) or _metadata_version(dist)
            if found:
                env[tool] = found
                break
    return env


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _installed() -> dict[str, str]:
    """{normalised name: version} from the `NAME-VERSION.dist-info` folders on sys.path.

    The folder's name is the installed version (PEP 427), and listing a folder is
    much cheaper than `importlib.metadata.version` parsing each METADATA file; the
    first folder on sys.path wins, as it does for imports."""
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info") and "-" in name:
                project, _, version = name[: -len(".dist-info")].partition("-")
                found.setdefault(_normal(project), version)
    return found


def _metadata_version(dist: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def _pandoc_candidates() -> list[str]:
    """Where pypandoc looks for a pandoc binary (it takes the newest it finds there)."""
    chosen = os.environ.get("PYPANDOC_PANDOC")
    if chosen:
        return [chosen]
    spec = importlib.util.find_spec("pypandoc")
    bundled = [str(Path(spec.origin).parent / "files" / "pandoc")] if spec and spec.origin else []
    return [p for p in (shutil.which("pandoc"), *bundled, "~/bin/pandoc", "~/.bin/pandoc",
                        os.path.join(sys.exec_prefix, "bin", "pandoc")) if p]


def pandoc_version(cache_dir: Path | None = None) -> str | None:
    """The version of the pandoc binary the PDF renderer runs, or None without one.

    pypandoc finds it by running every candidate binary, which costs process starts,
    so the answer is kept in `cache_dir`, keyed by the candidates' paths, sizes and
    modification times: a no-op build stays fast and a replaced binary is asked again.
    """
    stamps = []
    for path in _pandoc_candidates():
        try:
            st = os.stat(os.path.expanduser(path))
        except OSError:
            continue
        stamps.append(f"{path}|{st.st_size}|{st.st_mtime_ns}")
    stamp = "\n".join(stamps)
    cache_file = Path(cache_dir) / TOOLS_CACHE if cache_dir is not None else None
    if cache_file is not None:
        try:
            cache = json.loads(cache_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            cache = {}  # missing or corrupt: only slower
        if isinstance(cache, dict) and isinstance(cache.get(stamp), str):
            return cache[stamp]
    try:
        import pypandoc

        found = pypandoc.get_pandoc_version()
    except (ImportError, OSError, RuntimeError):
        return None
    if cache_file is not None and found:
        try:
            atomic_write(cache_file, json.dumps({stamp: found}).encode())
        except OSError:
            pass  # a cache that cannot be written is only slower
    return found


@dataclass
class Fingerprint:
    """What a build runs with, gathered once per command: the package and the tools."""

    code: str
    templates: dict[str, str] = field(default_factory=dict)
    env: dict = field(default_factory=dict)

    @classmethod
    def of(cls, cache_dir: Path | None = None) -> Fingerprint:
        return cls(code_hash(), template_hashes(), environment(cache_dir))

    def env_for(self, formats=()) -> dict:
        """The versions that can change a report made in `formats` (none: its run)."""
        keep = {"python", "analysis", *EXECUTION_TOOLS}
        for fmt in formats:
            keep.update(FORMAT_TOOLS.get(fmt, ()))
        return {k: v for k, v in self.env.items() if k in keep}

    def templates_for(self, formats) -> dict:
        return {f: self.templates[f] for f in sorted(formats) if f in self.templates}

    def render_keys(self, formats) -> dict[str, str]:
        """{format: hash of its renderer's versions and template files}."""
        return {fmt: sha256(_canonical({
            "tools": {t: self.env.get(t) for t in FORMAT_TOOLS.get(fmt, ())},
            "templates": self.templates.get(fmt),
        })) for fmt in formats}


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


def cache_key(report: ReportSpec, inputs: dict[str, str], fp: Fingerprint,
              with_code: bool) -> str:
    """The key of a report's run: everything that decides its artifacts but the renderers.

    Each format's renderer has a key of its own (`Fingerprint.render_keys`), so a
    new pandoc marks only PDF reports stale, and a report published in three formats
    is still fresh when asked for one of them.
    """
    return sha256(_canonical({
        "recipe": KEY_VERSION,
        "notebook": report.notebook,
        "parameters": report.parameters,
        "inputs": inputs,
        "code": fp.code,
        "env": fp.env_for(),
        "with_code": with_code,
    }))


def freshness(entry: dict, key: str, render: dict[str, str], reports_dir: Path,
              name: str) -> str | None:
    """None when the published report is up to date in every format of `render`
    ({format: render key}); else why it is not, in words."""
    if entry.get("key") != key:
        return "inputs changed"
    files = entry.get("files") or {}
    missing = [f for f in render if not isinstance(files, dict) or f not in files]
    if missing:
        return f"not yet published as {', '.join(missing)}"
    old = entry.get("render") or {}
    changed = [f for f in render if old.get(f) != render[f]]
    if changed:
        return f"the {', '.join(changed)} renderer changed"
    # A published file that is missing or changed is a corrupt cache entry: rebuild.
    if not pub.verify_files(reports_dir, name, entry.get("hashes")):
        return f"published files in {Path(reports_dir) / name} are missing or changed"
    return None


@dataclass
class Assessment:
    """One report against its last good build: its keys, and why it is stale (None: fresh)."""

    key: str
    render: dict[str, str]
    inputs: dict[str, str]
    files: dict[str, bytes]
    stale: str | None


def assess(report: ReportSpec, root: Path, entry: dict, fp: Fingerprint, with_code: bool,
           reports_dir: Path) -> Assessment:
    """The one freshness rule: `build` skips a report exactly when `status` calls it fresh."""
    inputs, files = input_hashes(report, Path(root))
    key = cache_key(report, inputs, fp, with_code)
    render = fp.render_keys(report.formats)
    why = freshness(entry, key, render, reports_dir, report.name)
    if why is not None and entry.get("key"):
        why = "; ".join(why_stale(entry, report, inputs, fp, with_code)) or why
    return Assessment(key, render, inputs, files, why)


def why_stale(entry: dict, report: ReportSpec, inputs: dict, fp: Fingerprint,
              with_code: bool = False) -> list[str]:
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
    if entry.get("code") != fp.code:
        reasons.append("the analysis package changed")
    if bool(entry.get("with_code")) != bool(with_code):
        reasons.append("built with the code shown" if entry.get("with_code")
                       else "built without the code shown")
    files = entry.get("files") if isinstance(entry.get("files"), dict) else {}
    missing = [f for f in report.formats if f not in files]
    if missing:
        reasons.append(f"not yet published as {', '.join(missing)}")
    # Versions: every report's run, then the renderers of the formats already published.
    old_env, env = entry.get("env") or {}, fp.env_for([f for f in report.formats if f in files])
    for k in env:
        if old_env.get(k) != env.get(k):
            reasons.append(f"{k} {old_env.get(k)} -> {env.get(k)}")
    old_templates = entry.get("templates") or {}
    for fmt, digest in fp.templates_for([f for f in report.formats if f in files]).items():
        if old_templates.get(fmt) != digest:
            reasons.append(f"the {fmt} templates changed")
    return reasons
