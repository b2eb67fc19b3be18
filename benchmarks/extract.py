"""Precision and recall of `analysis.intake.extract` on the test sets, and its time per article.

Counts (value, unit, qualifier) items: every figure in the *.expected.yaml files and every
conversion printed beside one; a range counts as ((low, high), unit, qualifier), a date as
(its day or range, "date", None), a relative date left for review as (its words, "date",
None). The two sets are scored separately: tests/articles/ (written with the extractor) and
tests/articles_new/ (written for issue 10 before the extractor was changed to read them).
For comparison it measures quantulum3 on the same articles, alone and as a fill-in pass
after ours (docs/intake.md reports the numbers and the choice).

    .venv/bin/python benchmarks/extract.py [--no-quantulum3] [--verbose]
"""

from __future__ import annotations

import sys
import time
import warnings
from collections import Counter
from fractions import Fraction
from pathlib import Path

import yaml

from analysis.intake.article import read_article
from analysis.intake.extract import Found, extract

TESTS = Path(__file__).resolve().parent.parent / "tests"
SETS = {"first set (tests/articles)": TESTS / "articles",
        "new set (tests/articles_new)": TESTS / "articles_new"}
TARGET = 0.95  # precision and recall the intake issues ask for
TIME_LIMIT = 0.005  # seconds of CPU per article on average (issue 10)

# quantulum3's unit names -> our canonical units; anything else it finds is left out.
QUANTULUM_UNITS = {"square kilometre": "km²", "square mile": "mi²", "hectare": "ha",
                   "kilometre": "km", "mile": "mi", "metre": "m", "dollar": "USD",
                   "united states dollar": "USD", "euro": "EUR", "pound sterling": "GBP",
                   "percentage": "percent", "year": "year", "month": "month", "week": "week",
                   "day": "day", "dimensionless": "dimensionless"}


def _key(record: dict) -> tuple:
    if record.get("kind") == "date":
        if record.get("value"):
            when = record["value"]
        elif record.get("low"):
            when = (record["low"], record["high"])
        else:
            when = record.get("weekday") or record.get("relative")
        return (str(when), "date", None)
    if record.get("value") is None:  # a range of quantities
        what = (Fraction(str(record["low"])), Fraction(str(record["high"])))
        return (what, record["unit"], record.get("qualifier"))
    return (Fraction(str(record["value"])), record["unit"], record.get("qualifier"))


def items(records: list[dict]) -> Counter:
    """The (value, unit, qualifier) items of a list of figure records, printed ones too."""
    out: Counter = Counter()
    for r in records:
        out[_key(r)] += 1
        for p in r.get("printed", []):
            out[("printed", *_key(p))] += 1
    return out


def expected(article: Path) -> Counter:
    path = article.with_name(article.stem + ".expected.yaml")
    return items(yaml.safe_load(path.read_text("utf-8"))["figures"])


def _quantulum3_records(text: str, skip: list[tuple[int, int]] = ()) -> list[dict]:
    from quantulum3 import parser

    out = []
    for q in parser.parse(text):
        unit = QUANTULUM_UNITS.get(q.unit.name)
        if unit is None or any(s < q.span[1] and q.span[0] < e for s, e in skip):
            continue
        if skip and unit == "dimensionless":
            continue  # as a fill-in, a bare number is noise
        out.append({"value": Fraction(str(q.value)), "unit": unit})
    return out


def _articles(folder: Path) -> list[Path]:
    """The articles of a set: each text, Markdown or HTML file with an expected file."""
    return sorted(p for p in folder.iterdir() if p.suffix in (".txt", ".md", ".html")
                  and p.with_name(p.stem + ".expected.yaml").exists())


def score(name: str, run, folder: Path) -> tuple[float, float, float]:
    tp = fp = fn = 0
    slowest = total = cpu = 0.0
    articles = _articles(folder)
    misses: list[str] = []
    for article in articles:
        text = read_article(article)
        start, start_cpu = time.perf_counter(), time.process_time()
        got = items(run(text))
        took = time.perf_counter() - start
        cpu += time.process_time() - start_cpu
        total += took
        slowest = max(slowest, took)
        want = expected(article)
        tp += sum((got & want).values())
        fp += sum((got - want).values())
        fn += sum((want - got).values())
        misses += [f"  {article.name}: wrong {k}" for k in (got - want).elements()]
        misses += [f"  {article.name}: missed {k}" for k in (want - got).elements()]
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    print(f"{name:<28} precision {precision:.3f}  recall {recall:.3f}  "
          f"({tp} right, {fp} wrong, {fn} missed over {len(articles)} articles)  "
          f"per article {cpu / len(articles) * 1000:.2f} ms of CPU, "
          f"{total / len(articles) * 1000:.2f} ms of wall time (slowest {slowest * 1000:.1f} ms)")
    if VERBOSE and run is ours:
        print("\n".join(misses))
    return precision, recall, cpu / len(articles)


def ours(text: str) -> list[dict]:
    return [f.record() for f in extract(text)]


def ours_then_quantulum3(text: str) -> list[dict]:
    found: list[Found] = extract(text)
    return [f.record() for f in found] + _quantulum3_records(text, [f.span for f in found])


VERBOSE = False


def main(argv: list[str]) -> int:
    global VERBOSE
    VERBOSE = "--verbose" in argv
    ok = True
    for label, folder in SETS.items():
        print(label)
        read = [read_article(p) for p in _articles(folder)]
        for text in read:  # warm up: compile the patterns, fill caches
            ours(text)
        precision, recall, mean = score("analysis.intake.extract", ours, folder)
        for text in read:  # and timed alone, many times over, for a steadier figure
            ours(text)
        start = time.process_time()
        for _ in range(20):
            for text in read:
                ours(text)
        mean = (time.process_time() - start) / (20 * len(read))
        print(f"{'':<28} {mean * 1000:.2f} ms of CPU an article over 20 passes")
        ok &= precision >= TARGET and recall >= TARGET and mean < TIME_LIMIT
    if "--no-quantulum3" not in argv:
        warnings.filterwarnings("ignore", module="quantulum3")
        start = time.perf_counter()
        from quantulum3 import parser

        parser.parse("warm up 1 km")  # it loads its unit tables on the first call
        print(f"{'(quantulum3 first call':<28} {time.perf_counter() - start:.2f} s, not counted "
              "below)")
        for label, folder in SETS.items():
            print(label)
            score("quantulum3 alone", _quantulum3_records, folder)
            score("ours + quantulum3 fill-in", ours_then_quantulum3, folder)
    print(f"target: precision and recall >= {TARGET} on each set, under "
          f"{TIME_LIMIT * 1000:g} ms of CPU an article: {'met' if ok else 'NOT met'}")
    print("(CPU time, not wall time: on a shared 2-core machine the wall time mostly measures "
          "the neighbours)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
