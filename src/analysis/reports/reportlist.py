"""The report list: which reports `analysis build` makes, from which notebook, with what.

`reports.yaml` at the project root holds it::

    formats: [html, pdf, ipynb]          # default for every report
    reports:
      - name: kursk-km2                  # also the folder name under reports/
        notebook: notebooks/kursk_report.ipynb
        parameters: {area_unit: km2}
        formats: [html, pdf]             # optional, overrides the default
        inputs: [data/extra.csv]         # optional: more files the notebook reads (globs too)
      - name: kursk-{area_unit}-{policy} # a grid: one report per combination
        notebook: notebooks/kursk_report.ipynb
        parameters: {title: Kursk}       # the same in every variant
        grid:                            # lists: the build makes their product
          area_unit: [km2, mi2]
          policy: [default, exact]
    generate:                            # one report per file a glob finds
      - for_each: data/sources/*.yaml
        name: source-{stem}
        notebook: notebooks/source_report.ipynb
        parameters: {source: "{path}"}   # {path}, {stem} and {name} are filled in
        grid: {paper: [a4, us-letter]}   # optional; then the name needs {paper} too

A grid entry's name must name every grid parameter that has more than one value
(`{area_unit}` is replaced by each value), so every variant's name is plain and
unique. A grid larger than `grid_limit` reports (default `DEFAULT_GRID_LIMIT`) is
refused before anything starts: `analysis build --yes` or `--grid-limit N` allows it.

A notebook declares which of its parameters name input files: a comment starting
`input file` on the parameter's line in its `parameters` cell. The build hashes
each such file (relative to the project root) and ships it with the task.
Parameters are checked against the ones the notebook declares (papermill's
`inspect_notebook`) before any kernel starts.
"""

from __future__ import annotations

import ast
import dataclasses
import glob
import hashlib
import itertools
import json
import keyword
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from analysis.errors import (
    GridTooLarge,
    LimitError,
    ParameterError,
    ReportListError,
    UsageError,
)
from analysis.files import PROJECT_FILE, limited_safe_loader, load_limited, read_capped

REPORT_LIST = PROJECT_FILE
FORMATS = ("html", "pdf", "ipynb")
DEFAULT_GRID_LIMIT = 1000  # reports one grid may expand to without --yes
# A notebook declares a parameter that names an input file with a comment on its line
# in the parameters cell that starts with these words: `source = "a.yaml"  # input file`.
INPUT_FILE = "input file"
# Names become folder and file names under reports/, so keep them plain.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class _Loader(limited_safe_loader()):
    """Safe YAML without aliases or deep nesting (analysis.files)."""


def _load_yaml(text: str):
    # ValueError: an int of more than 4,300 digits; LimitError is a ValueError too
    return load_limited(text, _Loader)


@dataclass(frozen=True)
class ReportSpec:
    """One entry of the report list: a notebook run with parameters, in some formats."""

    name: str
    notebook: str  # posix path relative to the project root
    parameters: dict = field(default_factory=dict)
    formats: tuple[str, ...] = FORMATS
    # other files the notebook reads, relative to the root: the list's `inputs`, and (after
    # with_declared_inputs) the files its input-file parameters name
    inputs: tuple[str, ...] = ()

    def input_paths(self) -> list[str]:
        """The files this report reads: its notebook and its inputs."""
        return list(dict.fromkeys([self.notebook, *self.inputs]))


def load_report_list(root: Path, path: Path | None = None, *,
                     grid_limit: int | None = DEFAULT_GRID_LIMIT) -> list[ReportSpec]:
    """Read and validate `reports.yaml` (or `path`); expand its grids and `generate`
    rules. `grid_limit` (None: no limit) caps the reports one entry may expand to."""
    root = Path(root)
    path = Path(path) if path is not None else root / REPORT_LIST
    shown = _shown(path, root)
    try:
        text = read_capped(path).decode("utf-8")
    except FileNotFoundError:
        raise ReportListError(
            shown, "no report list here; create it (see docs/scheduling.md)"
        ) from None
    except LimitError as exc:
        raise ReportListError(shown, f"{exc.problem}; {exc.fix}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportListError(shown, f"cannot be read as UTF-8 text ({exc})") from None
    try:
        data = _load_yaml(text)
    except LimitError as exc:
        where = f" at line {exc.line}" if exc.line else ""
        raise ReportListError(shown, f"{exc.problem}{where}; {exc.fix}") from None
    except (ValueError, RecursionError) as exc:
        raise ReportListError(shown, f"not valid YAML: {exc}") from None
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        where = f" at line {line + 1}" if line is not None else ""
        problem = getattr(exc, "problem", exc)
        raise ReportListError(shown, f"not valid YAML{where}: {problem}") from None
    if not isinstance(data, dict):
        raise ReportListError(shown, "expected a mapping with a 'reports' list")
    unknown = set(data) - {"formats", "reports", "generate"}
    if unknown:
        raise ReportListError(
            shown, f"unknown key(s) {', '.join(sorted(map(str, unknown)))}; "
            "allowed: formats, reports, generate"
        )
    default_formats = _formats(data.get("formats", list(FORMATS)), shown, None)
    reports: list[ReportSpec] = []
    for i, entry in enumerate(_list(data.get("reports", []), shown, "reports")):
        reports.extend(_grid_reports(entry, root, shown, default_formats, f"#{i + 1}",
                                     grid_limit))
    taken = {r.name for r in reports}
    for i, rule in enumerate(_list(data.get("generate", []), shown, "generate")):
        reports.extend(_generate(rule, root, shown, default_formats, f"generate #{i + 1}",
                                 taken, grid_limit))
    seen: set[str] = set()
    for report in reports:
        if report.name in seen:
            raise ReportListError(shown, "two reports share this name", f"'{report.name}'")
        seen.add(report.name)
    return reports


def select(reports: list[ReportSpec], names: tuple[str, ...] | list[str]) -> list[ReportSpec]:
    """The reports named (all when none is named), in list order."""
    if not names:
        return list(reports)
    known = {r.name for r in reports}
    missing = [n for n in names if n not in known]
    if missing:
        raise UsageError(
            f"no report named {', '.join(repr(n) for n in missing)} in the report list; "
            f"known: {', '.join(sorted(known)) or '(none)'}"
        )
    wanted = set(names)
    return [r for r in reports if r.name in wanted]


def parse_overrides(pairs: tuple[str, ...] | list[str]) -> dict:
    """`-p key=value` pairs; each value is read as a YAML scalar (`2` is an int, `x` a str)."""
    out: dict = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"-p {pair!r}: expected key=value, e.g. -p area_unit=mi2")
        try:
            value = _load_yaml(raw) if raw.strip() else ""
        except (yaml.YAMLError, ValueError, RecursionError) as exc:
            raise UsageError(f"-p {pair!r}: the value is not a YAML scalar: {exc}") from None
        if isinstance(value, dict | list):
            raise UsageError(f"-p {pair!r}: expected a single value, not a list or mapping")
        out[key] = _yaml_scalars(value)
    return out


def _yaml_scalars(value):
    """YAML reads 2025-06-22 as a date; a notebook parameter gets the text."""
    import datetime as dt

    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _yaml_scalars(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_yaml_scalars(v) for v in value]
    return value


def with_overrides(reports: list[ReportSpec], overrides: dict, formats=None) -> list[ReportSpec]:
    """The reports with `overrides` applied to each, and `formats` if given."""
    out = []
    for r in reports:
        params = {**r.parameters, **overrides}
        out.append(
            ReportSpec(r.name, r.notebook, params, tuple(formats) if formats else r.formats,
                       r.inputs)
        )
    return out


def parse_formats(text: str) -> tuple[str, ...]:
    """`html,pdf` -> ('html', 'pdf'), checked against the known formats."""
    parts = tuple(dict.fromkeys(p.strip().lower() for p in text.split(",") if p.strip()))
    bad = [p for p in parts if p not in FORMATS]
    if bad or not parts:
        raise UsageError(
            f"--format {text!r}: unknown format {', '.join(bad) or '(empty)'}; "
            f"choose from {', '.join(FORMATS)}"
        )
    return parts


def check_inputs(report: ReportSpec, root: Path) -> None:
    """Every input file exists inside the project (a hermetic task ships them)."""
    root = Path(root).resolve()
    for rel in report.input_paths():
        label = "notebook" if rel == report.notebook else f"input {rel!r}"
        p = Path(rel)
        if p.is_absolute() or ".." in p.parts:
            raise ReportListError(
                REPORT_LIST, f"{label} must be a path inside the project, relative to its root",
                f"'{report.name}'",
            )
        if not (root / p).is_file():
            raise ReportListError(
                REPORT_LIST, f"{label} does not exist ({root / p})", f"'{report.name}'"
            )


# --- parameters against the notebook ------------------------------------------------


def skip_slow_imports() -> None:
    """Make papermill/nbformat import in 0.3 s instead of 1.5 s.

    nbformat imports jsonschema, which imports `rfc3987_syntax` (when installed) to
    check "iri" string formats; that module compiles a Lark grammar at import, 1 s of
    CPU. Notebook validation never checks IRIs, so a process that only runs builds
    tells Python the module is absent; jsonschema then skips that one checker.
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)


def declared_parameters(notebook: Path, cache_file: Path | None = None) -> dict:
    """{name: {"default": source text, ...}} from the notebook's `parameters` cell.

    Uses papermill's `inspect_notebook`. Its answer is cached by the notebook's
    bytes in `cache_file` (if given), so a build with nothing to do never imports
    papermill.
    """
    data = Path(notebook).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    cache: dict = {}
    if cache_file is not None:
        try:
            cache = json.loads(Path(cache_file).read_text(encoding="utf-8"))
            if not isinstance(cache, dict):
                cache = {}
        except (OSError, ValueError):
            cache = {}  # a missing or corrupt cache is only slower
        hit = cache.get(digest)
        if isinstance(hit, dict):
            return hit
    skip_slow_imports()
    import papermill  # slow import: only on a cache miss

    try:
        found = papermill.inspect_notebook(str(notebook))
    except Exception as exc:  # papermill raises plain ValueErrors for bad notebooks
        raise UsageError(f"{notebook}: cannot read its parameters: {exc}") from exc
    found = {k: {"default": v.get("default"), "type": v.get("inferred_type_name"),
                 "help": v.get("help", "")} for k, v in found.items()}
    if cache_file is not None:
        from analysis.files import atomic_write

        cache = {k: v for k, v in cache.items() if isinstance(v, dict)}
        cache[digest] = found
        try:
            atomic_write(Path(cache_file), json.dumps(cache, sort_keys=True).encode())
        except OSError:
            pass  # a cache that cannot be written is only slower
    return found


def file_parameters(declared: dict) -> list[str]:
    """The parameters a notebook declares as input files (a comment starting `input file`,
    which papermill's inspect_notebook reads as the parameter's help)."""
    return [name for name, spec in declared.items()
            if str(spec.get("help") or "").strip().lower().startswith(INPUT_FILE)]


def with_declared_inputs(report: ReportSpec, declared: dict) -> ReportSpec:
    """The report with the files its input-file parameters name added to its inputs: the
    value the report gives, or the notebook's default when it gives none."""
    files = []
    for name in file_parameters(declared):
        if name in report.parameters:
            value = report.parameters[name]
        else:
            try:
                value = ast.literal_eval(declared[name].get("default") or "None")
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                continue
        if isinstance(value, str) and value:
            files.append(value)
    if not files:
        return report
    return dataclasses.replace(report, inputs=tuple(dict.fromkeys((*files, *report.inputs))))


_TYPES = {"str": str, "int": int, "float": float, "bool": bool, "list": list, "dict": dict}


def _default_type(spec: dict):
    """The Python type of a declared parameter's default, or None when any type goes."""
    try:
        value = ast.literal_eval(spec.get("default") or "None")
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _TYPES.get(str(spec.get("type")))
    return None if value is None else type(value)


def check_parameters(report: ReportSpec, declared: dict, extra: tuple[str, ...] = ()) -> None:
    """Raise ParameterError for a name the notebook lacks, a bad name, or a wrong type.

    `extra` names parameters the build itself passes (e.g. figures_out).
    """
    for name, value in report.parameters.items():
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            raise ParameterError(report.name, str(name), "not a Python identifier")
        if name in extra:
            raise ParameterError(report.name, name, "set by the build itself; do not pass it")
        if name not in declared:
            known = ", ".join(sorted(n for n in declared if n not in extra)) or "(none)"
            raise ParameterError(
                report.name, name,
                f"{report.notebook} does not declare it; its parameters are: {known}",
            )
        want = _default_type(declared[name])
        if want is None or value is None:
            continue
        got = type(value)
        ok = got is want or (want is float and got is int) or (
            want not in (bool, int) and isinstance(value, want)
        )
        if not ok:
            default = declared[name].get("default")
            hint = ""
            if want is str:
                hint = f"; quote it to pass text: -p '{name}=\"{value}\"'"
            raise ParameterError(
                report.name, name,
                f"expects {want.__name__} (its default is {default}), got "
                f"{got.__name__} {value!r}{hint}",
            )


# --- reading entries ----------------------------------------------------------------


def _shown(path: Path, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path(root).resolve()))
    except ValueError:
        return str(path)


def _list(value, shown: str, key: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ReportListError(shown, f"'{key}' must be a list")
    return value


def _formats(value, shown: str, entry: str | None) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",")]
    if not isinstance(value, list) or not value:
        raise ReportListError(shown, "expected a non-empty list of formats", entry, "formats")
    bad = [str(v) for v in value if v not in FORMATS]
    if bad:
        raise ReportListError(
            shown, f"unknown format {', '.join(bad)}; choose from {', '.join(FORMATS)}",
            entry, "formats",
        )
    return tuple(dict.fromkeys(value))


def _report(entry, root: Path, shown: str, default_formats, label: str) -> ReportSpec:
    if not isinstance(entry, dict):
        raise ReportListError(shown, "each report must be a mapping", label)
    name = entry.get("name")
    entry_label = f"'{name}'" if isinstance(name, str) else label
    unknown = set(entry) - {"name", "notebook", "parameters", "formats", "inputs", "grid"}
    if unknown:
        raise ReportListError(
            shown, f"unknown key(s) {', '.join(sorted(map(str, unknown)))}; allowed: "
            "name, notebook, parameters, formats, inputs, grid", entry_label,
        )
    if not isinstance(name, str) or not _NAME.match(name):
        raise ReportListError(
            shown, "a name is required: letters, digits, '.', '_' or '-' (it names a folder)",
            entry_label, "name",
        )
    notebook = entry.get("notebook")
    if not isinstance(notebook, str) or not notebook.endswith(".ipynb"):
        raise ReportListError(shown, "expected the path of an .ipynb file", entry_label, "notebook")
    if not (root / notebook).is_file():
        raise ReportListError(shown, f"no notebook at {notebook}", entry_label, "notebook")
    params = entry.get("parameters") or {}
    if not isinstance(params, dict):
        raise ReportListError(shown, "expected a mapping of name: value", entry_label, "parameters")
    for key in params:
        if not isinstance(key, str) or not key.isidentifier() or keyword.iskeyword(key):
            raise ReportListError(
                shown, f"parameter name {key!r} is not a Python identifier",
                entry_label, "parameters",
            )
    formats = _formats(entry["formats"], shown, entry_label) if "formats" in entry else (
        default_formats
    )
    inputs = entry.get("inputs") or []
    if not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs):
        raise ReportListError(shown, "expected a list of file paths", entry_label, "inputs")
    return ReportSpec(name, Path(notebook).as_posix(), _yaml_scalars(dict(params)), formats,
                      tuple(_expand(inputs, root)))


def _expand(inputs: list[str], root: Path) -> list[str]:
    """Inputs with a glob (`data/sources/*.yaml`) become the files it finds, in name order,
    so a story report reads every source file, including ones added later."""
    out = []
    for item in inputs:
        if glob.has_magic(item):
            out.extend(Path(f).as_posix() for f in sorted(glob.glob(item, root_dir=root)))
        else:
            out.append(item)
    return list(dict.fromkeys(out))


def _generate(rule, root: Path, shown: str, default_formats, label: str,
              taken: set[str], grid_limit: int | None = DEFAULT_GRID_LIMIT) -> list[ReportSpec]:
    if not isinstance(rule, dict) or not isinstance(rule.get("for_each"), str):
        raise ReportListError(shown, "expected a mapping with a 'for_each' glob", label)
    pattern = rule["for_each"]
    template = {k: v for k, v in rule.items() if k not in ("for_each", "grid")}
    found_files = sorted(glob.glob(pattern, root_dir=root))
    combos = _grid(rule, shown, label, len(found_files), grid_limit)
    _check_placeholders(template, shown, label, (*_FILLS, *combos[0]))
    out = []
    for found in found_files:
        rel = Path(found).as_posix()
        fill = {"path": rel, "stem": Path(found).stem, "name": Path(found).name}
        variants: list[ReportSpec] = []
        for combo in combos:
            values = {**fill, **{k: str(v) for k, v in combo.items()}}
            entry = _fill(template, values)
            if combo:
                entry["parameters"] = {**(entry.get("parameters") or {}), **combo}
            if isinstance(template.get("name"), str):
                # a file name may hold spaces or brackets; a report name names a folder
                entry["name"] = _slug(_fill(template["name"], values))
            variants.append(_report(entry, root, shown, default_formats, f"{label} ({rel})"))
        _distinct_variants(variants, rule.get("name"), shown, label)
        for report in variants:
            report = dataclasses.replace(report, name=_unique(report.name, taken))
            taken.add(report.name)
            out.append(report)
    return out


_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_FILLS = ("path", "stem", "name")


def _check_placeholders(value, shown: str, label: str, allowed=_FILLS) -> None:
    """Only {path}, {stem}, {name} and grid parameters: a template is text, not a format
    string."""
    if isinstance(value, str):
        for found in _PLACEHOLDER.findall(value):
            if found not in allowed:
                names = [f"{{{a}}}" for a in allowed]
                raise ReportListError(
                    shown, f"unknown placeholder {{{found}}} in {value!r}; "
                    f"use {', '.join(names[:-1])} or {names[-1]}", label)
    elif isinstance(value, dict):
        for v in value.values():
            _check_placeholders(v, shown, label, allowed)
    elif isinstance(value, list):
        for v in value:
            _check_placeholders(v, shown, label, allowed)


def _grid_reports(entry, root: Path, shown: str, default_formats, label: str,
                  grid_limit: int | None) -> list[ReportSpec]:
    """One report, or one per combination of the entry's `grid`."""
    if not isinstance(entry, dict) or "grid" not in entry:
        return [_report(entry, root, shown, default_formats, label)]
    name = entry.get("name")
    label = f"'{name}'" if isinstance(name, str) else label
    combos = _grid(entry, shown, label, 1, grid_limit)
    params = entry.get("parameters") or {}
    if not isinstance(params, dict):
        raise ReportListError(shown, "expected a mapping of name: value", label, "parameters")
    out = []
    for combo in combos:
        variant = {k: v for k, v in entry.items() if k != "grid"}
        variant["name"] = _grid_name(name, combo, shown, label)
        if not _NAME.match(variant["name"]):
            raise ReportListError(
                shown, f"a variant's name {variant['name']!r} is not plain: use values of "
                "letters, digits, '.', '_' or '-' in the name (it names a folder)",
                label, "name")
        variant["parameters"] = {**params, **combo}
        out.append(_report(variant, root, shown, default_formats, label))
    _distinct_variants(out, name, shown, label)
    return out


def _grid(entry: dict, shown: str, label: str, multiplier: int,
          grid_limit: int | None) -> list[dict]:
    """The combinations of an entry's `grid` ([{}] without one), in the order written."""
    grid = entry.get("grid")
    if grid is None:
        return [{}]
    if not isinstance(grid, dict) or not grid:
        raise ReportListError(shown, "expected a mapping of parameter: [values, ...]",
                              label, "grid")
    params = entry.get("parameters") or {}
    for key, values in grid.items():
        field_name = f"grid.{key}"
        if not isinstance(key, str) or not key.isidentifier() or keyword.iskeyword(key):
            raise ReportListError(shown, f"parameter name {key!r} is not a Python identifier",
                                  label, "grid")
        if not isinstance(values, list):
            raise ReportListError(shown, "expected a list of values", label, field_name)
        if not values:
            raise ReportListError(shown, "the list is empty, so the grid has no report; "
                                  "give at least one value", label, field_name)
        if any(isinstance(v, dict | list) or v is None for v in values):
            raise ReportListError(shown, "each value must be a single text, number or "
                                  "true/false", label, field_name)
        if len(set(map(repr, values))) != len(values):
            raise ReportListError(shown, "a value is listed twice", label, field_name)
        if isinstance(params, dict) and key in params:
            raise ReportListError(shown, "given both under parameters and in the grid; "
                                  "keep one", label, field_name)
    total = multiplier
    for values in grid.values():
        total *= len(values)
    if grid_limit is not None and total > grid_limit:
        raise GridTooLarge(shown, f"the grid expands to {total:,} reports, more than the "
                           f"limit of {grid_limit:,}; to build them all, run again with "
                           "--yes (or raise the limit with --grid-limit)", label, "grid")
    keys = list(grid)
    return [dict(zip(keys, _yaml_scalars(list(values)), strict=True))
            for values in itertools.product(*grid.values())]


def _grid_name(template, combo: dict, shown: str, label: str) -> str:
    """`kursk-{area_unit}` -> `kursk-km2`: only grid parameters, by name, as plain text."""
    if not isinstance(template, str):
        raise ReportListError(shown, "a name is required (a template such as "
                              "kursk-{area_unit})", label, "name")

    def value(match):
        key = match.group(1)
        if key not in combo:
            raise ReportListError(shown, f"{{{key}}} is not a grid parameter; the name may "
                                  f"use {', '.join('{' + k + '}' for k in combo)}",
                                  label, "name")
        return str(combo[key])

    return _PLACEHOLDER.sub(value, template)


def _distinct_variants(reports: list[ReportSpec], template, shown: str, label: str) -> None:
    """Two variants of one entry may not share a name: the template must name what varies."""
    seen: dict[str, ReportSpec] = {}
    for report in reports:
        if report.name in seen:
            a, b = seen[report.name].parameters, report.parameters
            differ = [k for k in sorted(set(a) | set(b), key=str) if a.get(k) != b.get(k)]
            raise ReportListError(
                shown, f"two variants get the name '{report.name}' (they differ in "
                f"{', '.join(differ) or 'nothing'}); put "
                f"{', '.join('{' + str(k) + '}' for k in differ) or 'each grid parameter'} "
                f"in the name template {template!r}", label, "name")
        seen[report.name] = report


def _fill(value, fill: dict):
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: fill[m.group(1)], value)
    if isinstance(value, dict):
        return {k: _fill(v, fill) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, fill) for v in value]
    return value


def _slug(name: str) -> str:
    """'source-my article' -> 'source-my-article': what _NAME allows, nothing else."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-._")
    return slug or "report"


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}-{n}"
    return candidate
