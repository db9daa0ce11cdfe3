"""The violations report as a PDF for a negotiation: HTML from a Jinja2 template, laid out by WeasyPrint.

One section per distributor (`--distributor all` gives every distributor with something to show its own section,
each starting on a new page, after an overview table). The PDF stays readable and quick at any size: a report
charts at most `MAX_CHARTS` SKUs and lists at most `MAX_ROWS` violations (the deepest first) and as many stock-out
rows (the largest lost sales first), shared between its sections (each keeps at least `MIN_CHARTS` / `MIN_ROWS`),
and says what it left out; the XLSX and CSV carry every row. Saved page HTML is only ever linked, never rendered.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import logging
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import jinja2
from PIL import Image, UnidentifiedImageError

from reports.charts import price_chart_png
from reports.data import DistributorSummary, EvidenceFile, HistorySeries, ReportData, StockRow, Violation
from reports.labels import ReportTexts

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).with_name("templates")
MAX_CHARTS = 8  # per report
MAX_ROWS = 100
MIN_CHARTS = 3  # per section, however many sections share the report's budget
MIN_ROWS = 25
THUMBNAIL_WIDTH = 240  # px


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
    thumbnail: str | None  # data: URI
    evidence: list[_EvidenceLink]


@dataclass(frozen=True)
class _Section:
    summary: DistributorSummary
    charts: list[str]  # data: URIs
    charts_note: str | None
    stock: list[StockRow]
    stock_note: str | None
    rows: list[_Row]
    table_note: str | None


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _thumbnail(file: EvidenceFile) -> str | None:
    """The top of a full-page screenshot, scaled down; None when the file is gone or not an image."""
    try:
        with Image.open(file.path) as image:
            width, height = image.size
            top = image.crop((0, 0, width, min(height, width * 3 // 4)))
            top.thumbnail((THUMBNAIL_WIDTH, THUMBNAIL_WIDTH))
            out = io.BytesIO()
            top.convert("RGB").save(out, format="PNG", optimize=True)
    except (OSError, UnidentifiedImageError) as exc:
        log.warning("evidence screenshot %s: %s", file.path, exc)
        return None
    return _data_uri(out.getvalue())


class _Builder:
    def __init__(self, data: ReportData, texts: ReportTexts, link_base: Path) -> None:
        self.data = data
        self.t = texts
        self.link_base = link_base
        self._thumbs: dict[Path, str | None] = {}

    def share(self, value: Decimal | None) -> str:
        if value is None:
            return self.t("none")
        return self.t.pct((value * 100).quantize(Decimal("0.1"), ROUND_HALF_UP), signed=False)

    def _evidence(self, file: EvidenceFile | None, label: str) -> _EvidenceLink | None:
        if file is None:
            return None
        return _EvidenceLink(
            label=label,
            link=file.link_from(self.link_base),
            captured=file.captured_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
            sha256=file.sha256,
            missing=not file.path.is_file(),
        )

    def _row(self, v: Violation) -> _Row:
        thumb = None
        if v.screenshot is not None:
            if v.screenshot.path not in self._thumbs:
                self._thumbs[v.screenshot.path] = _thumbnail(v.screenshot)
            thumb = self._thumbs[v.screenshot.path]
        links = [self._evidence(v.screenshot, "PNG"), self._evidence(v.html, "HTML (gzip)")]
        return _Row(
            violation=v,
            href=v.url if v.url.lower().startswith(("http://", "https://")) else None,
            thumbnail=thumb,
            evidence=[e for e in links if e is not None],
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
            charts.append(_data_uri(price_chart_png(group, self.t, title)))
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
        )

    def html(self) -> str:
        summaries = self.data.summaries
        if len(summaries) == 1:
            scope = self.t("report.distributor", name=summaries[0].name, code=summaries[0].code)
            codes = [summaries[0].code]
        else:
            scope = self.t("report.all")
            # Every distributor is in the overview; only those with something to show get a section.
            codes = [s.code for s in summaries if s.violations or s.stock_out_days]
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        return env.get_template("violations.html.j2").render(
            t=self.t,
            share=self.share,
            scope=scope,
            period=self.data.period,
            generated_at=self.data.generated_at,
            overview=summaries if len(summaries) > 1 else None,
            sections=[self.section(code, len(codes)) for code in codes],
        )


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
