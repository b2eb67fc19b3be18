"""Derived figures: formulas declared in a source file, evaluated safely and exactly.

A formula is parsed with `ast` and only these constructs are allowed: figure
names, numbers, + - * /, unary minus, parentheses, and the calls in FUNCTIONS.
Anything else (attribute access, subscripts, lambdas, other calls, `__import__`)
is rejected before evaluation. Nothing is ever passed to `eval`.

Bounds of a derived figure are the true min and max over its inputs' bounds:
the formula is evaluated at every corner of the box of its stated inputs (the
leaves, so a derived input does not lose its correlation with the others). That
is exact for formulas monotone in each input, such as n / (r + n); a grid of
interior points checks monotonicity and widens the bounds, with a warning, where
it fails.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import difflib
import itertools
import math
import operator
from dataclasses import dataclass, field
from fractions import Fraction

from analysis.errors import AnalysisError, FormulaError, SourceError, UnknownUnit
from analysis.figures.bounds import (
    INF,
    bounds_for,
    norm,
    significant_digits,
    to_float,
)
from analysis.figures.source import Check, Derived, Figure, Source
from analysis.figures.units import (
    describe_dimension,
    dimensionality,
    parse_unit,
    to_base_factor,
)

SECONDS_PER_DAY = 86400
FUNCTIONS = {
    "days_between": "days_between(a, b): time from date a to date b",
    "quantity": 'quantity(366, "day"): a constant with a unit',
    "min": "min(x, y, ...): the smallest, same units",
    "max": "max(x, y, ...): the largest, same units",
}
#: the comparisons a check may make, and how each is evaluated
COMPARISONS = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
               ast.GtE: operator.ge, ast.Eq: operator.eq}
_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
MAX_FORMULA_CHARS = 1000
MAX_FORMULA_DEPTH = 50
_MAX_CORNER_INPUTS = 10  # 2**10 corners; past that interval arithmetic gives the bounds
_MAX_GRID = 3**7


# --- parsing ----------------------------------------------------------------------


def _describe(node: ast.AST) -> str:
    names = {
        ast.Attribute: "attribute access (x.y)", ast.Subscript: "indexing (x[...])",
        ast.Lambda: "lambda", ast.Pow: "powers (**)", ast.BoolOp: "and/or",
        ast.IfExp: "if/else", ast.ListComp: "comprehensions", ast.Starred: "* arguments",
        ast.FloorDiv: "floor division (//)", ast.Mod: "modulo (%)", ast.JoinedStr: "f-strings",
        ast.List: "lists", ast.Tuple: "tuples", ast.Dict: "dicts", ast.NamedExpr: ":=",
    }
    return names.get(type(node), type(node).__name__)


def parse_formula(text: str, *, allow_compare: bool = False) -> ast.Expression:
    """Parse and vet a formula; FormulaError names the first forbidden construct."""
    if len(text) > MAX_FORMULA_CHARS:
        raise FormulaError(text[:60] + "...", f"is longer than {MAX_FORMULA_CHARS} characters; "
                           "split it into derived figures that build on each other")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise FormulaError(text, f"is not a formula ({exc.msg})") from None
    except (RecursionError, MemoryError):
        raise FormulaError(text, "is nested too deeply") from None
    if _depth(tree.body) > MAX_FORMULA_DEPTH:
        # every walk over the formula recurses; Python stops at about 1,000 levels
        raise FormulaError(text, f"is nested more than {MAX_FORMULA_DEPTH} levels deep; "
                           "split it into derived figures that build on each other")
    _vet(tree.body, text, allow_compare=allow_compare, top=True)
    return tree


def _depth(tree: ast.AST) -> int:
    """How deep the tree nests, without recursion (the tree may be 1,000 levels deep)."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _vet(node, text, *, allow_compare, top=False, const_ok=False):
    if isinstance(node, ast.Name):
        if node.id.startswith("_"):
            raise FormulaError(text, f"the name '{node.id}' is not allowed")
        return
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float | str):
            raise FormulaError(text, f"the constant {node.value!r} is not allowed")
        if isinstance(node.value, float) and not math.isfinite(node.value):
            raise FormulaError(text, f"the number {node.value!r} is not finite")
        if isinstance(node.value, str) and not const_ok:
            raise FormulaError(text, 'text is only allowed as a unit, in quantity(366, "day")')
        return
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINOPS:
            raise FormulaError(text, f"{_describe(node.op)} is not allowed; use + - * /")
        _vet(node.left, text, allow_compare=False)
        _vet(node.right, text, allow_compare=False)
        return
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.USub | ast.UAdd):
            raise FormulaError(text, f"{_describe(node.op)} is not allowed")
        _vet(node.operand, text, allow_compare=False)
        return
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise FormulaError(text, f"calling {_describe(node.func)} is not allowed")
        if node.func.id not in FUNCTIONS:
            raise FormulaError(text, f"the function '{node.func.id}' is not allowed; "
                               f"allowed: {', '.join(FUNCTIONS)}")
        if node.keywords:
            raise FormulaError(text, "keyword arguments are not allowed")
        if node.func.id == "quantity":
            if (len(node.args) != 2 or not isinstance(node.args[0], ast.Constant)
                    or not isinstance(node.args[1], ast.Constant)
                    or not isinstance(node.args[1].value, str)):
                raise FormulaError(text, 'quantity takes a number and a unit: quantity(366, "day")')
            _vet(node.args[0], text, allow_compare=False)
            return
        if node.func.id == "days_between" and len(node.args) != 2:
            raise FormulaError(text, "days_between takes two dates: days_between(start, end)")
        if not node.args:
            raise FormulaError(text, f"{node.func.id} needs arguments")
        for arg in node.args:
            _vet(arg, text, allow_compare=False)
        return
    if isinstance(node, ast.Compare):
        if not (allow_compare and top):
            raise FormulaError(text, "comparisons are only allowed in checks")
        for op in node.ops:
            if type(op) not in COMPARISONS:
                raise FormulaError(text, f"the comparison {type(op).__name__} is not allowed")
        for sub in (node.left, *node.comparators):
            _vet(sub, text, allow_compare=False)
        return
    raise FormulaError(text, f"{_describe(node)} is not allowed")


# --- values during evaluation -----------------------------------------------------


class DateValue:
    """A date as a day number (proleptic ordinal), only usable in days_between and checks."""

    __slots__ = ("day",)

    def __init__(self, day):
        self.day = day


def _dims(node, env_dims, text):
    """Dimensionality of a formula's result ('date' for a date)."""
    if isinstance(node, ast.Expression):
        return _dims(node.body, env_dims, text)
    if isinstance(node, ast.Name):
        return env_dims[node.id]
    if isinstance(node, ast.Constant):
        return dimensionality("dimensionless")
    if isinstance(node, ast.UnaryOp):
        d = _dims(node.operand, env_dims, text)
        if d == "date":
            raise FormulaError(text, "a date cannot be negated; use days_between(a, b)")
        return d
    if isinstance(node, ast.BinOp):
        left, right = _dims(node.left, env_dims, text), _dims(node.right, env_dims, text)
        if "date" in (left, right):
            raise FormulaError(text, "dates can only be used in days_between(a, b) or compared "
                               "in a check")
        if isinstance(node.op, ast.Add | ast.Sub):
            if left != right:
                raise FormulaError(text, f"cannot add or subtract {describe_dimension(left)} and "
                                   f"{describe_dimension(right)}")
            return left
        return left * right if isinstance(node.op, ast.Mult) else left / right
    if isinstance(node, ast.Call):
        name = node.func.id
        if name == "quantity":
            try:
                return dimensionality(parse_unit(node.args[1].value))
            except UnknownUnit as exc:
                raise FormulaError(text, exc.problem) from None
        args = [_dims(a, env_dims, text) for a in node.args]
        if name == "days_between":
            if args != ["date", "date"]:
                raise FormulaError(text, "days_between takes two dates")
            return dimensionality("day")
        if any(a != args[0] for a in args) or "date" in args:
            raise FormulaError(text, f"{name} needs arguments in the same units")
        return args[0]
    if isinstance(node, ast.Compare):
        sides = [_dims(n, env_dims, text) for n in (node.left, *node.comparators)]
        if any(side != sides[0] for side in sides):
            raise FormulaError(text, f"cannot compare {describe_dimension(sides[0])} with "
                               f"{describe_dimension(sides[1])}")
        return "bool"
    raise FormulaError(text, f"{_describe(node)} is not allowed")  # pragma: no cover


def _eval(node, env, text):
    """Evaluate on base-unit magnitudes (Fraction or +/-inf) and DateValues."""
    if isinstance(node, ast.Expression):
        return _eval(node.body, env, text)
    if isinstance(node, ast.Name):
        return env(node.id)
    if isinstance(node, ast.Constant):
        return Fraction(str(node.value))
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, env, text)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp):
        a = _eval(node.left, env, text)
        b = _eval(node.right, env, text)
        op = type(node.op)
        if op is ast.Add:
            return norm(a + b)
        if op is ast.Sub:
            return norm(a - b)
        if op is ast.Mult:
            return norm(a * b)
        if b == 0:
            raise ArithmeticError("division by zero")
        return norm(a / b)
    if isinstance(node, ast.Call):
        name = node.func.id
        if name == "quantity":
            unit = parse_unit(node.args[1].value)
            return Fraction(str(node.args[0].value)) * to_base_factor(unit)
        args = [_eval(a, env, text) for a in node.args]
        if name == "days_between":
            return norm((args[1].day - args[0].day) * SECONDS_PER_DAY)
        return min(args) if name == "min" else max(args)
    if isinstance(node, ast.Compare):
        values = [_eval(n, env, text) for n in (node.left, *node.comparators)]
        values = [v.day if isinstance(v, DateValue) else v for v in values]
        return all(COMPARISONS[type(op)](x, y) for op, x, y in zip(node.ops, values, values[1:],
                                                                    strict=False))
    raise FormulaError(text, f"{_describe(node)} is not allowed")  # pragma: no cover


# --- results ----------------------------------------------------------------------


@dataclass
class Result:
    """A figure as reports use it: stated or derived, with bounds, in its unit."""

    id: str
    kind: str  # "stated" | "derived"
    value: Fraction | dt.date
    low: Fraction | float | dt.date | None
    high: Fraction | float | dt.date | None
    unit: str
    description: str
    formula: str | None = None
    inputs: list[str] = field(default_factory=list)
    qualifier: str | None = None
    attributed_to: str | None = None
    date: str | dt.date | None = None
    reading: str | None = None
    note: str | None = None
    format: str | None = None
    figure_kind: str = "quantity"  # "count" | "quantity" | "date"
    warnings: list[str] = field(default_factory=list)
    readings: dict[str, str] = field(default_factory=dict)  # inputs read one way of several
    # stated input id -> share of the bounds' width it causes (see width_shares); None for a
    # stated figure, {} for a derived one whose bounds have no width
    width_from: dict[str, float] | None = None
    width_from_uncapped: dict[str, float] | None = None
    # Significant digits the stated inputs support (None: every input is exact).
    digits: int | None = None
    noun: str | None = None  # what a count counts, for readers (source field `noun`)
    # A side whose bound comes only from a cap: side -> "domain" or the at_most figure's id.
    capped: dict[str, str] = field(default_factory=dict)

    @property
    def is_date(self) -> bool:
        return self.unit == "date"

    def to_json(self) -> dict:
        """The JSON contract of docs/architecture.md: exactly these keys."""
        if self.is_date:
            conv = _date_json
        else:
            conv = to_float
        return {
            "id": self.id, "kind": self.kind, "value": conv(self.value),
            "low": conv(self.low), "high": conv(self.high), "unit": self.unit,
            "formula": self.formula, "inputs": list(self.inputs), "qualifier": self.qualifier,
            "width_from": self.width_from, "width_from_uncapped": self.width_from_uncapped,
            "warnings": list(self.warnings),
        }


def _date_json(d):
    if d is None:
        return None
    return d.isoformat()


def _ordinal_to_date(day) -> dt.date:
    return dt.date.fromordinal(int(math.floor(day + Fraction(1, 2))))


@dataclass
class _Model:
    """What evaluation worked out once and a check reuses: the stated figures resolved
    (by reading, policy and caps), the parsed formulas, their inputs and dimensions."""

    leaves: dict
    trees: dict
    deps: dict
    dims: dict
    derived: dict


class Figures(dict):
    """id -> Result, in source order, with the settings that produced them."""

    def __init__(self, source: Source, policy: str, readings: dict[str, str]):
        super().__init__()
        self.source = source
        self.policy = policy
        self.readings = readings
        self.model: _Model | None = None

    def to_json(self, ids=None) -> list[dict]:
        return [r.to_json() for r in self.values() if ids is None or r.id in ids]


# --- evaluation -------------------------------------------------------------------


@dataclass
class _Leaf:
    """A stated figure resolved by reading and policy, in base units."""

    figure: Figure
    value: object  # Fraction (base units) or DateValue day number
    low: object
    high: object
    reading: str | None
    note: str | None
    qualifier: str | None
    is_date: bool
    digits: int | None = None
    capped_by: str | None = None  # the at_most figure that lowered `high`
    uncapped_high: object = None  # the upper bound before an at_most cap, when one applied
    warnings: list = field(default_factory=list)


def _resolve_leaf(fig: Figure, policy: str, reading_name: str | None) -> _Leaf:
    value, low, high, qualifier, written, note = (fig.value, fig.low, fig.high, fig.qualifier,
                                                  fig.written, fig.note)
    if fig.readings:
        r = fig.readings[reading_name or fig.default_reading]
        value, low, high, note, written = r.value, r.low, r.high, r.note or note, r.written
        qualifier = r.qualifier
        reading_name = r.name
    if fig.kind == "date":
        lo = Fraction((low or value).toordinal())
        hi = Fraction((high or value).toordinal())
        pt = Fraction(value.toordinal()) if value is not None else (lo + hi) / 2
        if policy == "exact":
            lo = hi = pt
        return _Leaf(fig, pt, lo, hi, reading_name, note, qualifier, True)
    factor = to_base_factor(fig.unit)
    if value is None:  # a reading given as a range only: its middle is the point
        value = (low + high) / 2
    if low is not None or high is not None:
        lo = low if low is not None else value
        hi = high if high is not None else value
        if policy == "exact":
            lo = hi = value
    else:
        lo, hi = bounds_for(value, qualifier, policy=policy, written=written)
    digits = None
    if lo != hi:  # an exact figure limits nothing
        digits = significant_digits(written if written is not None else value)
    return _Leaf(fig, value * factor, norm(lo * factor), norm(hi * factor), reading_name, note,
                 qualifier, False, digits)


def evaluate(source: Source, *, policy: str = "default",
             readings: dict[str, str] | None = None) -> Figures:
    """Every stated and derived figure of a source, with bounds, in source order.

    `policy` is the qualifier policy ("default" or "exact"); `readings` picks a
    reading for each figure that has several, by figure id.
    """
    from analysis.figures.bounds import POLICIES

    if policy not in POLICIES:
        raise AnalysisError(f"unknown qualifier policy {policy!r}; use one of "
                            f"{', '.join(POLICIES)}")
    readings = dict(readings or {})
    stated = {f.id: f for f in source.figures}
    for fid, name in readings.items():
        fig = stated.get(fid)
        if fig is None or not fig.readings:
            have = [f.id for f in source.figures if f.readings]
            raise AnalysisError(f"{source.path}: no figure '{fid}' with readings to choose from; "
                                f"figures with readings: {', '.join(have) or 'none'}")
        if name not in fig.readings:
            raise AnalysisError(f"{source.path}: figure '{fid}' has no reading '{name}'; "
                                f"choose one of {', '.join(fig.readings)}")
    leaves = {f.id: _resolve_leaf(f, policy, readings.get(f.id)) for f in source.figures}
    _apply_caps(source, leaves)

    out = Figures(source, policy, {f.id: leaves[f.id].reading for f in source.figures
                                   if f.readings})
    for f in source.figures:
        out[f.id] = _stated_result(leaves[f.id])

    derived = {d.id: d for d in source.derived}
    trees, deps = _parse_all(source, derived, stated)
    dims: dict[str, object] = {fid: ("date" if lf.is_date else dimensionality(lf.figure.unit))
                               for fid, lf in leaves.items()}
    for did in _topological(source, derived, deps):
        d = derived[did]
        try:
            dims[did] = _dims(trees[did], dims, d.formula)
        except FormulaError as exc:
            raise _in_file(source, d, exc) from None
        out[did] = _derived_result(source, d, trees, deps, leaves, dims[did])
    out.model = _Model(leaves, trees, deps, dims, derived)
    return out


def _apply_caps(source: Source, leaves: dict[str, _Leaf]) -> None:
    """at_most: a figure's upper bound never exceeds another's (deaths <= deployed)."""
    for f in source.figures:
        if f.at_most:
            leaf, cap = leaves[f.id], leaves[f.at_most]
            if dimensionality(f.unit) != dimensionality(cap.figure.unit):
                raise SourceError(source.path, f"at_most: '{f.at_most}' is in {cap.figure.unit}, "
                                  f"not comparable with {f.unit}", line=f.line, figure=f.id,
                                  field="at_most", fix="name a figure in the same kind of unit")
            if cap.high < leaf.high:
                leaf.capped_by, leaf.uncapped_high = f.at_most, leaf.high
                leaf.high = max(cap.high, leaf.value)
            if leaf.value > cap.high:
                leaf.warnings.append(f"its stated value is above the most '{f.at_most}' can "
                                     "be (at_most), so the two figures disagree")


def _stated_result(leaf: _Leaf) -> Result:
    f = leaf.figure
    if leaf.is_date:
        value, low, high = (_ordinal_to_date(leaf.value), _ordinal_to_date(leaf.low),
                            _ordinal_to_date(leaf.high))
    else:
        factor = to_base_factor(f.unit)
        value, low, high = (leaf.value / factor, norm(leaf.low / factor),
                            norm(leaf.high / factor))
    return Result(id=f.id, kind="stated", value=value, low=low, high=high, unit=f.unit,
                  description=f.description, qualifier=leaf.qualifier,
                  attributed_to=f.attributed_to, date=f.date, reading=leaf.reading,
                  note=leaf.note, figure_kind=f.kind, digits=leaf.digits, noun=f.noun,
                  capped={"high": leaf.capped_by} if leaf.capped_by else {},
                  warnings=list(leaf.warnings))


def _in_file(source: Source, d, exc: FormulaError) -> SourceError:
    return SourceError(source.path, f"{exc.problem} (in {exc.formula!r})", line=d.line,
                       figure=d.id, field="formula" if isinstance(d, Derived) else "assert",
                       fix="formulas may use figure ids, numbers, + - * / and "
                           + ", ".join(FUNCTIONS))


def _parse_all(source: Source, derived: dict[str, Derived], stated: dict[str, Figure]):
    trees, deps = {}, {}
    known = set(stated) | set(derived)
    for d in source.derived:
        try:
            trees[d.id] = parse_formula(d.formula)
        except FormulaError as exc:
            raise _in_file(source, d, exc) from None
        deps[d.id] = _names(trees[d.id])
        for name in deps[d.id]:
            if name not in known:
                close = difflib.get_close_matches(name, sorted(known), n=1)
                raise SourceError(source.path, f"the formula names an unknown figure '{name}'",
                                  line=d.line, figure=d.id, field="formula",
                                  fix=f"did you mean '{close[0]}'?" if close
                                  else "define it under figures: or derived:")
    return trees, deps


def _names(tree) -> list[str]:
    out: list[str] = []

    def visit(n):
        if isinstance(n, ast.Call):
            for a in n.args:
                visit(a)
        elif isinstance(n, ast.Name):
            if n.id not in out:
                out.append(n.id)
        else:
            for child in ast.iter_child_nodes(n):
                visit(child)

    visit(tree)
    return out


def _topological(source, derived, deps) -> list[str]:
    order, state = [], {}

    def visit(did, path):
        if state.get(did) == "done":
            return
        if state.get(did) == "active":
            cycle = path[path.index(did):] + [did]
            d = derived[did]
            raise SourceError(source.path, "circular definition: " + " -> ".join(cycle),
                              line=d.line, figure=did, field="formula",
                              fix="define one of them from stated figures only")
        state[did] = "active"
        for dep in deps[did]:
            if dep in derived:
                visit(dep, path + [did])
        state[did] = "done"
        order.append(did)

    for d in source.derived:
        visit(d.id, [])
    return order


def leaves_of(did, deps, derived) -> list[str]:
    """The stated figures a derived figure depends on, directly or through others."""
    out: list[str] = []
    for dep in deps[did]:
        for leaf in (leaves_of(dep, deps, derived) if dep in derived else [dep]):
            if leaf not in out:
                out.append(leaf)
    return out


def _make_env(trees, derived, leaves, assignment, text):
    memo = {}

    def env(name):
        if name in assignment:
            v = assignment[name]
            return DateValue(v) if leaves[name].is_date else v
        if name not in memo:
            memo[name] = _eval(trees[name], env, text)
        return memo[name]

    return env


def _derived_result(source, d: Derived, trees, deps, leaves, dim) -> Result:
    derived = {x.id: x for x in source.derived}
    if dim == "date":
        raise SourceError(source.path, "a derived figure cannot be a date", line=d.line,
                          figure=d.id, field="formula", fix="use days_between(a, b)")
    unit = d.unit
    if unit is None:
        if dim != dimensionality("dimensionless"):
            raise SourceError(source.path, f"the formula gives {describe_dimension(dim)}",
                              line=d.line, figure=d.id, field="unit",
                              fix="add a 'unit:' in which to show it")
        unit = "dimensionless"
    elif dimensionality(unit) != dim:
        raise SourceError(source.path, f"the formula gives {describe_dimension(dim)}, but the unit "
                          f"'{unit}' is {describe_dimension(dimensionality(unit))}",
                          line=d.line, figure=d.id, field="unit",
                          fix="choose a unit of the formula's dimension")
    factor = to_base_factor(unit)
    leaf_ids = leaves_of(d.id, deps, derived)
    point = {lid: leaves[lid].value for lid in leaf_ids}
    try:
        value = _make_env(trees, derived, leaves, point, d.formula)(d.id)
    except ArithmeticError as exc:
        raise SourceError(source.path, f"cannot be evaluated at the stated values: {exc}",
                          line=d.line, figure=d.id, field="formula",
                          fix="check the inputs' values") from None
    warnings: list[str] = []
    try:
        low, high = _interval_bounds(d.id, trees, derived, leaves)
        exact = _uses_each_once(d.id, trees, derived)
    except _SpansZero as exc:
        low, high, exact = -INF, INF, True
        warnings.append(f"the divisor {exc.text} can be zero within its inputs' bounds, so "
                        "the figure is unbounded on both sides")
    except ArithmeticError as exc:
        low, high, exact = -INF, INF, True
        warnings.append(f"bounds could not be computed ({exc}); shown as unbounded")
    if not exact and len(leaf_ids) > _MAX_CORNER_INPUTS:
        # 2**n corners would take minutes; interval arithmetic is fast and never too narrow
        warnings.append(f"bounds from interval arithmetic over {len(leaf_ids)} inputs, some "
                        "used more than once: the true range may be narrower")
    elif not exact:
        try:
            low, high, widened = _corner_bounds(d, trees, derived, leaves, leaf_ids)
            if widened:
                warnings.append("the formula is not monotone in its inputs; bounds widened "
                                "from a grid of interior points and may still be too narrow")
        except ArithmeticError as exc:
            low, high = -INF, INF
            warnings.append(f"bounds could not be computed ({exc}); shown as unbounded")
    low, high = min(low, value), max(high, value)
    capped = _capped_sides(d, trees, derived, leaves, leaf_ids, low, high)
    if d.domain:
        dlo, dhi = d.domain
        base_lo = dlo * factor if dlo is not None else None
        base_hi = dhi * factor if dhi is not None else None
        if unit in ("dimensionless", "percent"):
            base_lo, base_hi = dlo, dhi  # a share's domain is stated as a fraction
        if base_lo is not None:
            if value < base_lo:
                warnings.append(f"point value lies below its domain ({dlo})")
            if base_lo > low:
                capped["low"] = "domain"
            low = max(low, base_lo)
        if base_hi is not None:
            if value > base_hi:
                warnings.append(f"point value lies above its domain ({dhi})")
            if base_hi < high:
                capped["high"] = "domain"
            high = min(high, base_hi)
    low, high = min(low, value), max(high, value)
    domain = (base_lo, base_hi) if d.domain else (None, None)
    width_from = width_shares(d, trees, derived, leaves, leaf_ids, domain=domain, capped=True)
    uncapped = width_shares(d, trees, derived, leaves, leaf_ids, domain=(None, None),
                            capped=False)
    return Result(id=d.id, kind="derived", value=value / factor, low=norm(low / factor),
                  high=norm(high / factor), unit=unit, description=d.description,
                  formula=d.formula, inputs=deps[d.id], format=d.format, warnings=warnings,
                  readings={lid: leaves[lid].reading for lid in leaf_ids
                            if leaves[lid].reading},
                  width_from=width_from, width_from_uncapped=uncapped,
                  digits=min((leaves[lid].digits for lid in leaf_ids
                              if leaves[lid].digits is not None), default=None),
                  noun=d.noun, capped={k: v for k, v in capped.items() if v})


def width_shares(d, trees, derived, leaves, leaf_ids, *, domain, capped: bool
                 ) -> dict[str, float]:
    """Where the width of a derived figure's bounds comes from: stated input id -> share.

    Each input is varied alone across its bounds (its two ends and its middle), the others
    held at their stated values; the width of the figure over that sweep is the input's
    part, and the parts are normalised to add up to 1. That answers the reporter's
    question "which number would I have to pin down to narrow this?": for
    n / (r + n) with r about 70,000 and n about 11,000 it says 61% comes from the 70,000.

    Why one at a time: to first order (a formula is close to linear across narrow bounds)
    the width over the whole box is the sum of these parts, so the shares are exact for
    sums and differences and close for ratios of inputs known to a few percent. Where
    inputs interact strongly the shares describe each input's own effect, not the joint
    one; a Shapley split over every subset of inputs would share the interactions out
    too, at 3^n evaluations instead of 3n, for a difference a reader would not see.

    Unbounded inputs: an input whose range alone makes the figure unbounded ("over
    1,000" below a subtraction) has an infinite part; such inputs share the whole width
    equally and every finite part counts as 0.

    `capped` takes the bounds as the report shows them: at_most caps on the inputs
    (nk_killed <= nk_troops) and the figure's domain (a share within 0 to 1). Uncapped
    uses the inputs' bounds from their wording alone and no domain. An empty result
    means the bounds have no width: every input is exact.
    """
    lo_cap, hi_cap = domain
    point = [leaves[i].value for i in leaf_ids]
    widths: dict[str, object] = {}
    for k, lid in enumerate(leaf_ids):
        leaf = leaves[lid]
        lo = leaf.low
        hi = leaf.high if capped or leaf.uncapped_high is None else leaf.uncapped_high
        if lo == hi:
            widths[lid] = Fraction(0)
            continue
        ends = [lo, hi] + ([(lo + hi) / 2] if not (math.isinf(lo) or math.isinf(hi)) else [])
        box = [(v, v) for v in point]
        box[k] = (lo, hi)
        seen = []
        try:
            for x in ends:
                combo = list(point)
                combo[k] = x
                seen.append(_at_corner(d, trees, derived, leaves, leaf_ids, combo, box))
        except ArithmeticError:
            widths[lid] = INF  # undefined somewhere in its range: read as unbounded
            continue
        if lo_cap is not None:
            seen = [max(v, lo_cap) for v in seen]
        if hi_cap is not None:
            seen = [min(v, hi_cap) for v in seen]
        widths[lid] = norm(max(seen) - min(seen))
    return _normalise(widths)


def _normalise(widths: dict[str, object]) -> dict[str, float]:
    open_ = [k for k, w in widths.items() if w == INF]
    if open_:
        return {k: (1 / len(open_) if k in open_ else 0.0) for k in widths}
    total = sum(widths.values())
    if total == 0:
        return {}
    return {k: float(w / total) for k, w in widths.items()}


class _SpansZero(ArithmeticError):
    def __init__(self, text):
        super().__init__(f"{text} can be zero")
        self.text = text


def _uses_each_once(did, trees, derived) -> bool:
    """True when no stated figure occurs twice in the formula, derived figures expanded:
    then interval arithmetic gives the exact range (each input moves independently)."""
    seen: set[str] = set()

    def visit(node) -> bool:
        if isinstance(node, ast.Name):
            if node.id in derived:
                return visit(trees[node.id].body)
            if node.id in seen:
                return False
            seen.add(node.id)
            return True
        if isinstance(node, ast.Call) and node.func.id == "quantity":
            return True
        return all(visit(child) for child in ast.iter_child_nodes(node))

    return visit(trees[did].body)


def _mul(a, b):
    # an interval's end at 0 times an unbounded end contributes 0, not nan
    return 0 if a == 0 or b == 0 else a * b


def _interval_bounds(did, trees, derived, leaves):
    """The formula's range over its inputs' bounds by interval arithmetic: never narrower
    than the truth, exact when each input occurs once. _SpansZero when a divisor's range
    has zero inside it (the figure then grows without bound on both sides)."""
    memo: dict[str, tuple] = {}

    def name(n):
        if n in leaves and n not in derived:
            return leaves[n].low, leaves[n].high
        if n not in memo:
            memo[n] = walk(trees[n].body, trees[n])
        return memo[n]

    def walk(node, top):
        if isinstance(node, ast.Name):
            return name(node.id)
        if isinstance(node, ast.Constant):
            c = Fraction(str(node.value))
            return c, c
        if isinstance(node, ast.UnaryOp):
            lo, hi = walk(node.operand, top)
            return (-hi, -lo) if isinstance(node.op, ast.USub) else (lo, hi)
        if isinstance(node, ast.BinOp):
            (a, b), (c, e) = walk(node.left, top), walk(node.right, top)
            op = type(node.op)
            if op is ast.Add:
                return norm(a + c), norm(b + e)
            if op is ast.Sub:
                return norm(a - e), norm(b - c)
            if op is ast.Div:
                if c == e == 0:
                    raise ArithmeticError("division by zero")
                if c < 0 < e:
                    raise _SpansZero(f"'{ast.unparse(node.right)}'")
                c, e = norm(1 / e if e else -INF), norm(1 / c if c else INF)
            products = [_mul(x, y) for x in (a, b) for y in (c, e)]
            return norm(min(products)), norm(max(products))
        if isinstance(node, ast.Call):
            fname = node.func.id
            if fname == "quantity":
                c = Fraction(str(node.args[0].value)) * to_base_factor(
                    parse_unit(node.args[1].value))
                return c, c
            args = [walk(a, top) for a in node.args]
            if fname == "days_between":
                (a, b), (c, e) = args
                return norm((c - b) * SECONDS_PER_DAY), norm((e - a) * SECONDS_PER_DAY)
            pick = min if fname == "min" else max
            return pick(lo for lo, _ in args), pick(hi for _, hi in args)
        raise ArithmeticError(f"{_describe(node)} has no interval")  # pragma: no cover

    return walk(trees[did].body, trees[did])


def _capped_sides(d, trees, derived, leaves, leaf_ids, low, high) -> dict[str, str]:
    """Which side of a derived figure's bounds only an input's at_most cap sets: the side
    the formula leaves unbounded once the caps are lifted (deaths a month, if the deaths
    had no cap). Returns side -> the cap's figure id."""
    capped = [lid for lid in leaf_ids if leaves[lid].capped_by]
    if not capped:
        return {}
    free = {**leaves, **{lid: dataclasses.replace(leaves[lid], high=leaves[lid].uncapped_high)
                         for lid in capped}}
    try:
        # interval arithmetic: cheap, and unbounded exactly where the formula can grow
        # without limit once the cap is lifted
        free_low, free_high = _interval_bounds(d.id, trees, derived, free)
    except ArithmeticError:
        return {}
    cap = leaves[capped[0]].capped_by
    out = {}
    if math.isinf(free_high) and not math.isinf(high):
        out["high"] = cap
    if math.isinf(free_low) and not math.isinf(low):
        out["low"] = cap
    return out


def _corner_bounds(d, trees, derived, leaves, leaf_ids):
    choices = [(leaves[i].low, leaves[i].high) for i in leaf_ids]
    values = [_at_corner(d, trees, derived, leaves, leaf_ids, combo, choices)
              for combo in itertools.product(*choices)]
    low, high = min(values), max(values)
    widened = False
    # Monotonicity check on a grid of interior points (finite bounds only).
    grid = []
    for lo, hi in choices:
        pts = [lo, hi]
        if lo != hi and not math.isinf(lo) and not math.isinf(hi):
            pts.insert(1, (lo + hi) / 2)
        grid.append(pts)
    if math.prod(len(g) for g in grid) <= _MAX_GRID and any(len(g) == 3 for g in grid):
        for combo in itertools.product(*grid):
            try:
                v = _make_env(trees, derived, leaves, dict(zip(leaf_ids, combo, strict=True)),
                              d.formula)(d.id)
            except ArithmeticError:
                continue
            if v < low or v > high:
                low, high = min(low, v), max(high, v)
                widened = True
    return low, high, widened


_BIG = Fraction(10) ** 30  # how far towards a corner the limit is approached
_STEP = 10**6  # the second, closer approach, for the extrapolation
_SNAP = 10**12  # largest denominator of a limit snapped to an exact fraction


def _at_corner(d, trees, derived, leaves, leaf_ids, combo, box):
    """The formula at one corner of the box of its inputs' bounds.

    Where the corner itself is undefined (c - h) / c with c unbounded, or a / c with c
    reaching 0, take the limit from inside the box, exactly: evaluate at points that
    approach the corner (an unbounded input at M and M * 10^6, a finite one moved
    inwards by its width / M), extrapolate the two to the corner, and snap the result
    to the nearest simple fraction (the limits of these formulas are). A value that
    grows a million-fold between the two approaches is unbounded."""
    def at(assign):
        return _make_env(trees, derived, leaves, dict(zip(leaf_ids, assign, strict=True)),
                         d.formula)(d.id)

    try:
        return at(combo)
    except ArithmeticError:
        pass

    def approach(m):
        out = []
        for c, (lo, hi) in zip(combo, box, strict=True):
            if isinstance(c, float) and math.isinf(c):
                out.append(m if c > 0 else -m)
            elif isinstance(lo, Fraction) and isinstance(hi, Fraction) and lo != hi:
                out.append(c + (hi - lo) / m if c == lo else c - (hi - lo) / m)
            elif isinstance(hi, float) and c == lo:  # [lo, inf): step inwards by one unit
                out.append(c + Fraction(1) / m * max(abs(c), 1))
            elif isinstance(lo, float) and c == hi:
                out.append(c - Fraction(1) / m * max(abs(c), 1))
            else:
                out.append(c)
        return out

    v1, v2 = at(approach(_BIG)), at(approach(_BIG * _STEP))
    if abs(v2) > _STEP / 1000 * max(abs(v1), 1):
        return math.copysign(INF, v2)
    # v(M) = L + k / M + ...: two approaches cancel the k / M term
    limit = (v2 * _STEP - v1) / (_STEP - 1)
    return Fraction(limit).limit_denominator(_SNAP)


# --- checks -----------------------------------------------------------------------


@dataclass
class CheckResult:
    id: str
    description: str
    expr: str
    holds: bool  # at the stated (point) values
    certain: bool  # holds at every corner of the inputs' bounds


def run_check(figures: Figures, check: Check, *, point_only: bool = False) -> CheckResult:
    """Evaluate a check at the point values and, unless point_only, over every corner of
    the bounds of the stated figures it rests on."""
    source, m = figures.source, figures.model
    try:
        tree = parse_formula(check.expr, allow_compare=True)
        if not isinstance(tree.body, ast.Compare):
            raise FormulaError(check.expr, "a check must compare two things, e.g. a <= b")
        names = _names(tree)
        for name in names:
            if name not in m.dims:
                close = difflib.get_close_matches(name, sorted(m.dims), n=1)
                raise SourceError(source.path, f"the check names an unknown figure '{name}'",
                                  line=check.line, figure=check.id, field="assert",
                                  fix=f"did you mean '{close[0]}'?" if close
                                  else "use ids of figures in this file")
        _dims(tree, m.dims, check.expr)
    except FormulaError as exc:
        raise _in_file(source, check, exc) from None
    key = f"__check_{check.id}__"
    trees, deps = {**m.trees, key: tree}, {**m.deps, key: names}
    leaf_ids = leaves_of(key, deps, m.derived)

    def holds_at(assignment):
        env = _make_env(trees, m.derived, m.leaves, dict(zip(leaf_ids, assignment, strict=True)),
                        check.expr)
        return bool(env(key))

    try:
        holds = holds_at([m.leaves[i].value for i in leaf_ids])
    except ArithmeticError as exc:
        raise SourceError(source.path, f"cannot be evaluated at the stated values: {exc}",
                          line=check.line, figure=check.id, field="assert",
                          fix="check the inputs' values") from None
    certain = holds
    if holds and not point_only:
        for combo in itertools.product(*[(m.leaves[i].low, m.leaves[i].high)
                                         for i in leaf_ids]):
            try:
                ok = holds_at(combo)
            except ArithmeticError:
                ok = False
            if not ok:
                certain = False
                break
    return CheckResult(id=check.id, description=check.description, expr=check.expr,
                       holds=holds, certain=certain)
