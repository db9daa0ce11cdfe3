"""`pricewatch match review|apply`: uncertain offers out to a person with candidates, decisions back in for good."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pricewatch.cli.common import config_option, db_option, format_option, get_config
from pricewatch.cli.tables import Col, Kind, format_from_path, write_table

if TYPE_CHECKING:
    from crawler.i18n import Texts
    from pipelines.matching import Candidate, CatalogIndex
    from storage.queries.matching import CatalogProduct, Decision, ReviewListing
    from storage.tabular import Header, Row

CANDIDATES = 3
NOT_OURS = frozenset({"-", "—", "–", "не наш", "ненаш", "нет", "not ours", "none"})
# (key, Russian header, English header, kind, width); `apply` finds columns by either header.
_FIXED: tuple[tuple[str, str, str, Kind, int], ...] = (
    ("distributor", "Дистрибьютор", "Distributor", "text", 14),
    ("url", "Ссылка", "URL", "text", 50),
    ("sellers", "Продавцы", "Sellers", "text", 20),
    ("title", "Название на сайте", "Title", "text", 50),
    ("offer_vendor_code", "Артикул на сайте", "Offer vendor code", "text", 14),
    ("offer_gtin", "EAN на сайте", "Offer GTIN", "text", 16),
    ("current", "Сопоставлен сейчас", "Matched now", "text", 14),
    ("method", "Способ", "Method", "text", 10),
    ("confidence", "Уверенность", "Confidence", "number", 10),
    ("reason", "Почему так", "Why", "text", 45),
    ("price_suspect", "Сомнительная цена", "Suspect price", "text", 10),
)
_DECISION = ("decision", "Решение: артикул или «-» (не наш)", "Decision: vendor code or '-' (not ours)")


@dataclass(frozen=True)
class _Page:
    """One offer page to review; a marketplace page can hold several sellers' listings."""

    first: ReviewListing
    sellers: tuple[str, ...]
    suspect: bool  # a seller's latest price on it is far from the matched product's RRP


@dataclass(frozen=True)
class _Offer:
    distributor: str
    url: str
    title: str | None
    vendor_code: str | None
    gtin: str | None


def _columns(english: bool) -> list[Col]:
    cols = [Col(key, en if english else ru, kind, width) for key, ru, en, kind, width in _FIXED]
    for n in range(1, CANDIDATES + 1):
        cols += [
            Col(f"c{n}_code", f"Кандидат {n}: артикул" if not english else f"Candidate {n}: vendor code"),
            Col(f"c{n}_name", f"Кандидат {n}: товар" if not english else f"Candidate {n}: product", width=30),
            Col(f"c{n}_score", f"Кандидат {n}: оценка" if not english else f"Candidate {n}: score", "number", 10),
            Col(f"c{n}_note", f"Кандидат {n}: противоречия" if not english else f"Candidate {n}: conflicts", width=25),
        ]
    return [*cols, Col(_DECISION[0], _DECISION[2] if english else _DECISION[1], width=20)]


def _candidates(index: CatalogIndex, offer: _Offer, found: tuple[Candidate, ...]) -> list[Candidate]:
    """The matcher's candidates best first and, short of three, the closest names after them, best first."""
    candidates = sorted(found, key=lambda c: -c.score)
    if len(candidates) < CANDIDATES and offer.title:
        known = {c.product_id for c in candidates}
        candidates += [c for c in index.suggest(offer.title, CANDIDATES) if c.product_id not in known]
    return candidates[:CANDIDATES]


def _row(index: CatalogIndex, page: _Page, texts: Texts) -> dict[str, Any]:
    """One page's row: the offer, its match now and why (as stored by the crawl), and its candidates."""
    from pipelines.match_reason import MatchReason, conflict_note, describe

    listing = page.first
    offer = _Offer(listing.distributor_code, listing.url, listing.title, listing.raw_vendor_code, listing.raw_gtin)
    result = index.match(offer)
    row: dict[str, Any] = {
        "distributor": listing.distributor_code,
        "url": listing.url,
        "sellers": ", ".join(page.sellers),
        "title": listing.title,
        "offer_vendor_code": listing.raw_vendor_code,
        "offer_gtin": listing.raw_gtin,
        "current": listing.vendor_code,
        "method": listing.match_method.value,
        "confidence": listing.match_confidence,
        "reason": describe(MatchReason.from_json(listing.match_reason) or result.reason, texts),
        "price_suspect": page.suspect,
    }
    for n, candidate in enumerate(_candidates(index, offer, result.candidates), start=1):
        row |= {
            f"c{n}_code": candidate.vendor_code,
            f"c{n}_name": candidate.name,
            f"c{n}_score": candidate.score,
            f"c{n}_note": conflict_note(candidate.conflicts, texts),
        }
    return row


@click.group()
def cli() -> None:
    """Offers the matcher was unsure of: review them, and apply a person's decisions."""


@cli.command("review")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="CSV or XLSX file.")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), help="[default: from the --out file name]")
@config_option
@db_option
def review(*, out: Path, fmt: str | None, config_path: str, db_url: str) -> None:
    """Write unmatched and low-confidence offers, and matched ones with a suspect price (far from the product's RRP:
    perhaps the wrong product), with their top candidates; fill the last column and `match apply`.

    Each row says why the offer matched or was refused (rule, score, margin, conflicting or missing numbers) and
    its candidates best first, each with what rules it out. In the decision column write the right vendor code,
    or `-` (or «не наш») for an offer that is not the brand's product; leave it empty to decide later.
    """
    from crawler.errors import UserError
    from crawler.i18n import Texts
    from pipelines.matching import CatalogIndex, MatchSettings
    from storage.engine import make_engine, session_scope
    from storage.queries.matching import listings_to_review, load_aliases, load_catalog, load_overrides

    config = get_config(config_path)
    fmt = format_from_path(out, fmt)
    if fmt == "json":
        raise UserError(f"--out {out}: a review file is CSV or XLSX (a person fills it in)")
    engine = make_engine(db_url, create=False)
    try:
        with session_scope(engine) as session:
            listings = listings_to_review(session, config.matching.review_below_confidence)
            settings = MatchSettings.from_config(config)
            index = CatalogIndex(load_catalog(session), load_overrides(session), settings, load_aliases(session))
    finally:
        engine.dispose()
    pages: dict[tuple[str, str], _Page] = {}
    for listing in listings:
        key = (listing.distributor_code, listing.url)
        page = pages.get(key)
        pages[key] = (
            _Page(listing, (listing.seller_name,), listing.price_suspect)
            if page is None
            else _Page(page.first, (*page.sellers, listing.seller_name), page.suspect or listing.price_suspect)
        )
    texts = Texts(config.notify.language, config.tz)
    rows = [_row(index, page, texts) for page in pages.values()]
    write_table(rows, _columns(config.notify.language == "en"), out, fmt)
    click.echo(f"{len(rows)} offers to review written to {out}")


def _decisions(
    header: Header, rows: list[Row], catalog: list[CatalogProduct], distributors: set[str]
) -> list[Decision]:
    """Every filled decision row checked; the first mistake is a UserError naming its row and column."""
    from crawler.errors import UserError
    from storage.codes import normalize_vendor_code
    from storage.queries.matching import Decision
    from storage.tabular import cell_text

    by_code = {p.vendor_code.casefold(): p.id for p in catalog}
    by_norm: dict[str, set[int]] = {}
    for p in catalog:
        by_norm.setdefault(p.vendor_code_norm, set()).add(p.id)
    # Required columns: locate_header guarantees each was found.
    d_col, u_col, c_col = (header.columns[name][0] for name in ("distributor", "url", "decision"))
    out: dict[tuple[str, str], tuple[Decision, int]] = {}
    for row in rows:
        text = cell_text(row.get(c_col)).strip()
        if not text:
            continue
        code, url = cell_text(row.get(d_col)).strip(), cell_text(row.get(u_col)).strip()
        if code not in distributors:
            raise UserError(f"{header.where(row, d_col)}: unknown distributor {code!r}")
        if not url:
            raise UserError(f"{header.where(row, u_col)}: the offer's URL is empty")
        if text.casefold() in NOT_OURS:
            product_id = None
        else:
            product_id = by_code.get(text.casefold())
            if product_id is None:
                ids = by_norm.get(normalize_vendor_code(text), set())
                if len(ids) != 1:
                    raise UserError(
                        f"{header.where(row, c_col)}: unknown vendor code {text!r} "
                        "(write a catalog vendor code, or '-' for not ours)"
                    )
                product_id = next(iter(ids))
        decision = Decision(code, url, product_id, note=None if product_id else text)
        previous = out.get((code, url))
        if previous is not None and previous[0].product_id != product_id:
            raise UserError(f"{header.where(row, c_col)}: contradicts row {previous[1]} for the same offer page {url}")
        out[(code, url)] = (decision, row.number)
    return [decision for decision, _ in out.values()]


def _current_user() -> str | None:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in this environment (a container, a service)
        return None


@cli.command("apply")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--by", "decided_by", default=None, help="Who decided [default: the current user].")
@db_option
@format_option("table", "json")
def apply(*, file: Path, decided_by: str | None, db_url: str, fmt: str) -> None:
    """Apply the decisions of a filled-in review file: all rows or none.

    Each decision wins over automatic matching from now on, for its page and for other sellers' pages with the
    same title (an alias); the listings of both are re-pointed at once.
    """
    from crawler.errors import UserError
    from pricewatch.cli.common import emit
    from storage.engine import make_engine, session_scope
    from storage.queries.matching import apply_decisions, distributor_codes, load_catalog
    from storage.tabular import Column, locate_header, read_table

    wanted = [
        Column("distributor", ("distributor", _FIXED[0][1], _FIXED[0][2]), required=True),
        Column("url", ("url", _FIXED[1][1], _FIXED[1][2]), required=True),
        Column("decision", ("decision", "решение", _DECISION[1], _DECISION[2]), required=True),
    ]
    sheet = read_table(file)
    header = locate_header(sheet, wanted)
    engine = make_engine(db_url, create=False)
    try:
        with session_scope(engine) as session:
            decisions = _decisions(header, header.data, load_catalog(session), distributor_codes(session))
            if not decisions:
                raise UserError(f"{sheet.source}: no decisions filled in (column {_DECISION[1]!r})")
            changed = apply_decisions(session, decisions, decided_by or _current_user())
    finally:
        engine.dispose()
    ours = sum(1 for d in decisions if d.product_id is not None)
    summary = {"decisions": len(decisions), "matched": ours, "not_ours": len(decisions) - ours, "listings": changed}
    if fmt == "json":
        emit([summary], fmt)
    else:
        click.echo(
            f"{len(decisions)} decisions stored ({ours} matched, {len(decisions) - ours} not ours); "
            f"{changed} listings re-pointed"
        )
