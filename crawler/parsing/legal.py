"""A seller's legal details as a marketplace publishes them, checked before they are believed.

An ИНН is kept only when it is one (10 digits for a company, 12 for a person, control digits right): a seller
whose published ИНН is not is unresolved, never guessed. An ОГРН/ОГРНИП that fails its check is dropped, the rest
kept. The control digits follow the Federal Tax Service's published algorithms (ru.wikipedia.org
«Идентификационный номер налогоплательщика», «Основной государственный регистрационный номер»).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from crawler.parsing.text import normalize_space

_TAX_ID = re.compile(r"\d{10}|\d{12}")
_OGRN = re.compile(r"\d{13}|\d{15}")
_WEIGHTS_10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_WEIGHTS_11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_WEIGHTS_12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
# What marketplaces print around the numbers: «ИНН: 7701234567», «ОГРН 1027700132195».
_LABEL = re.compile(r"^\s*(?:ИНН|ОГРНИП|ОГРН|INN|OGRNIP|OGRN)\s*[:№]?\s*", re.IGNORECASE)


def _control(weights: tuple[int, ...], digits: str) -> int:
    return sum(w * int(d) for w, d in zip(weights, digits, strict=False)) % 11 % 10


def is_tax_id(value: str) -> bool:
    """An ИНН: 10 digits (a company) or 12 (a person) whose control digits match."""
    if not _TAX_ID.fullmatch(value):
        return False
    if len(value) == 10:
        return _control(_WEIGHTS_10, value) == int(value[9])
    return _control(_WEIGHTS_11, value) == int(value[10]) and _control(_WEIGHTS_12, value) == int(value[11])


def is_ogrn(value: str) -> bool:
    """An ОГРН (13 digits) or ОГРНИП (15) whose control digit matches (the rest mod 11 or 13, mod 10)."""
    if not _OGRN.fullmatch(value):
        return False
    return int(value[:-1]) % (11 if len(value) == 13 else 13) % 10 == int(value[-1])


def _number(raw: str | None) -> str | None:
    """A registration number without its label and spaces: «ИНН: 7701 234 567» → "7701234567"."""
    if raw is None:
        return None
    return re.sub(r"\s+", "", _LABEL.sub("", normalize_space(raw))) or None


@dataclass(frozen=True)
class LegalDetails:
    """Who is behind a storefront: ИНН (always a valid one), ОГРН/ОГРНИП, legal name, address, and the URL read."""

    tax_id: str
    ogrn: str | None
    legal_name: str | None
    address: str | None
    source: str

    def as_dict(self) -> dict[str, str | None]:
        """The offer's `seller_legal`."""
        return {
            "tax_id": self.tax_id,
            "ogrn": self.ogrn,
            "legal_name": self.legal_name,
            "address": self.address,
            "source": self.source,
        }


def legal_details(values: Mapping[str, str | None], source: str) -> LegalDetails | str:
    """The details out of the texts read per field (tax_id, ogrn, legal_name, address), or why there are none."""
    raw_tax_id = values.get("tax_id")
    tax_id = _number(raw_tax_id)
    if tax_id is None:
        return "no ИНН"
    if not is_tax_id(tax_id):
        return f"ИНН {raw_tax_id!r} is not a valid ИНН (10 or 12 digits with matching control digits)"
    ogrn = _number(values.get("ogrn"))
    name, address = values.get("legal_name"), values.get("address")
    return LegalDetails(
        tax_id=tax_id,
        ogrn=ogrn if ogrn is not None and is_ogrn(ogrn) else None,
        legal_name=normalize_space(name) or None if name else None,
        address=normalize_space(address) or None if address else None,
        source=source,
    )
