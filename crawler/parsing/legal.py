"""A seller's legal details as a marketplace publishes them, checked before they are believed.

An ИНН is kept only when it is one (10 digits for a company, 12 for a person, control digits right): a seller
whose published ИНН is not is unresolved, never guessed. An ОГРН/ОГРНИП that fails its check is dropped, the rest
kept (crawler.parsing.registry_numbers checks the control digits).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from crawler.parsing.registry_numbers import is_ogrn, is_tax_id
from crawler.parsing.text import normalize_space

# What marketplaces print around the numbers: «ИНН: 7701234567», «ОГРН 1027700132195».
_LABEL = re.compile(r"^\s*(?:ИНН|ОГРНИП|ОГРН|INN|OGRNIP|OGRN)\s*[:№]?\s*", re.IGNORECASE)


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
