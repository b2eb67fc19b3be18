"""The words the figures engine knows, read from `vocabulary.yaml` beside this module.

Units (their pint definitions and every spelling a source file or an article uses)
and qualifier words (with the family of bounds each implies) are data, so adding a
spelling needs no Python. The unit registry (`units`), the qualifier policy
(`bounds`), the source loader and the extractor all read this one file. No pint
here: the CLI reads the qualifier words without loading the registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from analysis.errors import VocabularyError

PATH = Path(__file__).with_name("vocabulary.yaml")
#: the bounds a qualifier can imply (figures.bounds.bounds_for)
FAMILIES = ("exact", "approx", "lower", "nearly", "upper")


def normalise(text: str) -> str:
    """Lower-case and single-spaced: how a spelling or a qualifier word is looked up."""
    return " ".join(str(text).split()).lower()


@dataclass(frozen=True)
class Unit:
    name: str  # canonical, as reports show it
    pint: str  # its expression in pint's definition language
    spellings: tuple[str, ...]  # in a source file's `unit:`
    in_articles: tuple[str, ...]  # what the extractor looks for after a number


@dataclass(frozen=True)
class Vocabulary:
    path: str
    definitions: tuple[str, ...]
    units: dict[str, Unit]
    qualifiers: dict[str, str]  # word as printed (normalised) -> family

    @property
    def aliases(self) -> dict[str, str]:
        """Spelling in a source file (normalised) -> canonical unit."""
        return {normalise(s): u.name for u in self.units.values() for s in u.spellings}

    @property
    def article_spellings(self) -> dict[str, str]:
        """Spelling in an article (normalised) -> canonical unit."""
        return {normalise(s): u.name for u in self.units.values() for s in u.in_articles}


@cache
def load_vocabulary(path: str | Path | None = None) -> Vocabulary:
    """Read and check a vocabulary file (by default the package's own), once."""
    import yaml  # here, not at the top: the CLI imports this module and must start fast

    path = Path(path) if path is not None else PATH
    shown = str(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise VocabularyError(shown, f"cannot be read: {exc}") from None
    if not isinstance(doc, dict) or set(doc) != {"definitions", "units", "qualifiers"}:
        raise VocabularyError(shown, "expected exactly the sections definitions, units and "
                              "qualifiers")
    definitions = _words(shown, doc["definitions"], "definitions")
    if not isinstance(doc["units"], dict) or not doc["units"]:
        raise VocabularyError(shown, "units: expected a mapping of unit name: fields")
    units = {}
    for name, fields in doc["units"].items():
        where = f"unit '{name}'"
        if not isinstance(fields, dict) or not isinstance(fields.get("pint"), str):
            raise VocabularyError(shown, f"{where}: expected a mapping with a pint expression",
                                  "write pint: and the unit in pint's definition language")
        unknown = set(fields) - {"pint", "spellings", "in_articles"}
        if unknown:
            raise VocabularyError(shown, f"{where}: unknown field {sorted(unknown)[0]!r}",
                                  "use pint, spellings and in_articles")
        units[str(name)] = Unit(str(name), fields["pint"],
                                _words(shown, fields.get("spellings", []), f"{where}, spellings"),
                                _words(shown, fields.get("in_articles", []),
                                       f"{where}, in_articles"))
    qualifiers = doc["qualifiers"]
    if not isinstance(qualifiers, dict) or not set(qualifiers) <= set(FAMILIES):
        raise VocabularyError(shown, "qualifiers: expected a mapping of family: words",
                              f"use the families {', '.join(FAMILIES)}")
    vocabulary = Vocabulary(
        shown, definitions, units,
        {normalise(w): family for family, words in qualifiers.items()
         for w in _words(shown, words, f"qualifiers, {family}")})
    _no_word_twice(shown, [(normalise(s), u.name) for u in units.values() for s in u.spellings],
                   "spellings")
    _no_word_twice(shown, [(normalise(s), u.name) for u in units.values()
                           for s in u.in_articles], "in_articles")
    _no_word_twice(shown, [(normalise(w), f) for f, ws in qualifiers.items() for w in ws],
                   "qualifiers")
    return vocabulary


def _words(shown: str, value, where: str) -> tuple[str, ...]:
    # A YAML number or yes/no would silently become a different spelling: require text.
    if not isinstance(value, list) or not all(isinstance(w, str) and w.strip() for w in value):
        raise VocabularyError(shown, f"{where}: expected a list of words",
                              "quote a word YAML would read as a number or yes/no, e.g. \"1\"")
    return tuple(value)


def _no_word_twice(shown: str, pairs: list[tuple[str, str]], what: str) -> None:
    seen: dict[str, str] = {}
    for word, owner in pairs:
        if seen.setdefault(word, owner) != owner:
            raise VocabularyError(shown, f"{what}: '{word}' is listed under both "
                                  f"'{seen[word]}' and '{owner}'", "keep it under one")
