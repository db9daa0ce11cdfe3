"""What a title or a catalog name says, by role: model codes, spec numbers with their units, kit or body, colours.

Matching compares two names by these roles rather than by their words alone: a model code must be the same; a
spec number (power, voltage, capacity, energy, size, pack count …) must not *conflict* with the other's number of
the same role, but either may leave it out; a body («тушка», «без АКБ») is never a kit, a white kettle never a
black one. What is left — the descriptive words, canonical (pipelines/vocabulary) — is for the name score.

A name is split into pieces once; each distinct piece (`1500вт`, `gd1850z`, `аккумуляторная`) is read once and
remembered, since names repeat their pieces a lot.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from pipelines.vocabulary import Unit, Vocabulary, stem, words
from storage.codes import normalize_vendor_code

KIT, BODY = "kit", "body"
# Roles whose number a kit has: a title giving one is a kit (a battery's own capacity makes it no body either).
_KIT_ROLES = ("capacity", "batteries")
COUNT = "count"  # a pack's count: a name without one is a single piece
_NUMBER = r"\d+(?:[.,]\d+)?"
# A number, or two (`2×4,0`, `185x30`, `14,4-18`), and what follows it in the same piece (a unit, or a model's rest).
_NUMERIC = re.compile(rf"^({_NUMBER})(?:([xх×*\-–])({_NUMBER}))?(.*)$")
_TITLE_SPLIT = re.compile(r"[\s,;:()\[\]{}«»\"'!?|+*#№<>]+")
# As above, but a decimal comma stays in its number (`2,0`), and a diameter sign (`Ø125`) is no part of one.
_PIECE_SPLIT = re.compile(r"[\s;:()\[\]{}«»\"'!?|+*#№<>øØ⌀]+|,(?!\d)")
_PURE_NUMBER = re.compile(rf"^{_NUMBER}$")
_WORD = re.compile(r"[0-9a-zа-я]+")
_DIGIT = re.compile(r"\d")
_LATIN_LETTERS = re.compile(r"^[a-z]{2,5}$")
_SUFFIX = re.compile(r"^[a-z]{1,3}$")
_TRAILING_LETTERS = re.compile(r"[A-Z]+$")
_TIMES = frozenset("xх×*")
_PREFIX_MAX = 5  # letters a vendor code's prefix may have when written apart (`TL 1001`)
_MODEL_MIN_LENGTH = 5  # a model code shorter than this (H13, IP54, M14) is a feature, never a conflict
_MODEL_MIN_DIGITS = 2
_JOIN_MIN_DIGITS = 3  # `HR 2470`: letters written apart from a number of at least this many digits
_MAX_MULTIPLIER = 10  # `2×4,0 Ач`: two batteries; `185×30 мм`: a size
_SMALL_VOLTAGE = 10  # `2 в комплекте` is no voltage: a number this small before `в` and a word is not read as one
_VOLT = "в"  # also the preposition «в»


@dataclass(frozen=True, slots=True)
class Terms:
    """A name read by role; `words` are what the name score compares (canonical, without numbers and variants)."""

    words: tuple[str, ...]
    models: frozenset[str]  # model codes (normalized: `GSR 18V-50` → GSR18V50)
    numbers: frozenset[str]  # numbers without a unit (`Aurora 12`): part of the name, like a model
    specs: Mapping[str, frozenset[Decimal]]  # role → values, in the role's base unit
    kit: str | None  # KIT, BODY or None (not said)
    colours: frozenset[str]

    def stems(self) -> frozenset[str]:
        """The model codes without a trailing letter suffix (`GD1850RFE` → GD1850): what a title naming the model
        line alone (`GD1850`) has."""
        out = set()
        for code in self.models:
            m = _TRAILING_LETTERS.search(code)
            if m and m.start() and len(_DIGIT.findall(code[: m.start()])) >= _MODEL_MIN_DIGITS:
                out.add(code[: m.start()])
        return frozenset(out)


@dataclass(frozen=True, slots=True)
class Token:
    """One piece of a title between spaces and punctuation: its words and its vendor-code form."""

    words: tuple[str, ...]
    code: str  # normalized (`tl-1001` → TL1001) for a piece that has a digit or is short; else ""
    parts: tuple[str, ...] = ()  # `TL-1001/TL-1002`: each side's code form


_tokens_seen: dict[str, Token] = {}  # titles repeat their pieces a lot: each distinct one is read once
_TOKENS_KEPT = 200_000  # … up to this many, then the memory starts again (a long-lived panel process)


def tokens(title: str) -> list[Token]:
    """The title's pieces as written, for the vendor codes and brands in it."""
    out = []
    for raw in _TITLE_SPLIT.split(title):
        if raw:
            token = _tokens_seen.get(raw)
            if token is None:
                if len(_tokens_seen) >= _TOKENS_KEPT:
                    _tokens_seen.clear()
                token = _tokens_seen[raw] = _token(raw)
            out.append(token)
    return out


def _token(raw: str) -> Token:
    # Only a piece with a digit, or a short one (`TL` of `TL 1001`), can be (part of) a vendor code.
    code = normalize_vendor_code(raw) if len(raw) <= _PREFIX_MAX or _DIGIT.search(raw) else ""
    parts = tuple(normalize_vendor_code(p) for p in raw.split("/")) if code and "/" in raw.strip("/") else ()
    return Token(tuple(words(raw)), code, parts)


@dataclass(frozen=True, slots=True)
class _Piece:
    """One piece of a name: a number (with the unit written onto it), a unit, a model code, or words."""

    numbers: tuple[Decimal, ...] = ()  # `2×4,0` → (2, 4.0); the last is the one a unit measures
    between: str = ""  # what joined two numbers: × (a multiplier or sizes) or - (a range)
    unit: Unit | None = None  # written onto the number (`1500вт`), or the piece is a unit alone (`вт`)
    volt: bool = False  # the unit is «в», which may be the preposition
    model: str = ""
    prefix: str = ""  # a few Latin letters that a model code's number may follow (`HR` of `HR 2470`), normalized
    joins: str = ""  # the rest of a model code after such letters (`2470`, `18V50`), normalized
    suffix: str = ""  # one to three Latin capitals, no word of the vocabulary: a model's suffix (`DRE`, `F`)
    stems: tuple[str, ...] = ()  # its words, stemmed (a short code such as H13 or IP54 is a word)
    colours: tuple[str, ...] = ()
    text: str = ""
    is_number: bool = False
    bare: str = ""  # a number alone (`12` of `Aurora 12`), as numbers are compared
    plain: bool = False  # words only, and no model code's letters: read on its own


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None


def spec_text(role: str, value: Decimal) -> str:
    """A spec value as reasons show it: `capacity 4`."""
    return f"{role} {value:f}"


def _spec_values(piece: _Piece, unit: Unit) -> tuple[tuple[str, Decimal], ...]:
    """A number with its unit by role; `2×4,0 Ач` is two batteries, `185×30 мм` two sizes, `14,4-18 В` both ends."""
    values = [(unit.role, (piece.numbers[-1] * unit.factor).normalize())]
    if len(piece.numbers) == 2:
        first = piece.numbers[0]
        if piece.between in _TIMES and unit.role == "capacity" and first <= _MAX_MULTIPLIER:
            values.append(("batteries", first.normalize()))
        else:
            values.append((unit.role, (first * unit.factor).normalize()))
    return tuple(values)


class _Reading:
    """What one name's pieces add up to, collected piece by piece."""

    def __init__(self, known_specs: dict[tuple[str, int], tuple[tuple[str, Decimal], ...]]) -> None:
        self.specs: dict[str, set[Decimal]] = {}
        self.models: set[str] = set()
        self.numbers: set[str] = set()
        self.stems: list[str] = []
        self.colours: set[str] = set()
        self._known = known_specs  # (number piece, unit) → its values: names repeat their specs a lot

    def spec(self, piece: _Piece, unit: Unit) -> None:
        key = (piece.text, id(unit))
        found = self._known.get(key)
        if found is None:
            found = self._known[key] = _spec_values(piece, unit)
        for role, value in found:
            self.specs.setdefault(role, set()).add(value)

    def other(self, piece: _Piece) -> None:
        if piece.model:
            self.models.add(piece.model)
        elif piece.bare:
            self.numbers.add(piece.bare)
        self.stems.extend(piece.stems)
        if piece.colours:
            self.colours.update(piece.colours)


class TermReader:
    """Reads names with one vocabulary."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self._pieces: dict[str, _Piece] = {}
        self._specs: dict[tuple[str, int], tuple[tuple[str, Decimal], ...]] = {}
        self._phrase_starts: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for phrases, kind in ((vocabulary.body, BODY), (vocabulary.kit, KIT)):
            for phrase in phrases:
                self._phrase_starts.setdefault(phrase[0], []).append((phrase, kind))

    @staticmethod
    def pieces(text: str) -> list[str]:
        """A name's pieces as they are read (in their case: a model suffix is written in capitals)."""
        return [t for t in _PIECE_SPLIT.split(text.replace("ё", "е").replace("Ё", "Е")) if t]

    def read(self, text: str) -> Terms:
        return self.read_pieces(self.pieces(text))

    def read_pieces(self, texts: list[str]) -> Terms:
        """`read` of a name already split by `pieces`."""
        known = self._pieces.get
        reading = self._walk([known(t) or self._piece(t) for t in texts])
        canonical = self.vocabulary.canonical(reading.stems)
        kit, variant_at = self._kit(canonical)
        if kit is None and any(role in reading.specs for role in _KIT_ROLES):
            kit = KIT
        noise = self.vocabulary.noise
        if variant_at:
            kept = tuple(w for i, w in enumerate(canonical) if i not in variant_at and w not in noise and len(w) > 1)
        else:
            kept = tuple(w for w in canonical if w not in noise and len(w) > 1)
        return Terms(
            words=kept,
            models=frozenset(reading.models),
            numbers=frozenset(reading.numbers),
            specs={role: frozenset(values) for role, values in reading.specs.items()},
            kit=kit,
            colours=frozenset(reading.colours),
        )

    def _walk(self, pieces: list[_Piece]) -> _Reading:
        """The pieces read in order: words on their own, numbers with their units, model codes written apart."""
        reading = _Reading(self._specs)
        i, n = 0, len(pieces)
        while i < n:
            piece = pieces[i]
            if piece.plain:
                reading.stems.extend(piece.stems)
                if piece.colours:
                    reading.colours.update(piece.colours)
                i += 1
            else:
                i = self._number_step(pieces, i, reading) or self._model_step(pieces, i, reading)
        return reading

    @staticmethod
    def _number_step(pieces: list[_Piece], i: int, reading: _Reading) -> int:
        """A number at `i` with its unit (written onto it or apart): the index after it; 0 when it is none."""
        piece = pieces[i]
        if not piece.is_number:
            return 0
        following = pieces[i + 1] if i + 1 < len(pieces) else None
        after = pieces[i + 2] if i + 2 < len(pieces) else None
        times = following is not None and following.text in _TIMES
        if times and after is not None and after.is_number and len(piece.numbers) == 1:
            # `2 x 4,0 Ач`, written apart: one piece of two numbers, read on from there.
            numbers = (piece.numbers[0], after.numbers[-1])
            pieces[i + 2] = _Piece(numbers, "x", after.unit, text=f"{piece.text}x{after.text}", is_number=True)
            return i + 2
        if piece.unit is None and following is not None and _unit_after(piece, following, after):
            reading.spec(piece, following.unit)  # type: ignore[arg-type]
            return i + 2
        if piece.unit is not None:
            reading.spec(piece, piece.unit)
            return i + 1
        return 0

    @staticmethod
    def _model_step(pieces: list[_Piece], i: int, reading: _Reading) -> int:
        """A model code at `i` (letters and a number written apart, a suffix apart): the index after it; else the
        piece read as a word, a bare number or a code on its own, and the index after it."""
        piece = pieces[i]
        following = pieces[i + 1] if i + 1 < len(pieces) else None
        after = pieces[i + 2] if i + 2 < len(pieces) else None
        if piece.prefix and following is not None and following.joins and not _unit_after(following, after, None):
            # `HR 2470`, `GSR 18V-50`; a short letter suffix written apart is the model's too (`VBH 2-26 DRE`).
            if after is not None and after.suffix:
                reading.models.add(piece.prefix + following.joins + after.suffix)
                return i + 3
            reading.models.add(piece.prefix + following.joins)
            return i + 2
        if piece.model and following is not None and following.suffix:
            reading.models.add(piece.model + following.suffix)  # `VBH2-26 DRE`
            return i + 2
        reading.other(piece)
        return i + 1

    def _piece(self, text: str) -> _Piece:
        known = self._pieces.get(text)
        if known is None:
            known = self._pieces[text] = self._read_piece(text)
        return known

    def _read_piece(self, written: str) -> _Piece:
        """What one piece is: a unit, a number (with a unit written onto it), a model code, or words."""
        text = written.casefold()
        prefix = normalize_vendor_code(text) if _LATIN_LETTERS.match(text) else ""
        joins = normalize_vendor_code(text) if _joins(text) else ""
        units = self.vocabulary.units
        if (unit := units.get(text) or units.get(text.rstrip("."))) is not None:
            # Its words still count where no number stands before it («Аккумулятор Gromax», «без АКБ»).
            said = tuple(stem(w) for w in _WORD.findall(text))
            return _Piece(unit=unit, volt=text.rstrip(".") == _VOLT, prefix=prefix, stems=said, text=text)
        if (number := self._number_piece(text, joins)) is not None:
            return number
        if _DIGIT.search(text) is not None:
            code = normalize_vendor_code(text)
            if len(code) >= _MODEL_MIN_LENGTH and len(_DIGIT.findall(code)) >= _MODEL_MIN_DIGITS:
                return _Piece(model=code, joins=joins, text=text)
        return self._word_piece(written, text, prefix, joins)

    def _number_piece(self, text: str, joins: str) -> _Piece | None:
        """`1500`, `2,0`, `2×4,0`, `14,4-18`, with a unit written onto them (`1500вт`); None for anything else."""
        m = _NUMERIC.match(text)
        if m is None:
            return None
        first, between, second, rest = m.groups()
        units = self.vocabulary.units
        unit = (units.get(rest) or units.get(rest.rstrip("."))) if rest else None
        if rest and unit is None:
            return None
        numbers = tuple(n for n in (_decimal(first), _decimal(second) if second else None) if n is not None)
        bare = f"{numbers[0].normalize():f}" if len(numbers) == 1 and unit is None else ""
        return _Piece(
            numbers=numbers, between=between or "", unit=unit, joins=joins, text=text, is_number=True, bare=bare
        )

    def _word_piece(self, written: str, text: str, prefix: str, joins: str) -> _Piece:
        """Words (and short codes such as H13); a model suffix when written in capitals (`DRE`), a colour."""
        colours = self.vocabulary.colours
        found = _WORD.findall(text)
        is_suffix = _SUFFIX.match(text) is not None and written.isupper() and not self._is_word(text)
        return _Piece(
            prefix=prefix,
            joins=joins,
            suffix=normalize_vendor_code(text) if is_suffix else "",
            stems=tuple(stem(w) for w in found if w not in colours),
            colours=tuple(colours[w] for w in found if w in colours),
            text=text,
            plain=not prefix,
        )

    def _is_word(self, text: str) -> bool:
        """A word the vocabulary knows (`pro`, `kit`, `set`): no model suffix."""
        vocabulary = self.vocabulary
        return (
            text in vocabulary.phrases
            or text in vocabulary.noise
            or text in vocabulary.colours
            or text in self._phrase_starts
        )

    def _kit(self, canonical: list[str]) -> tuple[str | None, set[int]]:
        """Body or kit as a phrase says it (body wins: «без АКБ» in a kit's list of what is not included is rare),
        and the positions of the phrases' words (left out of the name score)."""
        found: set[str] = set()
        at: set[int] = set()
        if self._phrase_starts.keys().isdisjoint(canonical):
            return None, at
        for i, word in enumerate(canonical):
            for phrase, kind in self._phrase_starts.get(word, ()):
                if tuple(canonical[i : i + len(phrase)]) == phrase:
                    found.add(kind)
                    at.update(range(i, i + len(phrase)))
        kit = BODY if BODY in found else KIT if KIT in found else None
        return kit, at


def _unit_after(number: _Piece, unit: _Piece | None, after: _Piece | None) -> bool:
    """`unit` is the unit of `number` written apart (`1500 Вт`); «в» of «3 в 1» and «2 в комплекте» is not."""
    if not number.is_number or unit is None or unit.unit is None or unit.is_number:
        return number.is_number and number.unit is not None
    return not (unit.volt and _preposition(number, after))


def _preposition(number: _Piece, after: _Piece | None) -> bool:
    """«в» after a number is the preposition in «3 в 1» and «2 в комплекте», not volts."""
    if after is None:
        return False
    if after.is_number:
        return after.numbers == (1,) and after.unit is None
    return bool(after.stems) and number.numbers[-1] < _SMALL_VOLTAGE


def _joins(token: str) -> bool:
    """A token that, after a few Latin letters, is the rest of one model code: `HR 2470`, `GSR 18V-50`."""
    if not token[:1].isdigit():
        return False
    digits = len(_DIGIT.findall(token))
    return digits >= _JOIN_MIN_DIGITS or (digits >= _MODEL_MIN_DIGITS and _PURE_NUMBER.match(token) is None)
