"""Which catalog product an offer is, and why: a person's decision, GTIN, vendor code, a code in the title, the
model a title names, or the name — each match and each refusal with its reason (`pipelines.match_reason`).

Pure (no Scrapy, no SQL): a `CatalogIndex` is built once from storage rows and matches offers in memory.
Every step is a lookup in a dictionary keyed by codes, model codes or name words within the brand (blocking),
never a comparison against every product. Names are compared by role (`pipelines.terms`): model codes exactly;
spec numbers (power, voltage, capacity, energy, size, pack count …) must not conflict but may be absent; a body
is never a kit, one colour never another. An offer that is not clearly one product stays unmatched:
accessories («Фильтр для TL-3001»), compatible goods («для Gromax»), other brands, and near-ties between two
products are never forced onto the catalog.
"""

from __future__ import annotations

import gc
import heapq
import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple, Protocol

from rapidfuzz import fuzz

from crawler.config import Config
from crawler.parsing.identifiers import clean_identifier
from pipelines.match_reason import NO_REASON, Conflict, MatchReason
from pipelines.terms import COUNT, TermReader, Terms, Token, spec_text, tokens
from pipelines.vocabulary import Vocabulary, load_vocabulary, sound, stem, words
from storage.codes import normalize_gtin, normalize_vendor_code, strip_affixes
from storage.models import MatchMethod
from storage.queries.matching import CatalogProduct, title_key

CONFIDENCE_EXACT = 1.0  # a person, a GTIN or the vendor code field
CONFIDENCE_ALIAS = 0.98  # a person's decision on another page with the same title
CONFIDENCE_AFFIX = 0.99  # the vendor code once the distributor's prefix/suffix is removed
CONFIDENCE_TITLE_CODE = 0.95  # our vendor code as a word of a title that names the brand
CONFIDENCE_TITLE_CODE_NO_BRAND = 0.85  # ... of a title that does not name the brand: matched, but for review
CONFIDENCE_MODEL = 0.95  # the brand and one product's model code (of its name) in the title
CONFIDENCE_MODEL_LINE = 0.92  # the brand and a model line; the title's specs or kit/body words leave one product
_LETTERS = re.compile(r"^[A-Z]+")
_DIGIT = re.compile(r"\d")
_SHAPE = re.compile(r"[A-Z]+|\d+")
_BARE_CODE = re.compile(r"^[\w\-/]+$")  # nothing a label could be written with
# Blocking for the fuzzy step: the title's rarest catalog words (each in at most this share of the catalog)
# select the products that share them; the best by shared words (rarer words weigh more) are scored.
_BLOCK_SHARE, _BLOCK_MIN = 0.10, 50
_BLOCK_WORDS = 3
_BLOCK_POOL = 1000  # a further (commoner) word is added only while the products it brings stay under this
_BLOCK_CANDIDATES = 12
# A catalog word this rare names a product line: a title with one its candidate lacks is another product.
_DISTINCT_SHARE = 0.05
_CANDIDATES = 3
_ONE = frozenset({Decimal(1)})
_LINK_WORDS = 3  # words that may stand between `для` and the brand or code it links to
_SOUND_MIN = 4  # letters a Cyrillic word needs to be taken for a brand by its sound
_SOUND_CLOSE_MIN, _SOUND_CLOSE = 7, 85  # … to sound close to one (fuzz.ratio of the sounds) rather than the same


class Matchable(Protocol):
    """What matching reads from an offer (a RawOffer fits; `seller_sku` is read when it has one)."""

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
    conflicts: tuple[Conflict, ...] = ()  # why the title cannot be this product


@dataclass(frozen=True)
class MatchResult:
    product_id: int | None
    method: MatchMethod
    confidence: float
    candidates: tuple[Candidate, ...] = ()  # best first
    reason: MatchReason = NO_REASON

    @property
    def matched(self) -> bool:
        return self.product_id is not None


def _refused(
    rule: str,
    candidates: tuple[Candidate, ...] = (),
    *,
    score: float | None = None,
    margin: float | None = None,
    tokens: tuple[str, ...] = (),
    conflicts: tuple[Conflict, ...] = (),
) -> MatchResult:
    """No product, for this reason (the best candidate's code in it)."""
    best = candidates[0].vendor_code if candidates else None
    reason = MatchReason(rule, score=score, margin=margin, tokens=tokens, conflicts=conflicts, candidate=best)
    return MatchResult(None, MatchMethod.NONE, 0.0, candidates, reason)


@dataclass(frozen=True)
class MatchSettings:
    fuzzy_threshold: float = 80
    fuzzy_margin: float = 6
    model_word_score: float = 60
    spec_bonus: float = 10
    brand_tokens: tuple[str, ...] = ()
    accessory_words: tuple[str, ...] = ()
    accessory_links: tuple[str, ...] = ()
    affixes: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = field(default_factory=dict)
    vocabulary: Vocabulary = field(default_factory=load_vocabulary)

    @classmethod
    def from_config(cls, config: Config) -> MatchSettings:
        m = config.matching
        return cls(
            fuzzy_threshold=m.fuzzy_threshold,
            fuzzy_margin=m.fuzzy_margin,
            model_word_score=m.model_word_score,
            spec_bonus=m.spec_bonus,
            brand_tokens=tuple(m.brand_tokens),
            accessory_words=tuple(m.accessory_words),
            accessory_links=tuple(m.accessory_links),
            affixes={
                d.code: (tuple(d.vendor_code_affixes.prefixes), tuple(d.vendor_code_affixes.suffixes))
                for d in config.distributors
            },
            vocabulary=load_vocabulary(m.vocabulary),
        )


class _AccessoryWords:
    """Accessory nouns match their word forms: `фильтр` → `фильтры`, `запчасть` → `запчасти`."""

    def __init__(self, nouns: Iterable[str]) -> None:
        forms = ("".join(words(noun)) for noun in nouns)
        self.stems = [(w[:-1] if len(w) >= 6 else w, len(w) + 3) for w in forms if w]
        self._known: dict[str, bool] = {}  # word → is an accessory noun (titles repeat their words a lot)

    def _is_accessory(self, word: str) -> bool:
        known = self._known[word] = any(word.startswith(s) and len(word) <= n for s, n in self.stems)
        return known

    def found(self, text_words: Iterable[str]) -> frozenset[str]:
        known = self._known
        return frozenset(w for w in text_words if (known[w] if w in known else self._is_accessory(w)))


@dataclass
class _Product:
    row: CatalogProduct
    brand_key: tuple[str, ...] | None
    terms: Terms
    name_key: str  # the name's words for the name score: no brand, codes, numbers, kit/body or colour words
    name_words: frozenset[str]
    model_stems: frozenset[str]
    variant: tuple[object, ...]  # products with one variant key differ only in kit/body, colour or specs
    named: _Named | None = None  # read from the name when a step first needs it (`CatalogIndex._named`)


class _Named(NamedTuple):
    """What a few steps read from a product's name."""

    accessories: frozenset[str]  # accessory nouns in the catalog name: an offer may carry those
    linked: frozenset[str]  # the words after `для` / `for` in its name («Фильтр для увлажнителя»: увлажнител)
    words: frozenset[str]  # its words as written (lower case), for `_says_more`


class _Title:
    """An offer title: its pieces at once (codes, brands), its terms when a step needs them."""

    __slots__ = ("_reader", "_terms", "text", "tokens")

    def __init__(self, text: str, reader: TermReader) -> None:
        self.text = text
        self.tokens = tokens(text)
        self._reader = reader
        self._terms: Terms | None = None

    @property
    def terms(self) -> Terms:
        if self._terms is None:
            self._terms = self._reader.read(self.text)
        return self._terms


@dataclass(frozen=True)
class _Judged:
    """One candidate against one title."""

    pid: int
    score: float  # the name score, plus `spec_bonus` for each spec the title and the name agree on
    cover: float  # how much of the title's words the name has (token-set ratio): a model's sanity check
    conflicts: tuple[Conflict, ...]
    model: str | None  # "model" (its model code is in the title), "model_line" (its model line), or None


def _shape(code: str) -> str:
    """A normalized code's shape, letters and digits by run: `GD1850Z` → `A2D4A1`."""
    return "".join(("A" if part.isalpha() else "D") + str(len(part)) for part in _SHAPE.findall(code))


def _values(values: Iterable[object]) -> str:
    return ",".join(sorted(v if isinstance(v, str) else f"{v:f}" for v in values))


def conflicts(title: Terms, product: Terms) -> list[Conflict]:
    """Where the title's numbers by role, kit/body and colours contradict the product's (a role either leaves
    out is none, but for the pack count: a number of one must be among the other's, or theirs among its)."""
    found = []
    for role, values in title.specs.items():
        theirs = product.specs.get(role)
        if theirs and role != COUNT and not (values <= theirs or theirs <= values):
            found.append(Conflict(role, _values(values), _values(theirs)))
    # A name or a title without a count is of one piece: «2 шт» is a pack, never the single product, and back.
    ours, theirs = title.specs.get(COUNT, _ONE), product.specs.get(COUNT, _ONE)
    if not (ours <= theirs or theirs <= ours):
        found.append(Conflict(COUNT, _values(ours), _values(theirs)))
    if title.kit and product.kit and title.kit != product.kit:
        found.append(Conflict("kit", title.kit, product.kit))
    if title.colours and product.colours and not title.colours & product.colours:
        found.append(Conflict("colour", _values(title.colours), _values(product.colours)))
    return found


class CatalogIndex:
    """The catalog in dictionaries: GTIN, vendor code, model code, brand and name-word lookups, and decisions."""

    def __init__(
        self,
        products: Sequence[CatalogProduct],
        overrides: Mapping[tuple[str, str], int | None],
        settings: MatchSettings,
        aliases: Mapping[str, int | None] | None = None,
    ) -> None:
        # A catalog of tens of thousands of products is hundreds of thousands of small objects, none of them garbage:
        # the cyclic collector's passes over them while they are built would be half the build.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._build(products, overrides, settings, aliases)
        finally:
            if collecting:
                gc.enable()

    def _build(
        self,
        products: Sequence[CatalogProduct],
        overrides: Mapping[tuple[str, str], int | None],
        settings: MatchSettings,
        aliases: Mapping[str, int | None] | None,
    ) -> None:
        self.settings = settings
        self.overrides = dict(overrides)
        self.aliases = dict(aliases or {})  # a normalized title → a person's decision on a page with that title
        vocabulary = settings.vocabulary
        self._reader = TermReader(vocabulary)
        self._accessory = _AccessoryWords(settings.accessory_words)
        self._links = frozenset("".join(words(w)) for w in settings.accessory_links)
        self._init_brands(products, vocabulary)
        # The words that may make a title another variant than a name without them: kit and body phrases' words
        # (and every form of them), colours.
        said = {w for phrase in vocabulary.body | vocabulary.kit for w in phrase}
        forms = {
            w for entries in vocabulary.phrases.values() for form, target in entries if said & set(target) for w in form
        }
        self._variant_stems = frozenset(said | forms)
        self._colour_words = frozenset(vocabulary.colours)
        self.products: dict[int, _Product] = {}
        self._by_gtin: dict[str, int] = {}
        self._by_code: dict[str, int | None] = {}  # None: two products share the normalized code
        self._code_prefixes: set[str] = set()
        self._shapes: frozenset[str] | None = None  # of the catalog's codes, made when first needed
        for row in products:
            self._add(row)
        self._init_lookups()

    def _init_brands(self, products: Sequence[CatalogProduct], vocabulary: Vocabulary) -> None:
        """Our brand (config), the catalog's brands, their Cyrillic spellings and sounds, and other brands."""
        self._our_brand = {tuple(words(t)) for t in self.settings.brand_tokens} - {()}
        catalog_brands = {tuple(words(p.brand)) for p in products if p.brand} - {()}
        self._brand_phrases = self._our_brand | catalog_brands
        self._brand_words = frozenset(w for phrase in self._brand_phrases for w in phrase)
        self._brand_starts = frozenset(phrase[0] for phrase in self._brand_phrases)
        self._brand_stems = frozenset(stem(w) for w in self._brand_words)
        self._spellings = {k: v for k, v in vocabulary.brands.items() if v in self._brand_words}
        self._sounds = {sound(w): w for w in self._brand_words if len(w) >= _SOUND_MIN}
        self._word_brand: dict[str, str] = {}  # a title word → the brand word it spells ("" for none)
        self._other_brands = vocabulary.other_brands - self._brand_phrases
        self._other_starts = frozenset(phrase[0] for phrase in self._other_brands)

    def _init_lookups(self) -> None:
        by_brand: dict[tuple[str, ...] | None, set[int]] = {}
        postings: dict[str, list[int]] = {}
        self._by_model: dict[str, set[int]] = {}
        self._by_stem: dict[str, set[int]] = {}
        by_number: dict[str, set[int]] = {}
        for pid, product in self.products.items():
            for number in product.terms.numbers:
                by_number.setdefault(number, set()).add(pid)
            by_brand.setdefault(product.brand_key, set()).add(pid)
            for word in product.name_words:
                postings.setdefault(word, []).append(pid)
            for code in product.terms.models:
                self._by_model.setdefault(code, set()).add(pid)
            for code in product.model_stems:
                self._by_stem.setdefault(code, set()).add(pid)
        self._by_brand = {key: frozenset(ids) for key, ids in by_brand.items()}
        self._postings = postings
        self._posting_sets: dict[str, frozenset[int]] = {}  # made when first needed (`_posting_set`)
        self._by_number = {number: frozenset(ids) for number, ids in by_number.items()}
        self._numberless = frozenset(pid for pid, p in self.products.items() if not p.terms.numbers)
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
        """The product's name as matching compares it: by role, and its words without brand words."""
        brand = tuple(words(row.brand)) if row.brand else ()
        terms = self._reader.read(row.name)
        name_words = [w for w in terms.words if w not in self._brand_stems]
        stems = terms.stems()
        variant: tuple[object, ...] = (brand, "model", stems or terms.models) if terms.models else (brand, *name_words)
        return _Product(
            row=row,
            brand_key=brand or None,
            terms=terms,
            name_key=" ".join(name_words),
            name_words=frozenset(name_words),
            model_stems=stems,
            variant=variant,
        )

    def _named(self, product: _Product) -> _Named:
        """The product's accessory nouns and link words, read from its name once, when first needed."""
        if product.named is None:
            found = words(product.row.name)
            product.named = _Named(
                accessories=self._accessory.found(found),
                linked=frozenset(stem(w) for i, w in enumerate(found[1:], start=1) if found[i - 1] in self._links),
                words=frozenset(found),
            )
        return product.named

    def _says_more(self, tokens: Sequence[Token], product: _Product) -> bool:
        """Whether the title may say something the product's name does not (a number, a colour, a kit or body
        word it lacks): only then can the two conflict, and the title is read by role (sparing most titles that
        repeat the catalog's name, with a shop's words added)."""
        extra = {w for t in tokens for w in t.words} - self._named(product).words
        return any(_DIGIT.search(w) or w in self._colour_words or stem(w) in self._variant_stems for w in extra)

    # ---------------------------------------------------------------- steps

    def match(self, offer: Matchable) -> MatchResult:
        """Decision → GTIN → vendor code → a decision on the same title → code in the title → the model → the
        name within the brand → unmatched; the result says why."""
        key = (offer.distributor, offer.url)
        if key in self.overrides:
            pid = self.overrides[key]
            return MatchResult(
                pid, MatchMethod.MANUAL, CONFIDENCE_EXACT, reason=MatchReason("manual" if pid else "not_ours")
            )
        if (found := self._identifiers(offer)) is not None:
            return found
        if not offer.title:
            return _refused("no_title")
        if self.aliases and (alias := self._alias(offer.title)) is not None:
            return alias
        return self._by_title(offer.distributor, _Title(offer.title, self._reader))

    def _alias(self, title: str) -> MatchResult | None:
        key = title_key(title)
        if key not in self.aliases:
            return None
        pid = self.aliases[key]
        method = MatchMethod.ALIAS if pid is not None else MatchMethod.NONE
        return MatchResult(
            pid, method, CONFIDENCE_ALIAS if pid else 0.0, reason=MatchReason("alias" if pid else "not_ours")
        )

    def _identifiers(self, offer: Matchable) -> MatchResult | None:
        """The offer's GTIN, then its codes (the vendor code field, the shop's SKU): the ones shaped like the
        catalog's codes first; a code that is a valid GTIN is looked up as one too."""
        if offer.gtin and (gtin := normalize_gtin(offer.gtin)) and (pid := self._by_gtin.get(gtin)):
            return MatchResult(
                pid, MatchMethod.GTIN, CONFIDENCE_EXACT, reason=MatchReason("gtin", tokens=(offer.gtin,))
            )
        if offer.vendor_code and (pid := self._by_code.get(normalize_vendor_code(offer.vendor_code))):
            reason = MatchReason("vendor_code", tokens=(offer.vendor_code,))  # the common case, at once
            return MatchResult(pid, MatchMethod.VENDOR_CODE, CONFIDENCE_EXACT, reason=reason)
        for raw in self._offer_codes(offer):
            if raw[:1].isdigit() and (gtin := normalize_gtin(raw)) and (pid := self._by_gtin.get(gtin)):
                return MatchResult(pid, MatchMethod.GTIN, CONFIDENCE_EXACT, reason=MatchReason("gtin", tokens=(raw,)))
            pid, stripped = self._lookup(offer.distributor, normalize_vendor_code(raw))
            if pid is not None:
                confidence = CONFIDENCE_AFFIX if stripped else CONFIDENCE_EXACT
                reason = MatchReason("vendor_code_affix" if stripped else "vendor_code", tokens=(raw,))
                return MatchResult(pid, MatchMethod.VENDOR_CODE, confidence, reason=reason)
        return None

    def _offer_codes(self, offer: Matchable) -> list[str]:
        codes = [c for c in (offer.vendor_code, getattr(offer, "seller_sku", None)) if c]
        cleaned = list(dict.fromkeys(filter(None, (c if _BARE_CODE.match(c) else clean_identifier(c) for c in codes))))
        if len(cleaned) < 2:
            return cleaned
        if self._shapes is None:
            self._shapes = frozenset(_shape(code) for code in self._by_code)
        shapes = self._shapes
        return sorted(cleaned, key=lambda c: _shape(normalize_vendor_code(c)) not in shapes)

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

    def _brand_of(self, word: str) -> str:
        """The brand word a title word spells (`Громакс` → gromax), or ""."""
        known = self._word_brand.get(word)
        if known is None:
            known = self._spellings.get(word) or ("" if word.isascii() else self._sounds_like(word))
            if word in self._brand_words:
                known = word
            self._word_brand[word] = known
        return known

    def _sounds_like(self, word: str) -> str:
        """A brand a Cyrillic word spells by its sound (`Громакс`: gromax); a long one may differ a little, as a
        name said the English way does (`Термолайн`: termoline)."""
        if len(word) < _SOUND_MIN:
            return ""
        said = sound(word)
        found = self._sounds.get(said) or self._sounds.get(sound(stem(word)))
        if found is None and len(said) >= _SOUND_CLOSE_MIN:
            close = [(fuzz.ratio(said, known), brand) for known, brand in self._sounds.items()]
            best = max(close, default=(0.0, ""))
            found = best[1] if best[0] >= _SOUND_CLOSE else None
        return found or ""

    def _brand_positions(self, tokens: Sequence[Token]) -> set[int]:
        """Indexes of the title tokens that spell a brand (ours or a catalog brand)."""
        known, spell = self._word_brand.get, self._brand_of
        flat = [
            (i, (b if (b := known(w)) is not None else spell(w)) or w) for i, t in enumerate(tokens) for w in t.words
        ]
        hits: set[int] = set()
        for start, (_, word) in enumerate(flat):
            if word not in self._brand_starts:
                continue
            for phrase in self._brand_phrases:
                if phrase[0] == word and tuple(w for _, w in flat[start : start + len(phrase)]) == phrase:
                    hits.update(i for i, _ in flat[start : start + len(phrase)])
        return hits

    def _other_brand(self, tokens: Sequence[Token]) -> str | None:
        """Another brand the title names (`Hammer`, `Зубр`), if any."""
        flat = [self._spelled(w) for t in tokens for w in t.words]
        for start, word in enumerate(flat):
            if word in self._other_starts:
                for phrase in self._other_brands:
                    if tuple(flat[start : start + len(phrase)]) == phrase:
                        return " ".join(phrase)
        return None

    def _spelled(self, word: str) -> str:
        return self.settings.vocabulary.brands.get(word, word)

    def _linked(self, tokens: Sequence[Token], index: int, brand_at: set[int]) -> tuple[str, ...] | None:
        """The words between `для` / `for` … and token `index` (brand tokens skipped; «для шуруповерта Gromax»),
        when such a link stands at most a few words before it; None when none does. Words that say nothing of a
        product («для дома»: noise) are no link."""
        j = index - 1
        while j >= 0 and j in brand_at:
            j -= 1
        between: list[str] = []
        while j >= 0 and len(between) < _LINK_WORDS:
            found = tokens[j].words
            if found and found[-1] in self._links:
                noise = self.settings.vocabulary.noise
                said = tuple(stem(w) for w in reversed(between))
                return None if said and all(w in noise for w in said) else said
            if not found or tokens[j].code[:1].isdigit() or j in brand_at:
                return None
            between.extend(reversed(found))
            j -= 1
        return None

    def _for_other(self, product: _Product, link: tuple[str, ...] | None) -> bool:
        """A link («для шуруповерта») the product's own name does not have (its name «Фильтр для увлажнителя» has
        «для увлажнителя»): the title is a thing made for something, not the product."""
        return link is not None and not (link and set(link) <= self._named(product).linked)

    def _accessory_for(self, product: _Product, title_words: Sequence[str]) -> bool:
        """The title names an accessory noun the product's own catalog name does not have."""
        found = self._accessory.found(title_words)
        return bool(found) and not found <= self._named(product).accessories

    def _code_like(self, code: str) -> bool:
        """A normalized title token shaped like one of our vendor codes (known prefix letters, then a digit) that
        is no model code or model line of ours (`TF300` of TF-300-2, `GD1850` of GD1850Z)."""
        m = _LETTERS.match(code)
        if m is None or m.group() not in self._code_prefixes or code in self._by_stem or code in self._by_model:
            return False
        return len(code) > m.end() and code[m.end()].isdigit()

    def _by_title(self, distributor: str, title: _Title) -> MatchResult:
        tokens = title.tokens
        brand_at = self._brand_positions(tokens)
        found, code_like = self._codes_in_title(distributor, tokens)
        if found:
            return self._title_code(found, title, brand_at)
        if code_like:
            # A title naming a model code we do not list is another product.
            return _refused("unknown_code", tokens=tuple(code_like))
        if not brand_at:
            other = self._other_brand(tokens)
            return _refused("other_brand", tokens=(other,)) if other else _refused("no_brand")
        links = [link for i in brand_at if (link := self._linked(tokens, i, brand_at)) is not None]
        return self._by_name(title, brand_at, links[0] if links else None)

    def _title_code(self, found: dict[int, int], title: _Title, brand_at: set[int]) -> MatchResult:
        """A catalog vendor code as a title token (or two adjacent tokens: `TL 1001`)."""
        accepted, accessory = self._accepted(found, title.tokens, brand_at)
        candidates = tuple(self._candidate(pid, 100.0) for pid in found)  # each named by its code
        codes = tuple(self.products[pid].row.vendor_code for pid in found)
        if len(accepted) > 1 and brand_at and (kit := self._set_of(accepted)) is not None:
            reason = MatchReason("model", tokens=codes)  # a set the catalog lists: «Набор BL1850 + DC18RC»
            return MatchResult(kit, MatchMethod.NAME, CONFIDENCE_MODEL, candidates, reason)
        if len(accepted) != 1:
            rule = "codes" if len(accepted) > 1 else "accessory" if accessory else "compatible"
            return _refused(rule, candidates, tokens=codes)
        return self._one_code(accepted[0], found[accepted[0]], title, brand_at, candidates)

    def _accepted(
        self, found: dict[int, int], tokens: Sequence[Token], brand_at: set[int]
    ) -> tuple[list[int], set[int]]:
        """(the found products the title may be, those it is an accessory for): not made for one («для …») and
        not an accessory its name lacks («Фильтр для …»)."""
        nouns = self._accessory.found(w for t in tokens for w in t.words)
        linked = {
            pid for pid, i in found.items() if self._for_other(self.products[pid], self._linked(tokens, i, brand_at))
        }
        accessory = {pid for pid in found if nouns and not nouns <= self._named(self.products[pid]).accessories}
        return [pid for pid in found if pid not in linked | accessory], accessory

    def _one_code(
        self, pid: int, at: int, title: _Title, brand_at: set[int], candidates: tuple[Candidate, ...]
    ) -> MatchResult:
        """The one catalog code (at token `at`) a title names: the product, unless the title names another brand
        only, or says a number, kit/body or colour the product's name contradicts."""
        tokens = title.tokens
        code = (self.products[pid].row.vendor_code,)
        if not brand_at and (other := self._other_brand(tokens)):
            return _refused("other_brand", candidates, tokens=(other, *code))
        product = self.products[pid]
        if self._says_more(tokens, product) and (clash := conflicts(title.terms, product.terms)):
            # The code names a model; the title's numbers or kit/body words may tell another product of that
            # model (`BL1850 … 2 шт.`: the two-pack), else the title is none of them.
            if (
                brand_at
                and (other_product := self._by_name(title, brand_at, self._linked(tokens, at, brand_at))).matched
            ):
                return other_product
            candidates = (self._candidate(pid, 100.0, tuple(clash)), *candidates[1:])
            return _refused("conflict", candidates, tokens=code, conflicts=tuple(clash))
        if brand_at:
            return MatchResult(
                pid, MatchMethod.TITLE_CODE, CONFIDENCE_TITLE_CODE, candidates, MatchReason("title_code", tokens=code)
            )
        reason = MatchReason("title_code_no_brand", tokens=code)
        return MatchResult(pid, MatchMethod.TITLE_CODE, CONFIDENCE_TITLE_CODE_NO_BRAND, candidates, reason)

    def _set_of(self, pids: Iterable[int]) -> int | None:
        """The one catalog product whose name has every one of these products' codes (a set of them), if any."""
        codes = [
            self.products[pid].row.vendor_code_norm or normalize_vendor_code(self.products[pid].row.vendor_code)
            for pid in pids
        ]
        having = [self._by_model.get(code, set()) for code in codes]
        common = set.intersection(*having) - set(pids) if having else set()
        return next(iter(common)) if len(common) == 1 else None

    def _codes_in_title(self, distributor: str, tokens: Sequence[Token]) -> tuple[dict[int, int], list[str]]:
        """({product id: index of the first token naming its code}, the tokens shaped like our codes)."""
        found: dict[int, int] = {}
        code_like: list[str] = []
        for i in range(len(tokens)):
            for piece in _code_pieces(tokens, i):
                if not _plausible_code(piece):
                    continue
                pid, _ = self._lookup(distributor, piece)
                if pid is not None:
                    found.setdefault(pid, i)
                elif self._code_like(piece):
                    code_like.append(piece)
        return found, code_like

    def _brand_products(self, tokens: Sequence[Token], brand_at: set[int]) -> set[tuple[str, ...] | None]:
        """Brand keys whose products a title may be fuzzy-matched to."""
        title_brand_words = {self._brand_of(w) or w for i in brand_at for w in tokens[i].words}
        keys: set[tuple[str, ...] | None] = set()
        for phrase in self._brand_phrases:
            if set(phrase) <= title_brand_words:
                keys.add(phrase)
                if phrase in self._our_brand:
                    keys.add(None)
                    keys.update(self._our_brand)
        return keys

    def _allowed(self, tokens: Sequence[Token], brand_at: set[int], link: tuple[str, ...] | None) -> frozenset[int]:
        """The products of the title's brands; with a link before the brand, only those whose name has it."""
        brands = [self._by_brand[key] for key in self._brand_products(tokens, brand_at) if key in self._by_brand]
        allowed = brands[0] if len(brands) == 1 else frozenset().union(*brands)
        if link is None:
            return allowed
        return frozenset(pid for pid in allowed if not self._for_other(self.products[pid], link))

    # ---------------------------------------------------------------- by model or by name

    def _by_name(self, title: _Title, brand_at: set[int], link: tuple[str, ...] | None = None) -> MatchResult:
        """The model the title names, else the name score: within the title's brand, by role (`_judge`). With a
        link before the brand («для шуруповерта Gromax»), only a product whose name has the link may be it."""
        allowed = self._allowed(title.tokens, brand_at, link)
        if not allowed:
            return _refused("no_candidate" if link is None else "compatible", tokens=link or ())
        terms = title.terms
        title_words = [w for w in terms.words if w not in self._brand_stems and not self._brand_of(w)]
        pool = self._name_pool(terms, title_words, allowed)
        if pool is None:
            return _refused("unknown_model", tokens=tuple(sorted(terms.models)))
        judged = sorted((self._judge(pid, terms, title_words) for pid in pool), key=lambda j: (-j.score, j.pid))
        candidates = tuple(self._candidate(j.pid, j.score, j.conflicts) for j in judged[:_CANDIDATES])
        eligible = [j for j in judged if not j.conflicts]
        if not judged:
            return _refused("no_candidate")
        if not eligible:
            return _refused("conflict", candidates, conflicts=judged[0].conflicts)
        if terms.models:
            return self._one_model(eligible, candidates, title_words, terms)
        return self._by_score(eligible, candidates, title_words, terms)

    def _name_pool(self, terms: Terms, title_words: list[str], allowed: frozenset[int]) -> set[int] | None:
        """The products a title may be: those with a model code (or model line) it names, when it names one (None
        when no product of the brand has it); else those that share its rarest words."""
        if not terms.models:
            return set(self._pool(title_words, allowed, terms.numbers))
        pool = {
            pid
            for code in terms.models
            for pid in (*self._by_model.get(code, ()), *self._by_stem.get(code, ()))
            if pid in allowed
        }
        return pool or None

    def _one_model(
        self, eligible: list[_Judged], candidates: tuple[Candidate, ...], title_words: list[str], terms: Terms
    ) -> MatchResult:
        """One product the title's model code (or model line) leaves, whose name does not say another kind."""
        best = eligible[0]
        if len(eligible) > 1:
            return _refused("variant", candidates, tokens=tuple(self.products[j.pid].row.vendor_code for j in eligible))
        if (title_words and best.cover < self.settings.model_word_score) or self._accessory_for(
            self.products[best.pid], title_words
        ):
            return _refused("model_words", candidates, score=best.cover)
        rule = best.model or "model"
        confidence = CONFIDENCE_MODEL if rule == "model" else CONFIDENCE_MODEL_LINE
        reason = MatchReason(
            rule,
            score=best.score,
            tokens=tuple(sorted(self.products[best.pid].terms.models)),
            missing=self._missing(terms, best.pid),
        )
        return MatchResult(best.pid, MatchMethod.NAME, confidence, candidates, reason)

    def _by_score(
        self, eligible: list[_Judged], candidates: tuple[Candidate, ...], title_words: list[str], terms: Terms
    ) -> MatchResult:
        """The best name score past the threshold and the margin over the next product the title can be."""
        best = eligible[0]
        second = eligible[1].score if len(eligible) > 1 else 0.0
        margin = round(best.score - second, 1)
        score = best.score
        if best.score < self.settings.fuzzy_threshold:
            return _refused("below_threshold", candidates, score=score, margin=margin)
        product = self.products[best.pid]
        close = [j for j in eligible[1:] if best.score - j.score < self.settings.fuzzy_margin]
        if any(not self._less_said(product, self.products[j.pid], title_words) for j in close):
            return _refused("low_margin", candidates, score=score, margin=margin)
        if any(self.products[j.pid].variant == product.variant for j in eligible[1:]):
            return _refused("variant", candidates, score=score, margin=margin)
        if self._accessory_for(product, title_words):
            return _refused("accessory", candidates, score=score, margin=margin)
        reason = MatchReason("name", score=score, margin=margin, missing=self._missing(terms, best.pid))
        return MatchResult(best.pid, MatchMethod.NAME, round(min(best.score, 100.0) / 100, 4), candidates, reason)

    @staticmethod
    def _less_said(best: _Product, other: _Product, title_words: Sequence[str]) -> bool:
        """`other`'s name is `best`'s with more words, none of which the title says: the title describes `best`
        (a «дрель-шуруповерт» is not the «ударная дрель-шуруповерт»). Products that differ in nothing else
        (variants) are never told apart by this."""
        extra = other.name_words - best.name_words
        return best.variant != other.variant and best.name_words < other.name_words and extra.isdisjoint(title_words)

    def _judge(self, pid: int, title: Terms, title_words: Sequence[str]) -> _Judged:
        """Score one candidate and say what in the title rules it out: a conflicting number, kit/body or colour,
        another model code, a number of its name the title lacks, a model line's word its name lacks."""
        product = self.products[pid]
        found = conflicts(title, product.terms)
        model: str | None = None
        if title.models:
            if title.models & product.terms.models:
                model = "model"
            elif title.models & product.model_stems:
                model = "model_line"
            else:
                found.append(Conflict("model", _values(title.models), _values(product.terms.models)))
        if missing := product.terms.numbers - title.numbers:
            found.append(Conflict("number", "", _values(missing)))
        line = [
            w
            for w in title_words
            if w not in product.name_words and 0 < len(self._postings.get(w, ())) <= self._distinct_limit
        ]
        if line:
            found.append(Conflict("word", _values(set(line)), ""))
        cover, score = _score(" ".join(title_words), product.name_key) if title_words else (0.0, 0.0)
        # Agreeing numbers add to the score only for a name that has every word of the title: a title of another
        # kind of product («Гравер … 12 В 2×2 Ач») never gets there on the numbers of a drill.
        agree = 0
        if title.specs and product.name_words.issuperset(title_words):
            theirs = product.terms.specs
            agree = sum(1 for role, values in title.specs.items() if role in theirs and values <= theirs[role])
        return _Judged(pid, round(score + self.settings.spec_bonus * agree, 1), cover, tuple(found), model)

    def _missing(self, title: Terms, pid: int) -> tuple[str, ...]:
        """The product's spec values a title leaves out (allowed, and said)."""
        product = self.products[pid].terms
        return tuple(
            spec_text(role, value)
            for role, values in sorted(product.specs.items())
            if role not in title.specs
            for value in sorted(values)
        )

    def _pool(
        self, title_words: Sequence[str], allowed: Collection[int], numbers: frozenset[str] | None = None
    ) -> list[int]:
        """The allowed products that share the title's rarest words, best by shared words. With the title's
        `numbers`, for matching: only products the title can be (every line-naming word of the title and every
        number of their name in it); without, for suggestions: near ones too."""
        if not allowed:
            return []
        query_words = list(dict.fromkeys(title_words))
        rarest = sorted((len(self._postings[w]), w) for w in query_words if w in self._postings)
        # A product the title can be has every one of the title's line-naming words (see `_judge`): when
        # there are such words, the candidates are the products that have them all.
        distinct = [w for df, w in rarest if df <= self._distinct_limit]
        if distinct and numbers is not None:
            weights = self._line_weights(distinct, set(query_words), allowed, numbers)
        else:
            weights = self._shared_weights(rarest, allowed)
        return heapq.nlargest(_BLOCK_CANDIDATES, weights, key=weights.__getitem__)

    def _posting_set(self, word: str) -> frozenset[int]:
        found = self._posting_sets.get(word)
        if found is None:
            found = self._posting_sets[word] = frozenset(self._postings[word])
        return found

    def _line_weights(
        self, distinct: Sequence[str], query: set[str], allowed: Collection[int], numbers: frozenset[str]
    ) -> dict[int, float]:
        """The allowed products whose names have every line-naming word and whose numbers the title has, weighted
        by the rarity of the words they share with it."""
        ids = frozenset.intersection(*(self._posting_set(w) for w in distinct))
        if len(ids) > _BLOCK_CANDIDATES:
            # A product with a number in its name is one the title has the number of.
            having = [ids & self._by_number[n] for n in numbers if n in self._by_number]
            ids = (ids & self._numberless).union(*having)
        weights: dict[int, float] = {}
        for pid in ids:
            product = self.products[pid]
            if pid in allowed and product.terms.numbers <= numbers:
                weights[pid] = sum(self._idf[w] for w in query & product.name_words)
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

    def _candidate(self, pid: int, score: float, clash: tuple[Conflict, ...] = ()) -> Candidate:
        row = self.products[pid].row
        return Candidate(pid, row.vendor_code, row.name, round(score, 1), clash)

    def suggest(self, title: str, limit: int = _CANDIDATES) -> list[Candidate]:
        """The catalog products closest by name to a title, whatever its brand: for a person to choose from."""
        terms = self._reader.read(title)
        title_words = [w for w in terms.words if w not in self._brand_stems]
        pool = self._pool(title_words, self.products.keys())
        # The products the title can be by its numbers, kit/body and colour come first, then the closest names.
        judged = sorted((self._judge(pid, terms, title_words) for pid in pool), key=_review_order)
        return [self._candidate(j.pid, j.score, j.conflicts) for j in judged[:limit]]


def _review_order(judged: _Judged) -> tuple[int, float, int]:
    return (len(judged.conflicts), -judged.score, judged.pid)


def _score(query: str, name: str) -> tuple[float, float]:
    """(token-set ratio, name score), 0..100. Token-set alone calls a title that merely contains a shorter name
    perfect; token-sort keeps the extra words in the count, so the catalog's exact name beats a longer variant."""
    covered = fuzz.token_set_ratio(query, name)
    return covered, (covered + fuzz.token_sort_ratio(query, name)) / 2


def _code_pieces(tokens: Sequence[Token], i: int) -> list[str]:
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
