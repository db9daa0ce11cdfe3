"""The violations report as a PDF for a negotiation: HTML from a Jinja2 template, laid out by WeasyPrint.

A cover page (the brand, what the report covers, its period and totals, the contents with page numbers), then one
section per distributor (`--distributor all` gives every distributor with something to show its own section, after
an overview table), the methodology, and an annex with every screenshot at full resolution, stamped with its URL,
time and hash; the tables refer to it by number and page. Charts are SVG (vector); every time is in the config's
zone, evidence times in UTC too. Words break only by the language's hyphenation. The PDF stays readable and quick
at any size: a report
charts at most `MAX_CHARTS` SKUs and lists at most `MAX_ROWS` violations (the deepest first) and as many stock-out
rows (the largest lost sales first), shared between its sections (each keeps at least `MIN_CHARTS` / `MIN_ROWS`),
and says what it left out; the XLSX and CSV carry every row. Saved page HTML is only ever linked, never rendered.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import jinja2

from crawler.links import EvidenceKind, evidence_path, packet_path, panel_url, violation_path
from reports.annex import AnnexEntry, Tile, anchor, build_annex
from reports.charts import price_chart_svg
from reports.data import (
    OFFENDER_RULES,
    DistributorSummary,
    EvidenceFile,
    HistorySeries,
    Offender,
    PriceSplit,
    ReportData,
    StockRow,
    Violation,
)
from reports.labels import ReportTexts, storefronts_text
from storage.queries.compliance import ComplianceRow

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).with_name("templates")
MAX_CHARTS = 8  # per report
MAX_ROWS = 100
MIN_CHARTS = 3  # per section, however many sections share the report's budget
MIN_ROWS = 25


@dataclass(frozen=True)
class _EvidenceLink:
    label: str
    link: str
    captured: str
    sha256: str
    missing: bool


@dataclass(frozen=True)
class _Row:
    violation: Violation
    href: str | None  # only http(s) pages become links
    annex: str | None  # the label of its screenshot in the annex ("A1")
    evidence: list[_EvidenceLink]
    panel: str | None = None  # the violation's page on the panel (`web.base_url`)
    packet: str | None = None  # its evidence packet (zip) there


@dataclass(frozen=True)
class _Section:
    summary: DistributorSummary
    charts: list[str]  # data: URIs
    charts_note: str | None
    stock: list[StockRow]
    stock_note: str | None
    rows: list[_Row]
    table_note: str | None
    offenders: list[Offender]  # the marketplace findings by legal entity (a distributor's: its buyers' too)
    offenders_note: str | None
    split: PriceSplit | None  # None: no marketplace dumping and no platform discount to split
    platform: list[Violation]  # the platform discounts shown
    platform_note: str | None
    bought: list[Violation]  # the marketplace findings of the legal entities buying from the distributor, shown
    bought_note: str | None


@dataclass(frozen=True)
class _Figure:
    value: str
    label: str
    alarm: bool = False


@dataclass(frozen=True)
class _ContentsEntry:
    title: str
    anchor: str


@dataclass(frozen=True)
class _Cover:
    brand: str | None
    figures: list[_Figure]
    contents: list[_ContentsEntry]


@dataclass(frozen=True)
class _AnnexView:
    """An annex entry as the template shows it."""

    label: str
    anchor: str
    title: str
    file: EvidenceFile
    captured_local: str
    captured_utc: str
    unstamped_sha256: str | None
    missing: bool
    tiles: list[Tile]
    cut: bool


def _svg_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


class _Builder:
    def __init__(self, data: ReportData, texts: ReportTexts, link_base: Path) -> None:
        self.data = data
        self.t = texts
        self.link_base = link_base
        self._annexed: dict[str, str] = {}  # screenshot SHA-256 → its annex label
        self._shown: list[Violation] = []  # the violations the tables show, in order

    def captured(self, moment: dt.datetime) -> str:
        """`03.12.2026 07:05 MSK (04:05:13 UTC)`: the config's zone first, UTC beside it."""
        return f"{self.t.when(moment)} ({moment.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC)"

    def share(self, value: Decimal | None) -> str:
        if value is None:
            return self.t("none")
        return self.t.pct((value * 100).quantize(Decimal("0.1"), ROUND_HALF_UP), signed=False)

    def _evidence(self, v: Violation, kind: EvidenceKind, label: str) -> _EvidenceLink | None:
        """The evidence file's link: its page on the panel when `web.base_url` is set, else the file."""
        file = v.screenshot if kind == "screenshot" else v.html
        if file is None:
            return None
        return _EvidenceLink(
            label=label,
            link=panel_url(self.data.panel_url, evidence_path(v.alert_id, kind)) or file.link_from(self.link_base),
            captured=self.captured(file.captured_at),
            sha256=file.sha256,
            missing=not file.path.is_file(),
        )

    def _annex_label(self, v: Violation) -> str | None:
        """The label of the violation's screenshot in the annex, numbered as the tables first refer to it."""
        self._shown.append(v)
        if v.screenshot is None:
            return None
        return self._annexed.setdefault(v.screenshot.sha256, f"A{len(self._annexed) + 1}")

    def _row(self, v: Violation) -> _Row:
        links = [self._evidence(v, "screenshot", "PNG"), self._evidence(v, "html", "HTML (gzip)")]
        evidence = [e for e in links if e is not None]
        return _Row(
            violation=v,
            href=v.url if v.url.lower().startswith(("http://", "https://")) else None,
            annex=self._annex_label(v),
            evidence=evidence,
            panel=panel_url(self.data.panel_url, violation_path(v.alert_id)),
            packet=panel_url(self.data.panel_url, packet_path(v.alert_id)) if evidence else None,
        )

    def _charts(self, section: ReportData, limit: int) -> tuple[list[str], str | None]:
        by_product: dict[object, list[HistorySeries]] = defaultdict(list)
        for listing_id in section.top_listing_ids:
            series = section.history.get(listing_id)
            if series is not None:
                by_product[series.vendor_code or listing_id].append(series)
        skus = list(by_product.items())
        charts = []
        for _key, group in skus[:limit]:
            first = group[0]
            title = f"{first.vendor_code or ''} {first.product_name or ''}".strip() or first.url
            period = (self.data.period.date_from, self.data.period.date_to)
            charts.append(_svg_uri(price_chart_svg(group, self.t, title, period)))
        note = self.t("note.charts_limited", shown=limit, total=len(skus)) if len(skus) > limit else None
        return charts, note

    def section(self, code: str, sections: int) -> _Section:
        part = self.data.section(code)
        charts, charts_note = self._charts(part, max(MIN_CHARTS, MAX_CHARTS // sections))
        rows = max(MIN_ROWS, MAX_ROWS // sections)
        total = len(part.violations)
        # Deepest first; violations without a deviation (parallel import without an RRP) after them.
        shown = part.violations[:rows]
        note = self.t("note.table_limited", shown=rows, total=total) if total > rows else None
        # Only "legal entity not established" says nothing the violations table does not (no seller's legal details
        # read, none in the config): the section shows once some entity is known.
        offenders = part.offenders()
        offenders = offenders if any(o.entity for o in offenders) else []
        split = part.price_split()
        bought = [v for v in part.bought if v.distributor_code != code]  # a marketplace's own are above
        return _Section(
            summary=part.summaries[0],
            charts=charts,
            charts_note=charts_note,
            stock=part.stock[:rows],  # largest lost sales first
            stock_note=self.t("note.stock_limited", shown=rows, total=len(part.stock))
            if len(part.stock) > rows
            else None,
            rows=[self._row(v) for v in shown],
            table_note=note,
            offenders=offenders[:rows],
            offenders_note=self._limited(rows, len(offenders)),
            split=split if _splits(split, part.violations) else None,
            platform=split.platform_discounts[:rows],
            platform_note=self._limited(rows, len(split.platform_discounts)),
            bought=bought[:rows],
            bought_note=self._limited(rows, len(bought)),
        )

    def _limited(self, shown: int, total: int) -> str | None:
        return self.t("note.rows_limited", shown=shown, total=total) if total > shown else None

    def cover(self, sections: Sequence[_Section], annex: Sequence[_AnnexView]) -> _Cover:
        """The cover's totals over every distributor of the report, and its contents."""
        t, data = self.t, self.data
        deviations = [v.deviation_pct for v in data.violations if v.rule == "dumping" and v.deviation_pct is not None]
        lost = [s.lost_sales for s in data.summaries if s.lost_sales is not None]
        figures = [
            _Figure(str(len(data.violations)), t("col.violations"), alarm=bool(data.violations)),
            _Figure(str(len({v.product_id for v in data.violations if v.product_id})), t("col.skus_in_violation")),
            _Figure(t.pct(min(deviations, default=None)), t("col.deepest_deviation"), alarm=bool(deviations)),
            _Figure(str(sum(s.violation_days for s in data.summaries)), t("col.violation_days")),
            _Figure(str(sum(s.repeat_offences for s in data.summaries)), t("col.repeat_offences")),
            _Figure(str(sum(s.stock_out_days for s in data.summaries)), t("col.stock_out_days")),
            _Figure(t.money(sum(lost, Decimal(0)) if lost else None), t("col.lost_sales"), alarm=bool(lost)),
        ]
        contents = [_ContentsEntry(t("report.overview"), "overview")] if len(data.summaries) > 1 else []
        contents += [
            _ContentsEntry(
                t("report.distributor", name=s.summary.name, code=s.summary.code), f"section-{s.summary.code}"
            )
            for s in sections
        ]
        contents.append(_ContentsEntry(t("report.definitions"), "definitions"))
        if annex:
            contents.append(_ContentsEntry(t("report.annex"), "annex"))
        return _Cover(data.brand, figures, contents)

    def annex(self) -> list[_AnnexView]:
        """The screenshots of the violations the tables show, as the annex lists them."""
        return [self._annex_view(entry) for entry in build_annex(self._shown)]

    def _annex_view(self, entry: AnnexEntry) -> _AnnexView:
        first = entry.violations[0]
        sellers = ", ".join(dict.fromkeys(v.seller_name for v in entry.violations))
        product = f"{first.vendor_code or ''} {first.product_name or ''}".strip()
        rules = ", ".join(dict.fromkeys(self.t.word("rule", v.rule) for v in entry.violations))
        moment = entry.file.captured_at
        return _AnnexView(
            label=entry.label,
            anchor=anchor(entry.label),
            title=f"{product} — {sellers} ({first.distributor_name}): {rules}",
            file=entry.file,
            captured_local=self.t.when(moment),
            captured_utc=f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC",
            unstamped_sha256=entry.unstamped_sha256,
            missing=not entry.file.path.is_file(),
            tiles=entry.tiles,
            cut=entry.cut,
        )

    def entity_name(self, o: Offender) -> str:
        return o.entity.legal_name or o.entity.tax_id if o.entity else self.t("entity.unknown")

    def html(self) -> str:
        summaries = self.data.summaries
        if len(summaries) == 1:
            scope = self.t("report.distributor", name=summaries[0].name, code=summaries[0].code)
            codes = [summaries[0].code]
        else:
            scope = self.t("report.all")
            # Every distributor is in the overview; only those with something to show get a section.
            with_findings = {v.distributor_code for v in self.data.findings} | {
                v.supplier_code for v in self.data.bought
            }
            codes = [s.code for s in summaries if s.violations or s.stock_out_days or s.code in with_findings]
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        sections = [self.section(code, len(codes)) for code in codes]
        annex = self.annex()
        return env.get_template("violations.html.j2").render(
            t=self.t,
            share=self.share,
            storefronts=lambda o: storefronts_text(o.storefronts, self.t),
            offender_rules=OFFENDER_RULES,
            entity_name=self.entity_name,
            scope=scope,
            period=self.data.period,
            generated_at=self.data.generated_at,
            overview=summaries if len(summaries) > 1 else None,
            sections=sections,
            cover=self.cover(sections, annex),
            annex=annex,
            compliance=[
                (self.t(title), _active(rows))
                for title, rows in (
                    ("report.compliance_weeks", self.data.compliance_weeks),
                    ("report.compliance_months", self.data.compliance_months),
                )
                if _active(rows)
            ],
        )


def _splits(split: PriceSplit, violations: Sequence[Violation]) -> bool:
    """Whether there is a split to show: a platform discount, or marketplace dumping read with the seller's price."""
    return bool(split.platform_discounts) or any(
        v.rule == "dumping" and v.marketplace and v.seller_price is not None for v in violations
    )


def _active(rows: Sequence[ComplianceRow]) -> list[ComplianceRow]:
    """The compliance rows with anything to show (a distributor neither crawled nor notified that period: none)."""
    return [
        r
        for r in rows
        if r.watched_listings or r.violations_opened or r.notices_sent or r.median_hours_to_fix is not None
    ]


def render_html(data: ReportData, texts: ReportTexts, link_base: Path) -> str:
    """The report as one self-contained HTML document (images inlined)."""
    return _Builder(data, texts, link_base).html()


def render_pdf(data: ReportData, texts: ReportTexts, link_base: Path) -> bytes:
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    html = render_html(data, texts, link_base)
    # Only inlined data: images are loaded; links to pages and evidence stay links.
    fetcher = URLFetcher(allowed_protocols={"data"})
    pdf: bytes = HTML(string=html, url_fetcher=fetcher).write_pdf()
    return pdf
