"""Which catalog product an offer is: a person's decision, GTIN, vendor code, a code in the title, or the name.

Pure (no Scrapy, no SQL): a `CatalogIndex` is built once from storage rows and matches offers in memory.
Every step is a lookup in a dictionary keyed by codes or by name tokens within the brand (blocking), never a
comparison against every product. An offer that is not clearly one product stays unmatched: accessories
("Фильтр для TL-3001"), other brands and near-ties between two products are never forced onto the catalog.
"""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from rapidfuzz import fuzz

from crawler.config import Config
from storage.codes import normalize_gtin, normalize_vendor_code, strip_affixes
from storage.models import MatchMethod
from storage.queries.matching import CatalogProduct

CONFIDENCE_EXACT = 1.0  # a person, a GTIN or the vendor code field
CONFIDENCE_AFFIX = 0.99  # the vendor code once the distributor's prefix/suffix is removed
CONFIDENCE_TITLE_CODE = 0.95  # our vendor code as a word of a title that names the brand
CONFIDENCE_TITLE_CODE_NO_BRAND = 0.85  # ... of a title that does not name the brand: matched, but for review
_WORD = re.compile(r"[0-9a-zа-я]+")
_TOKEN_SPLIT = re.compile(r"[\s,;:()\[\]{}«»\"'!?|+*#№<>]+")
_LETTERS = re.compile(r"^[A-Z]+")
_DIGIT = re.compile(r"\d")
_PREFIX_MAX = 5  # letters a vendor code's prefix may have when written apart (`TL 1001`)
# Blocking for the fuzzy step: the title's rarest catalog words (each in at most this share of the catalog)
# select the products that share them; the best by shared words (rarer words weigh more) are scored.
_BLOCK_SHARE, _BLOCK_MIN = 0.10, 50
_BLOCK_WORDS = 3
_BLOCK_POOL = 1000  # a further (commoner) word is added only while the products it brings stay under this
_BLOCK_CANDIDATES = 12
# A catalog word this rare names a product line: a title with one its candidate lacks is another product.
_DISTINCT_SHARE = 0.05


class Matchable(Protocol):
    """What matching reads from an offer (a RawOffer fits)."""

    @property
    def distributor(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def title(self) -> str | None: ...
    @property
    def vendor_code(self) -> str | None: ...
    @property
    def gtin(self) -> str | None: ...


@dataclass(frozen=True)
class Candidate:
    product_id: int
    vendor_code: str
    name: str
    score: float  # 0..100


@dataclass(frozen=True)
class MatchResult:
    product_id: int | None
    method: MatchMethod
    confidence: float
    candidates: tuple[Candidate, ...] = ()

    @property
    def matched(self) -> bool:
        return self.product_id is not None


UNMATCHED = MatchResult(None, MatchMethod.NONE, 0.0)


@dataclass(frozen=True)
class MatchSettings:
    fuzzy_threshold: float = 88
    fuzzy_margin: float = 6
    brand_tokens: tuple[str, ...] = ()
    accessory_words: tuple[str, ...] = ()
    accessory_links: tuple[str, ...] = ()
    affixes: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Config) -> MatchSettings:
        m = config.matching
        return cls(
            fuzzy_threshold=m.fuzzy_threshold,
            fuzzy_margin=m.fuzzy_margin,
            brand_tokens=tuple(m.brand_tokens),
            accessory_words=tuple(m.accessory_words),
            accessory_links=tuple(m.accessory_links),
            affixes={
                d.code: (tuple(d.vendor_code_affixes.prefixes), tuple(d.vendor_code_affixes.suffixes))
                for d in config.distributors
            },
        )


def words(text: str) -> list[str]:
    """Lower-case letter/digit words; ё is е."""
    return _WORD.findall(text.casefold().replace("ё", "е"))


@dataclass(frozen=True)
class _Token:
    """One whitespace/punctuation-separated piece of a title: its words and its normalized code form."""

    words: tuple[str, ...]
    code: str
    parts: tuple[str, ...] = ()  # `TL-1001/TL-1002`: each side's code form


def _tokens(title: str) -> list[_Token]:
    out = []
    for raw in _TOKEN_SPLIT.split(title):
        if not raw:
            continue
        # Only a piece with a digit, or a short one (`TL` of `TL 1001`), can be (part of) a vendor code.
        code = normalize_vendor_code(raw) if len(raw) <= _PREFIX_MAX or _DIGIT.search(raw) else ""
        parts = tuple(normalize_vendor_code(p) for p in raw.split("/")) if code and "/" in raw.strip("/") else ()
        out.append(_Token(tuple(words(raw)), code, parts))
    return out


class _AccessoryWords:
    """Accessory nouns match their word forms: `фильтр` → `фильтры`, `запчасть` → `запчасти`."""

    def __init__(self, nouns: Iterable[str]) -> None:
        forms = ("".join(words(noun)) for noun in nouns)
        self.stems = [(w[:-1] if len(w) >= 6 else w, len(w) + 3) for w in forms if w]
        self._known: dict[str, bool] = {}  # word → is an accessory noun (titles repeat their words a lot)

    def _is_accessory(self, word: str) -> bool:
        known = self._known.get(word)
        if known is None:
            known = self._known[word] = any(word.startswith(s) and len(word) <= n for s, n in self.stems)
        return known

    def found(self, text_words: Iterable[str]) -> frozenset[str]:
        return frozenset(w for w in text_words if self._is_accessory(w))


@dataclass
class _Product:
    row: CatalogProduct
    brand_key: tuple[str, ...] | None
    name_key: str  # name words without brand words and the product's own code, for fuzzy scoring
    name_words: frozenset[str]
    name_digits: frozenset[str]  # number-bearing words of the name (beyond its own code): the title must have them
    accessories: frozenset[str]  # accessory nouns in the catalog name: an offer may carry those


class CatalogIndex:
    """The catalog in dictionaries: GTIN, vendor code, brand and name-token lookups, and a person's decisions."""

    def __init__(
        self,
        products: Sequence[CatalogProduct],
        overrides: Mapping[tuple[str, str], int | None],
        settings: MatchSettings,
    ) -> None:
        self.settings = settings
        self.overrides = dict(overrides)
        self._accessory = _AccessoryWords(settings.accessory_words)
        self._links = frozenset("".join(words(w)) for w in settings.accessory_links)
        self._our_brand = {tuple(words(t)) for t in settings.brand_tokens} - {()}
        catalog_brands = {tuple(words(p.brand)) for p in products if p.brand} - {()}
        self._brand_phrases = self._our_brand | catalog_brands
        self._brand_words = frozenset(w for phrase in self._brand_phrases for w in phrase)
        self._brand_starts = frozenset(phrase[0] for phrase in self._brand_phrases)
        self.products: dict[int, _Product] = {}
        self._by_gtin: dict[str, int] = {}
        self._by_code: dict[str, int | None] = {}  # None: two products share the normalized code
        self._code_prefixes: set[str] = set()
        for row in products:
            self._add(row)
        by_brand: dict[tuple[str, ...] | None, set[int]] = {}
        postings: dict[str, list[int]] = {}
        for pid, product in self.products.items():
            by_brand.setdefault(product.brand_key, set()).add(pid)
            for word in product.name_words:
                postings.setdefault(word, []).append(pid)
        self._by_brand = {key: frozenset(ids) for key, ids in by_brand.items()}
        self._postings = postings
        total = len(self.products)
        self._idf = {word: math.log((total + 1) / len(ids)) for word, ids in postings.items()}
        self._block_limit = max(_BLOCK_MIN, int(_BLOCK_SHARE * total))
        self._distinct_limit = max(1, int(_DISTINCT_SHARE * total))

    def _add(self, row: CatalogProduct) -> None:
        self._add_code(row.id, row.vendor_code_norm or normalize_vendor_code(row.vendor_code))
        for gtin in row.gtins:
            if norm := normalize_gtin(gtin):
                self._by_gtin[norm] = row.id
        self.products[row.id] = self._product(row)

    def _add_code(self, pid: int, code: str) -> None:
        """Index a vendor code (a code two products share leads to neither), and its letter prefix (`TL`)."""
        self._by_code[code] = None if code in self._by_code and self._by_code[code] != pid else pid
        if (m := _LETTERS.match(code)) and len(m.group()) >= 2 and len(code) > len(m.group()):
            self._code_prefixes.add(m.group())

    def _product(self, row: CatalogProduct) -> _Product:
        """The product's brand and name words as matching compares them: brand words and its own code left out."""
        brand = tuple(words(row.brand)) if row.brand else ()
        code_words = set(words(row.vendor_code))
        name_words = [w for w in words(row.name) if w not in self._brand_words and w not in code_words]
        return _Product(
            row=row,
            brand_key=brand or None,
            name_key=" ".join(name_words),
            name_words=frozenset(name_words),
            name_digits=frozenset(w for w in name_words if any(ch.isdigit() for ch in w)),
            accessories=self._accessory.found(words(row.name)),
        )

    # ---------------------------------------------------------------- steps

    def match(self, offer: Matchable) -> MatchResult:
        """Override → GTIN → vendor code → code in the title → fuzzy name within the brand → unmatched."""
        key = (offer.distributor, offer.url)
        if key in self.overrides:
            return MatchResult(self.overrides[key], MatchMethod.MANUAL, CONFIDENCE_EXACT)
        if offer.gtin and (gtin := normalize_gtin(offer.gtin)) and (pid := self._by_gtin.get(gtin)):
            return MatchResult(pid, MatchMethod.GTIN, CONFIDENCE_EXACT)
        if offer.vendor_code and (result := self._vendor_code(offer.distributor, offer.vendor_code)):
            return result
        if not offer.title:
            return UNMATCHED
        tokens = _tokens(offer.title)
        title_words = [w for t in tokens for w in t.words]
        brand_at = self._brand_positions(tokens)
        result, code_like = self._title_code(offer.distributor, tokens, title_words, brand_at)
        if result is not None:
            return result
        if code_like or not brand_at:
            # A title naming a model code we do not list is another product; a title without the brand is
            # never fuzzy-matched.
            return UNMATCHED
        return self._fuzzy(tokens, title_words, brand_at)

    def _lookup(self, distributor: str, code: str) -> tuple[int | None, bool]:
        """(product id, whether an affix was stripped) for a normalized code; (None, False) when unknown."""
        if pid := self._by_code.get(code):
            return pid, False
        prefixes, suffixes = self.settings.affixes.get(distributor, ((), ()))
        if prefixes or suffixes:
            stripped = strip_affixes(code, prefixes, suffixes)
            if stripped != code and (pid := self._by_code.get(stripped)):
                return pid, True
        return None, False

    def _vendor_code(self, distributor: str, raw: str) -> MatchResult | None:
        pid, stripped = self._lookup(distributor, normalize_vendor_code(raw))
        if pid is None:
            return None
        return MatchResult(pid, MatchMethod.VENDOR_CODE, CONFIDENCE_AFFIX if stripped else CONFIDENCE_EXACT)

    def _brand_positions(self, tokens: Sequence[_Token]) -> set[int]:
        """Indexes of the title tokens that spell a brand (ours or a catalog brand)."""
        flat = [(i, w) for i, t in enumerate(tokens) for w in t.words]
        hits: set[int] = set()
        for start, (_, word) in enumerate(flat):
            if word not in self._brand_starts:
                continue
            for phrase in self._brand_phrases:
                if phrase[0] == word and tuple(w for _, w in flat[start : start + len(phrase)]) == phrase:
                    hits.update(i for i, _ in flat[start : start + len(phrase)])
        return hits

    def _linked(self, tokens: Sequence[_Token], index: int, brand_at: set[int]) -> bool:
        """True when `для` / `for` … stands right before token `index` (brand tokens in between skipped)."""
        j = index - 1
        while j >= 0 and j in brand_at:
            j -= 1
        return j >= 0 and bool(tokens[j].words) and tokens[j].words[-1] in self._links

    def _accessory_for(self, product: _Product, title_words: Sequence[str]) -> bool:
        """The title names an accessory noun the product's own catalog name does not have."""
        found = self._accessory.found(title_words)
        return bool(found) and not found <= product.accessories

    def _code_like(self, code: str) -> bool:
        """A normalized title token shaped like one of our vendor codes (known prefix letters, then a digit)."""
        m = _LETTERS.match(code)
        if m is None or m.group() not in self._code_prefixes:
            return False
        return len(code) > m.end() and code[m.end()].isdigit()

    def _title_code(
        self, distributor: str, tokens: Sequence[_Token], title_words: Sequence[str], brand_at: set[int]
    ) -> tuple[MatchResult | None, bool]:
        """A catalog vendor code as a title token (or two adjacent tokens: `TL 1001`).

        Returns (result or None, whether the title holds a code-like token at all).
        """
        found, code_like = self._codes_in_title(distributor, tokens)
        if not found:
            return None, code_like
        accepted = [
            pid
            for pid, i in found.items()
            if not self._linked(tokens, i, brand_at) and not self._accessory_for(self.products[pid], title_words)
        ]
        candidates = tuple(self._candidate(pid, 100.0 if pid in accepted else 50.0) for pid in found)
        if len(accepted) != 1:
            return MatchResult(None, MatchMethod.NONE, 0.0, candidates), True
        confidence = CONFIDENCE_TITLE_CODE if brand_at else CONFIDENCE_TITLE_CODE_NO_BRAND
        return MatchResult(accepted[0], MatchMethod.TITLE_CODE, confidence, candidates), True

    def _codes_in_title(self, distributor: str, tokens: Sequence[_Token]) -> tuple[dict[int, int], bool]:
        """({product id: index of the first token naming its code}, whether any token is shaped like our codes)."""
        found: dict[int, int] = {}
        code_like = False
        for i in range(len(tokens)):
            for piece in _code_pieces(tokens, i):
                if not _plausible_code(piece):
                    continue
                pid, _ = self._lookup(distributor, piece)
                if pid is not None:
                    found.setdefault(pid, i)
                code_like = code_like or self._code_like(piece)
        return found, code_like

    def _brand_products(self, tokens: Sequence[_Token], brand_at: set[int]) -> set[tuple[str, ...] | None]:
        """Brand keys whose products a title may be fuzzy-matched to."""
        title_brand_words = {w for i in brand_at for w in tokens[i].words}
        keys: set[tuple[str, ...] | None] = set()
        for phrase in self._brand_phrases:
            if set(phrase) <= title_brand_words:
                keys.add(phrase)
                if phrase in self._our_brand:
                    keys.add(None)
                    keys.update(self._our_brand)
        return keys

    def _fuzzy(self, tokens: Sequence[_Token], title_words: Sequence[str], brand_at: set[int]) -> MatchResult:
        brands = [self._by_brand[key] for key in self._brand_products(tokens, brand_at) if key in self._by_brand]
        allowed = brands[0] if len(brands) == 1 else frozenset().union(*brands)
        scored = self._scored(title_words, allowed)
        candidates = tuple(self._candidate(pid, score) for score, pid in scored[:3])
        # Only a product the title can be competes: its name's numbers are in the title, and the title names
        # no other model line. The best of those must clear the threshold and the margin over the next.
        title_set = set(title_words)
        eligible = [(score, pid) for score, pid in scored if self._possible(self.products[pid], title_set)]
        if not eligible:
            return MatchResult(None, MatchMethod.NONE, 0.0, candidates)
        best_score, best = eligible[0]
        second = eligible[1][0] if len(eligible) > 1 else 0.0
        if (
            best_score < self.settings.fuzzy_threshold
            or best_score - second < self.settings.fuzzy_margin
            or self._accessory_for(self.products[best], title_words)
            or any(self._linked(tokens, i, set()) for i in brand_at)
        ):
            return MatchResult(None, MatchMethod.NONE, 0.0, candidates)
        return MatchResult(best, MatchMethod.NAME, round(best_score / 100, 4), candidates)

    def _possible(self, product: _Product, title_words: set[str]) -> bool:
        """The name's numbers are all in the title, and the title has no rare catalog word (a model line's name)
        that this product's name lacks."""
        if not product.name_digits <= title_words:
            return False
        return not any(
            w not in product.name_words and 0 < len(self._postings.get(w, ())) <= self._distinct_limit
            for w in title_words
        )

    def _scored(
        self, title_words: Sequence[str], allowed: Collection[int], strict: bool = True
    ) -> list[tuple[float, int]]:
        """(score, product id), best first, for the allowed products that share the title's rarest words
        (`strict`: only products the title can be, for matching; else also near ones, for suggestions)."""
        if not allowed:
            return []
        query_words = [w for w in dict.fromkeys(title_words) if w not in self._brand_words]
        rarest = sorted((len(self._postings[w]), w) for w in query_words if w in self._postings)
        # A product the title can be has every one of the title's line-naming words (see `_possible`): when
        # there are such words, the candidates are the products that have them all.
        distinct = [w for df, w in rarest if df <= self._distinct_limit]
        if distinct and strict:
            weights = self._line_weights(distinct, set(query_words), allowed)
        else:
            weights = self._shared_weights(rarest, allowed)
        query = " ".join(query_words)
        top = heapq.nlargest(_BLOCK_CANDIDATES, weights, key=weights.__getitem__)
        scored = [(_score(query, self.products[pid].name_key), pid) for pid in top]
        scored.sort(key=lambda item: (-item[0], item[1]))
        return scored

    def _line_weights(self, distinct: Sequence[str], query: set[str], allowed: Collection[int]) -> dict[int, float]:
        """The allowed products whose names have every line-naming word, weighted by the rarity of shared words."""
        weights: dict[int, float] = {}
        for pid in self._postings[distinct[0]]:
            if pid not in allowed:
                continue
            name_words = self.products[pid].name_words
            if all(w in name_words for w in distinct[1:]):
                weights[pid] = sum(self._idf[w] for w in query & name_words)
        return weights

    def _shared_weights(self, rarest: Sequence[tuple[int, str]], allowed: Collection[int]) -> dict[int, float]:
        """Products sharing the title's rarest (not too common) words, weighted by how rare the shared words are."""
        selecting: list[str] = []
        pool = 0
        for df, word in rarest:
            if df > self._block_limit or len(selecting) == _BLOCK_WORDS or (selecting and pool + df > _BLOCK_POOL):
                break
            selecting.append(word)
            pool += df
        if not selecting:
            return dict.fromkeys(sorted(allowed), 0.0) if len(allowed) <= self._block_limit else {}
        weights: dict[int, float] = {}
        for word in selecting:
            idf = self._idf[word]
            for pid in self._postings[word]:
                if pid in allowed:
                    weights[pid] = weights.get(pid, 0.0) + idf
        return weights

    def _candidate(self, pid: int, score: float) -> Candidate:
        row = self.products[pid].row
        return Candidate(pid, row.vendor_code, row.name, round(score, 1))

    def suggest(self, title: str, limit: int = 3) -> list[Candidate]:
        """The catalog products closest by name to a title, whatever its brand: for a person to choose from."""
        scored = self._scored([w for t in _tokens(title) for w in t.words], self.products.keys(), strict=False)
        return [self._candidate(pid, score) for score, pid in scored[:limit]]


def _score(query: str, name: str) -> float:
    """0..100. Token-set alone calls a title that merely contains a shorter name perfect; token-sort keeps the
    extra words in the count, so the catalog's exact name beats a longer variant of it."""
    return (fuzz.token_set_ratio(query, name) + fuzz.token_sort_ratio(query, name)) / 2


def _code_pieces(tokens: Sequence[_Token], i: int) -> list[str]:
    """The forms in which token `i` may be a vendor code: whole, each side of a `/`, joined to the next (`TL 1001`)."""
    token = tokens[i]
    pieces = [token.code, *token.parts]
    if token.code.isalpha() and i + 1 < len(tokens) and tokens[i + 1].code[:1].isdigit():
        pieces.append(token.code + tokens[i + 1].code)
    return pieces


def _plausible_code(code: str) -> bool:
    """Worth looking up as a vendor code: has a digit, and all-digit codes are long (not `2000` watts)."""
    if len(code) < 3 or _DIGIT.search(code) is None:
        return False
    return not code.isdigit() or len(code) >= 5
