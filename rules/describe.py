"""How findings describe themselves: money and percentages as strings, the common details, subject lines."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from crawler.i18n import Texts
from rules.base import RuleContext
from storage.queries.rules import OfferState

CENT = Decimal("0.01")
SUBJECT_LIMIT = 512  # alerts.subject


def two_places(value: Decimal | None) -> str | None:
    """A decimal string with two places ("12990.00", "5.00"): money and percentages in alert details."""
    return None if value is None else str(value.quantize(CENT, ROUND_HALF_UP))


def change_pct(value: Decimal, base: Decimal) -> Decimal:
    """(value − base) / base in percent, two places: negative below the base."""
    return ((value - base) * 100 / base).quantize(CENT, ROUND_HALF_UP)


def shown_money(ctx: RuleContext, value: Decimal | None, currency: str | None = "RUB") -> str:
    """Money for a subject line as the messages show it («12 090 ₽», "12,090 RUB")."""
    return Texts(ctx.config.notify.language, ctx.tz).money(value, currency)


def shown_pct(ctx: RuleContext, value: Decimal | None) -> str:
    """A signed percentage for a subject line as the messages show it («−6,93 %», "-6.93%")."""
    return Texts(ctx.config.notify.language, ctx.tz).pct(value)


def local_date(ctx: RuleContext, at: dt.datetime) -> dt.date:
    return at.astimezone(ctx.tz).date()


def offer_details(ctx: RuleContext, offer: OfferState) -> dict[str, Any]:
    """The details every listing alert carries (see the alert contract)."""
    run = ctx.runs[offer.distributor_id]
    return {
        "distributor_code": run.code,
        "distributor_name": run.name,
        "seller_name": offer.seller_name,
        "seller_code": offer.seller_code,
        "seller_authorized": ctx.seller_authorized(offer),
        "url": offer.url,
        "vendor_code": offer.vendor_code,
        "product_name": offer.product_name,
        "category": offer.category,
        "currency": offer.currency,
        "observed_at": offer.observed_at.isoformat(),
        "region": offer.region,
        "legal_entity": legal_entity(offer),
    }


def legal_entity(offer: OfferState) -> dict[str, str | None] | None:
    """The seller's legal entity as alert details give it, or None when none is known."""
    if offer.legal_tax_id is None:
        return None
    return {"tax_id": offer.legal_tax_id, "ogrn": offer.legal_ogrn, "name": offer.legal_name}


def say(ctx: RuleContext, templates: Mapping[str, str], **values: Any) -> str:
    """A text in the config's language (`notify.language`; English when a template lacks it)."""
    return templates.get(ctx.language, templates["en"]).format(**values)


def subject(ctx: RuleContext, templates: Mapping[str, str], **values: Any) -> str:
    """The subject line, cut to what the column holds."""
    text = say(ctx, templates, **values)
    return text if len(text) <= SUBJECT_LIMIT else text[: SUBJECT_LIMIT - 1] + "…"
