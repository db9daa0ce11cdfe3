"""Why an offer was matched to a product, or refused: the rule, the score and margin, the tokens that decided.

A reason is stored with the listing (`listings.match_reason`, JSON) and shown in `offers export` and `match review`
in the config's language (`describe`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from crawler.i18n import Texts

# The rules by which an offer is matched …
MATCHED_RULES = (
    "manual",  # a person decided this page
    "alias",  # a person decided another page with the same title
    "gtin",
    "vendor_code",
    "vendor_code_affix",  # the vendor code once the distributor's prefix or suffix is removed
    "title_code",  # a catalog vendor code written in the title, with the brand
    "title_code_no_brand",
    "model",  # the title names the brand and one product's model code
    "model_line",  # … its model line, and specs or kit/body words leave one product
    "name",  # the name score within the brand, past the threshold and the margin
)
# … and by which it is refused.
REFUSED_RULES = (
    "not_ours",  # a person decided it is not the brand's product
    "no_title",
    "no_brand",  # the title names no catalog brand: never matched by its name
    "other_brand",  # the title names another brand
    "compatible",  # «для <brand>», «for …»: made for the brand's product, not by the brand
    "accessory",  # an accessory word the product's name lacks
    "codes",  # several catalog codes in one title
    "unknown_code",  # a code shaped like the brand's that the catalog does not list
    "unknown_model",  # a model code no catalog product of the brand has
    "conflict",  # the title's numbers, kit/body or colour conflict with every candidate's
    "variant",  # products that differ only in what the title does not say (kit or body, colour, capacity)
    "below_threshold",
    "low_margin",
    "model_words",  # the model matches, the rest of the title is another kind of product
    "no_candidate",
)


@dataclass(frozen=True)
class Conflict:
    """One role on which the title and a product disagree: `capacity` 4 against 2 (Ah)."""

    role: str  # a spec role, `kit`, `colour`, `model`, `number` (a number of the name), `word` (a model line's)
    title: str
    product: str

    def as_json(self) -> list[str]:
        return [self.role, self.title, self.product]


@dataclass(frozen=True)
class MatchReason:
    rule: str
    score: float | None = None  # the name score (0..100) of the chosen or best candidate
    margin: float | None = None  # … over the next candidate the title can be
    tokens: tuple[str, ...] = ()  # what decided: the code, the model, the GTIN, the other brand
    conflicts: tuple[Conflict, ...] = ()  # the best candidate's (for a refusal)
    missing: tuple[str, ...] = ()  # the product's spec values the title leaves out (allowed: `energy 2.7`)
    candidate: str | None = None  # the vendor code of the best candidate, for a refusal

    @property
    def matched(self) -> bool:
        return self.rule in MATCHED_RULES

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"rule": self.rule}
        if self.score is not None:
            data["score"] = round(self.score, 1)
        if self.margin is not None:
            data["margin"] = round(self.margin, 1)
        for key, values in (("tokens", self.tokens), ("missing", self.missing)):
            if values:
                data[key] = list(values)
        if self.conflicts:
            data["conflicts"] = [c.as_json() for c in self.conflicts]
        if self.candidate:
            data["candidate"] = self.candidate
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> MatchReason | None:
        """A stored reason; None for a listing stored before reasons were."""
        if not data or "rule" not in data:
            return None
        return cls(
            rule=str(data["rule"]),
            score=data.get("score"),
            margin=data.get("margin"),
            tokens=tuple(map(str, data.get("tokens", ()))),
            conflicts=tuple(Conflict(*map(str, c)) for c in data.get("conflicts", ()) if len(c) == 3),
            missing=tuple(map(str, data.get("missing", ()))),
            candidate=data.get("candidate"),
        )


NO_REASON = MatchReason("no_candidate")


def _values(texts: Texts, values: Iterable[str]) -> str:
    return ", ".join(texts.word("match.value", v) for v in values)


def describe(reason: MatchReason | None, texts: Texts) -> str:
    """One line for people: `по названию, оценка 93, отрыв 12; нет в названии: энергия 2.7`."""
    if reason is None:
        return ""
    parts = [texts.word("match.rule", reason.rule)]
    if reason.tokens:
        parts[0] += f": {', '.join(reason.tokens)}"
    if reason.candidate:
        parts.append(texts("match.candidate", code=reason.candidate))
    if reason.score is not None:
        parts.append(texts("match.score", score=texts.number(f"{reason.score:.1f}", 1)))
    if reason.margin is not None:
        parts.append(texts("match.margin", margin=texts.number(f"{reason.margin:.1f}", 1)))
    line = ", ".join(parts)
    if reason.conflicts:
        line += f"; {texts('match.conflicts')}: {conflict_note(reason.conflicts, texts)}"
    if reason.missing:
        missing = []
        for item in reason.missing:
            role, _, value = item.partition(" ")
            missing.append(f"{texts.word('match.role', role)} {value}".strip())
        line += f"; {texts('match.missing')}: {', '.join(missing)}"
    return line


def conflict_note(conflicts: Iterable[Conflict], texts: Texts) -> str:
    """A candidate's conflicts in words, for the review file."""
    return "; ".join(
        f"{texts.word('match.role', c.role)} {_values(texts, c.title.split(','))} ≠ "
        f"{_values(texts, c.product.split(','))}"
        for c in conflicts
    )
