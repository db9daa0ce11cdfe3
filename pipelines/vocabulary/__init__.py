"""The words shops write offer titles with, per language (ru.yaml, en.yaml) and extended per catalog in the config.

`Vocabulary` reads words the way matching compares them: lower case, ё as е, Russian endings dropped (`stem`), each
synonym, abbreviation or phrase as the one word it stands for (`canonical`). It also knows the phrases that make
a power tool a body («тушка», «без АКБ») or a kit, colours, noise words, units by what they measure, and brands
(Cyrillic spellings, and other brands than the catalog's).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from crawler.config import MatchingVocabulary

HERE = Path(__file__).resolve().parent
_WORD = re.compile(r"[0-9a-zа-я]+")
_CYRILLIC = re.compile(r"^[а-я]+$")
# Russian inflection endings, longest first: stripped so that one form of a word is every form of it.
_ENDINGS = tuple(
    sorted(
        (
            "иями",
            "ями",
            "ами",
            "ого",
            "его",
            "ому",
            "ему",
            "ыми",
            "ими",
            "иях",
            "ях",
            "ах",
            "ам",
            "ям",
            "ая",
            "яя",
            "ое",
            "ее",
            "ые",
            "ие",
            "ый",
            "ий",
            "ой",
            "ей",
            "ую",
            "юю",
            "ых",
            "их",
            "ым",
            "им",
            "ом",
            "ем",
            "ов",
            "ев",
            "ии",
            "ия",
            "ие",
            "ью",
            "ья",
            "ье",
            "а",
            "я",
            "ы",
            "и",
            "у",
            "ю",
            "е",
            "о",
            "ь",
        ),
        key=len,
        reverse=True,
    )
)
_STEM_MIN = 3  # letters a stem keeps
_ADJECTIVE_ENDINGS = ("ый", "ий", "ой", "ая", "яя", "ое", "ее", "ые", "ие", "ого", "его", "ую", "юю", "ым", "им", "ом")
_TRANSLIT = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ж": "zh", "з": "z", "и": "i", "й": "i",
        "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u",
        "ф": "f", "х": "h", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sch", "ъ": "", "ы": "i", "ь": "", "э": "e",
        "ю": "yu", "я": "ya",
    }
)  # fmt: skip
_SOUNDS = (("ph", "f"), ("ck", "k"), ("x", "ks"), ("w", "v"), ("q", "k"), ("c", "k"), ("y", "i"), ("j", "i"))
_DOUBLE = re.compile(r"(.)\1+")


def words(text: str) -> list[str]:
    """Lower-case letter/digit words; ё is е."""
    return _WORD.findall(text.casefold().replace("ё", "е"))


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A Russian word without its inflection ending (`дрели` → `дрел`); other words as they are."""
    if len(word) <= _STEM_MIN or not _CYRILLIC.match(word):
        return word
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= _STEM_MIN:
            return word[: -len(ending)]
    return word


@functools.lru_cache(maxsize=65536)
def sound(word: str) -> str:
    """How a brand name sounds, the same for its Latin and Cyrillic spellings: `Громакс` and `Gromax` → `gromaks`."""
    latin = word.casefold().replace("ё", "е").translate(_TRANSLIT)
    for written, said in _SOUNDS:
        latin = latin.replace(written, said)
    return _DOUBLE.sub(r"\1", latin)


_Phrases = Mapping[str, tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]]


@dataclass(frozen=True)
class Unit:
    role: str  # what the number measures: power, voltage, capacity, …
    factor: Decimal  # to the role's base unit (кВт → Вт: 1000)


@dataclass(frozen=True)
class Vocabulary:
    """Everything matching knows of how titles are written, merged over the languages and the config."""

    phrases: _Phrases  # first stem → (form, canonical), longest form first
    body: frozenset[tuple[str, ...]]  # canonical phrases
    kit: frozenset[tuple[str, ...]]
    noise: frozenset[str]  # canonical words
    colours: Mapping[str, str]  # a word as written → its colour
    units: Mapping[str, Unit]  # a unit as written (lower case) → what it measures
    brands: Mapping[str, str]  # a Cyrillic (or other) spelling → the brand's word
    other_brands: frozenset[tuple[str, ...]]

    def canonical(self, stems: Sequence[str]) -> list[str]:
        """The stems of a title with each synonym, abbreviation or phrase replaced by the word it stands for."""
        return _canonical(self.phrases, stems)

    def read(self, text: str) -> list[str]:
        """A phrase as matching compares it: its words stemmed and canonical."""
        return _canonical(self.phrases, [stem(w) for w in words(text)])


def _canonical(phrases: _Phrases, stems: Sequence[str]) -> list[str]:
    out: list[str] = []
    i, n = 0, len(stems)
    while i < n:
        for form, target in phrases.get(stems[i], ()):
            if tuple(stems[i : i + len(form)]) == form:
                out.extend(target)
                i += len(form)
                break
        else:
            out.append(stems[i])
            i += 1
    return out


def _load_language(language: str) -> dict[str, Any]:
    data = yaml.safe_load((HERE / f"{language}.yaml").read_text(encoding="utf-8")) or {}
    return {key: value for key, value in data.items() if value}


@functools.lru_cache(maxsize=4)
def _languages(languages: tuple[str, ...]) -> tuple[dict[str, Any], ...]:
    """The language files, read once per process."""
    return tuple(_load_language(language) for language in languages)


def _colour_forms(colour: str, entries: Iterable[str]) -> dict[str, str]:
    """Every written form of a colour: a Cyrillic entry is an adjective stem, a Latin one a whole word."""
    forms = {"".join(words(colour)): colour}
    for entry in entries:
        key = " ".join(words(entry))
        if _CYRILLIC.match(key):
            forms.update({key + ending: colour for ending in _ADJECTIVE_ENDINGS})
        elif key:
            forms[key] = colour
    return forms


class _Builder:
    """Collects the sections of the language files and the config's extension into one Vocabulary."""

    def __init__(self) -> None:
        self.forms: dict[tuple[str, ...], tuple[str, ...]] = {}
        self.body: list[str] = []
        self.kit: list[str] = []
        self.noise: list[str] = []
        self.colours: dict[str, str] = {}
        self.units: dict[str, Unit] = {}
        self.brands: dict[str, str] = {}
        self.other_brands: list[str] = []

    @staticmethod
    def _stems(text: str) -> tuple[str, ...]:
        return tuple(stem(w) for w in words(text))

    def add(self, section: Mapping[str, Any]) -> None:
        """One language file's sections, or the config's extension, over what is there."""
        for canonical, forms in (section.get("synonyms") or {}).items():
            target = self._stems(canonical)
            for form in [canonical, *forms]:
                if key := self._stems(form):
                    self.forms[key] = target
        self.body += section.get("body_words") or []
        self.kit += section.get("kit_words") or []
        self.noise += section.get("noise_words") or []
        self.other_brands += section.get("other_brands") or []
        for colour, entries in (section.get("colours") or {}).items():
            self.colours.update(_colour_forms(colour, entries))
        for spelling, (role, factor) in (section.get("units") or {}).items():
            self.units[str(spelling).casefold()] = Unit(str(role), Decimal(str(factor)))
        self._add_brands(section.get("brands") or {})

    def _add_brands(self, brands: Mapping[str, Iterable[str]]) -> None:
        """A brand's other spellings (one word each) → its first word."""
        for brand, spellings in brands.items():
            brand_words = words(brand)
            for spelling in spellings:
                if len(found := words(spelling)) == 1 and brand_words:
                    self.brands[found[0]] = brand_words[0]

    def build(self) -> Vocabulary:
        grouped: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {}
        for form, target in self.forms.items():
            grouped.setdefault(form[0], []).append((form, target))
        phrases = {first: tuple(sorted(items, key=lambda item: -len(item[0]))) for first, items in grouped.items()}

        def canon(items: Iterable[str]) -> frozenset[tuple[str, ...]]:
            return frozenset(tuple(_canonical(phrases, [stem(w) for w in words(item)])) for item in items) - {()}

        return Vocabulary(
            phrases=phrases,
            body=canon(self.body),
            kit=canon(self.kit),
            noise=frozenset(w for phrase in canon(self.noise) for w in phrase),
            colours=dict(self.colours),
            units=dict(self.units),
            brands=dict(self.brands),
            other_brands=frozenset(tuple(words(b)) for b in self.other_brands) - {()},
        )


def load_vocabulary(extension: MatchingVocabulary | None = None) -> Vocabulary:
    """The vocabulary of the configured languages (files read once per process) with the config's extension."""
    extension = extension or MatchingVocabulary()
    builder = _Builder()
    for section in _languages(tuple(extension.languages)):
        builder.add(section)
    builder.add(extension.model_dump(exclude={"languages"}))
    return builder.build()
