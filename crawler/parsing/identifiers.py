"""Vendor codes and barcodes as shops print them: labels and prefixes taken off (`Артикул: AB-1210` → `AB-1210`).

A selector that matches the whole «Артикул: AB-1210» element, a feed column or a JSON-LD `mpn` holding
«Model: GSR 18V-50» give the code with its label; matching compares codes, so the label goes at the edge.
"""

from __future__ import annotations

import re

from crawler.parsing.text import normalize_space

# Labels; each must be followed by a separator (`:`, `.`, `№`, a dash between spaces) or a space: `SKU-550`
# and `MODEL-X1` are codes, not labels.
_LABELS = (
    "артикул производителя",
    "артикул поставщика",
    "артикул товара",
    "артикул",
    "арт",
    "код производителя",
    "код модели",
    "код товара",
    "код",
    "каталожный номер",
    "партномер",
    "парт-номер",
    "модель",
    "model",
    "модификация",
    "mpn",
    "sku",
    "part number",
    "part no",
    "p/n",
    "pn",
    "vendor code",
    "manufacturer part number",
    "штрихкод",
    "штрих-код",
    "штрих код",
    "barcode",
    "ean-13",
    "ean13",
    "ean",
    "gtin",
)
_LABEL = re.compile(
    r"^\s*(?:" + "|".join(re.escape(label) for label in sorted(_LABELS, key=len, reverse=True)) + r")"
    r"(?:\s*[:.№#]+\s*|\s+[-–—]\s*|\s+|$)",
    re.IGNORECASE,
)
_WRAPPING = " \t\"'«»()[]{}:;,"


def clean_identifier(raw: str | None) -> str | None:
    """A vendor code or GTIN without its label, quotes and brackets; None when nothing is left."""
    if raw is None:
        return None
    text = normalize_space(raw).strip(_WRAPPING)
    for _ in range(2):  # «Артикул: Арт. 123» is seen
        stripped = _LABEL.sub("", text, count=1).strip(_WRAPPING)
        if stripped == text:
            break
        text = stripped
    return text or None
