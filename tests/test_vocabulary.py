"""Units and qualifier words are data: one file read by the registry, loader and extractor."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from analysis.errors import VocabularyError
from analysis.figures import vocabulary
from analysis.figures.vocabulary import load_vocabulary

ROOT = Path(__file__).resolve().parents[1]

# In a fresh interpreter: point the package at a vocabulary file, then load a source
# file and extract from an article with the words that file holds.
PROBE = """
import json, sys
from pathlib import Path
import analysis.figures.vocabulary as vocabulary
vocabulary.PATH = Path(sys.argv[1])
from analysis.errors import AnalysisError
from analysis.figures.derive import evaluate
from analysis.figures.source import parse_source
from analysis.intake.extract import extract
text = '''source:
  id: t
  title: T
figures:
  - id: burned
    value: 40
    unit: sq klicks
    qualifier: north of
    description: x
    attributed_to: y
'''
try:
    result = evaluate(parse_source(text, "t.yaml"))["burned"]
    loaded = [result.unit, result.qualifier, float(result.low), float(result.high)]
except AnalysisError as exc:
    loaded = str(exc)
article = "It burned north of 40 sq klicks."
found = [(f.unit, f.qualifier, float(f.value)) for f in extract(article)]
print(json.dumps({"loaded": loaded, "found": found}))
"""


def _probe(path: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True,
                         text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout)


def test_adding_a_spelling_and_a_qualifier_word_needs_no_python(tmp_path):
    text = vocabulary.PATH.read_text(encoding="utf-8")
    # one new spelling for km² in source files and in articles, one new "lower" word
    text = text.replace("    spellings: [km², ", "    spellings: [sq klicks, km², ", 1)
    text = text.replace("    in_articles: [square kilometer, ",
                        "    in_articles: [sq klicks, square kilometer, ", 1)
    text = text.replace("  lower: [over, ", "  lower: [north of, over, ", 1)
    copy = tmp_path / "vocabulary.yaml"
    copy.write_text(text, encoding="utf-8")

    before = _probe(vocabulary.PATH)
    assert "unknown unit 'sq klicks'" in before["loaded"]
    assert before["found"] == [["dimensionless", None, 40.0]]  # a bare number, no qualifier

    after = _probe(copy)
    # "over" family: bounds [40, no upper bound] (docs/data-format.md, qualifier policy)
    assert after["loaded"] == ["km²", "north of", 40.0, float("inf")]
    assert after["found"] == [["km²", "north of", 40.0]]


def test_the_package_ships_the_vocabulary_file():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "figures/vocabulary.yaml" in pyproject["tool"]["setuptools"]["package-data"]["analysis"]
    assert vocabulary.PATH.parent == Path(vocabulary.__file__).parent


@pytest.mark.parametrize("change, message", [
    (("    spellings: [mi², ", "    spellings: [km2, mi², "),
     "spellings: 'km2' is listed under both 'km²' and 'mi²'. Keep it under one."),
    (('spellings: [dimensionless, "1", ratio]', "spellings: [dimensionless, 1, ratio]"),
     "unit 'dimensionless', spellings: expected a list of words."),
    (("  nearly: [", "  roughly: ["), "qualifiers: expected a mapping of family: words."),
    (("    pint: mile ** 2\n", ""), "unit 'mi²': expected a mapping with a pint expression."),
])
def test_a_mistake_in_the_vocabulary_names_the_file_and_the_entry(tmp_path, change, message):
    copy = tmp_path / "vocabulary.yaml"
    text = vocabulary.PATH.read_text(encoding="utf-8")
    assert change[0] in text
    copy.write_text(text.replace(*change, 1), encoding="utf-8")
    with pytest.raises(VocabularyError) as err:
        load_vocabulary(copy)
    assert str(err.value).startswith(f"{copy}: ") and message in str(err.value)


def test_spellings_are_looked_up_in_any_case_and_spacing():
    v = load_vocabulary()
    assert v.aliases["square kilometres"] == "km²" and v.article_spellings["us dollars"] == "USD"
    assert v.qualifiers["reportedly around"] == "approx"
