"""The violations report as an Excel workbook: summary, violations, price history, stock, native charts,
compliance, offenders by legal entity and platform discounts."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import xlsxwriter
from xlsxwriter.chart import Chart
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from crawler.links import EvidenceKind, evidence_path, panel_url
from reports.cells import escape_formula
from reports.data import OFFENDER_RULES, DistributorSummary, HistorySeries, Offender, ReportData, StockRow, Violation
from reports.labels import ReportTexts, storefronts_text

MONEY_FORMAT = '#,##0.00 "₽"'  # Russian Excel shows it as `# ##0,00 ₽`
LINE_CHARTS = 6  # price-vs-RRP charts for the most deeply violated listings
MAX_URL = 2079  # Excel's limit; longer URLs are written as text
CHART_DATA_COL = 23  # the chart data sits to the right of two columns of charts

_Row = TypeVar("_Row")


def render_xlsx(data: ReportData, texts: ReportTexts, link_base: Path) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    _Writer(workbook, data, texts, link_base).write()
    workbook.close()
    return buffer.getvalue()


@dataclass(frozen=True)
class _Column:
    title: str
    width: float


class _Writer:
    def __init__(self, workbook: Workbook, data: ReportData, texts: ReportTexts, link_base: Path) -> None:
        self.wb = workbook
        self.data = data
        self.t = texts
        self.link_base = link_base
        ru = texts.language == "ru"
        self.f: dict[str, Format] = {
            "title": workbook.add_format({"bold": True, "font_size": 14}),
            "header_date": workbook.add_format(
                {"bold": True, "bg_color": "#DDEBF7", "border": 1, "num_format": "dd.mm.yyyy" if ru else "yyyy-mm-dd"}
            ),
            "header": workbook.add_format(
                {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"}
            ),
            "money": workbook.add_format({"num_format": MONEY_FORMAT}),
            "money_below": workbook.add_format({"num_format": MONEY_FORMAT, "bg_color": "#F8CBAD"}),
            "pct": workbook.add_format({"num_format": "0.00%"}),
            "share": workbook.add_format({"num_format": "0.0%"}),
            "int": workbook.add_format({"num_format": "0"}),
            "units": workbook.add_format({"num_format": "0.00"}),
            "datetime": workbook.add_format({"num_format": "dd.mm.yyyy hh:mm" if ru else "yyyy-mm-dd hh:mm"}),
            "date": workbook.add_format({"num_format": "dd.mm.yyyy" if ru else "yyyy-mm-dd"}),
            "wrap": workbook.add_format({"text_wrap": True, "valign": "top"}),
            "link": workbook.get_default_url_format(),
        }

    def write(self) -> None:
        t = self.t
        summary = self.wb.add_worksheet(t("sheet.summary"))
        violations = self.wb.add_worksheet(t("sheet.violations"))
        history = self.wb.add_worksheet(t("sheet.history"))
        stock = self.wb.add_worksheet(t("sheet.stock"))
        charts = self.wb.add_worksheet(t("sheet.charts"))
        compliance = self.wb.add_worksheet(t("sheet.compliance"))
        offenders = self.wb.add_worksheet(t("sheet.offenders"))
        platform = self.wb.add_worksheet(t("sheet.platform"))
        self._summary(summary)
        self._violations(violations)
        self._history(history)
        self._stock(stock)
        self._charts(charts)
        self._compliance(compliance)
        self._offenders(offenders)
        self._platform(platform)

    # cell helpers -------------------------------------------------------------------------------------------------

    def _text(self, ws: Worksheet, row: int, col: int, value: str | None, fmt: Format | None = None) -> None:
        if value is None or value == "":
            ws.write_blank(row, col, None, fmt)
        else:
            ws.write_string(row, col, escape_formula(value), fmt)

    def _num(self, ws: Worksheet, row: int, col: int, value: Decimal | int | None, fmt: str) -> None:
        if value is None:
            ws.write_blank(row, col, None, self.f[fmt])
        else:
            ws.write_number(row, col, float(value), self.f[fmt])

    def _pct(self, ws: Worksheet, row: int, col: int, value: Decimal | None) -> None:
        self._num(ws, row, col, None if value is None else value / 100, "pct")

    def _time(self, ws: Worksheet, row: int, col: int, value: dt.datetime) -> None:
        ws.write_datetime(row, col, self.data.period.local(value).replace(tzinfo=None), self.f["datetime"])

    def _url(self, ws: Worksheet, row: int, col: int, url: str, label: str | None = None) -> None:
        if url.lower().startswith(("http://", "https://")) and len(url) <= MAX_URL:
            ws.write_url(row, col, url, self.f["link"], escape_formula(label or url))
        else:
            self._text(ws, row, col, url)

    def _file_link(self, ws: Worksheet, row: int, col: int, v: Violation, kind: EvidenceKind) -> None:
        """The violation's evidence file: its page on the panel when `web.base_url` is set, else the file."""
        file, label = (v.screenshot, "PNG") if kind == "screenshot" else (v.html, "HTML")
        if file is None:
            ws.write_blank(row, col, None)
            return
        panel = panel_url(self.data.panel_url, evidence_path(v.alert_id, kind))
        if panel is not None:
            self._url(ws, row, col, panel, label)
            return
        link = file.link_from(self.link_base)
        if len(link) > MAX_URL:
            self._text(ws, row, col, link)
        else:
            ws.write_url(row, col, "external:" + link, self.f["link"], label, tip=link)

    def _header(self, ws: Worksheet, row: int, columns: Sequence[_Column]) -> None:
        for col, column in enumerate(columns):
            ws.set_column(col, col, column.width)
            ws.write_string(row, col, column.title, self.f["header"])

    def _table(
        self,
        ws: Worksheet,
        head: int,
        columns: Sequence[_Column],
        rows: Sequence[_Row],
        write_row: Callable[[int, _Row], None],
    ) -> None:
        """Header at row `head`, one row per item below it; the header stays in view and filters the rows.

        Rows are written top to bottom because the workbook is in constant-memory mode.
        """
        self._header(ws, head, columns)
        for r, item in enumerate(rows, start=head + 1):
            write_row(r, item)
        ws.freeze_panes(head + 1, 0)
        ws.autofilter(head, 0, head + max(len(rows), 1), len(columns) - 1)

    # sheets -------------------------------------------------------------------------------------------------------

    def _title_block(self, ws: Worksheet) -> None:
        t, period = self.t, self.data.period
        codes = {s.code for s in self.data.summaries}
        scope = (
            t("report.distributor", name=self.data.summaries[0].name, code=self.data.summaries[0].code)
            if len(codes) == 1
            else t("report.all")
        )
        ws.write_string(0, 0, escape_formula(f"{t('report.title')} — {scope}"), self.f["title"])
        ws.write_string(
            1,
            0,
            t("report.period", start=t.date(period.date_from), end=t.date(period.date_to), tz=period.tz.key),
        )
        ws.write_string(2, 0, t("report.generated", when=t.when(self.data.generated_at)))

    def _summary(self, ws: Worksheet) -> None:
        t = self.t
        self._title_block(ws)
        columns = [
            _Column(t("col.distributor"), 28),
            _Column(t("col.code"), 14),
            _Column(t("col.skus_watched"), 12),
            _Column(t("col.skus_in_violation"), 12),
            _Column(t("col.violations"), 12),
            _Column(t("col.avg_deviation"), 12),
            _Column(t("col.deepest_deviation"), 12),
            _Column(t("col.violation_days"), 12),
            _Column(t("col.repeat_offences"), 12),
            _Column(t("col.weekend_share"), 12),
            _Column(t("col.night_share"), 12),
            _Column(t("col.stock_out_days"), 12),
            _Column(t("col.lost_sales"), 18),
        ]
        head = 4

        def write_row(i: int, s: DistributorSummary) -> None:
            self._text(ws, i, 0, s.name)
            self._text(ws, i, 1, s.code)
            self._num(ws, i, 2, s.skus_watched, "int")
            self._num(ws, i, 3, s.skus_in_violation, "int")
            self._num(ws, i, 4, s.violations, "int")
            self._pct(ws, i, 5, s.avg_deviation_pct)
            self._pct(ws, i, 6, s.deepest_deviation_pct)
            self._num(ws, i, 7, s.violation_days, "int")
            self._num(ws, i, 8, s.repeat_offences, "int")
            self._num(ws, i, 9, s.weekend_share, "share")
            self._num(ws, i, 10, s.night_share, "share")
            self._num(ws, i, 11, s.stock_out_days, "int")
            self._num(ws, i, 12, s.lost_sales, "money")

        rows = self.data.summaries
        self._table(ws, head, columns, rows, write_row)
        below = head + len(rows) + 2
        if rows:
            chart = self.wb.add_chart({"type": "bar"})
            chart.add_series(
                {
                    "name": t("col.violations"),
                    "categories": [ws.get_name(), head + 1, 0, head + len(rows), 0],
                    "values": [ws.get_name(), head + 1, 4, head + len(rows), 4],
                    "data_labels": {"value": True},
                }
            )
            chart.set_title({"name": t("chart.per_distributor")})
            chart.set_legend({"none": True})
            chart.set_size({"width": 720, "height": max(240, 40 * len(rows) + 120)})
            ws.insert_chart(below, 0, chart)
            below += max(14, 2 * len(rows) + 8)
        ws.write_string(below, 0, t("report.definitions"), self.f["title"])
        for offset, key in enumerate(("def.violation", "def.days", "def.shares", "def.history", "def.stock"), start=1):
            ws.write_string(below + offset, 0, t(key))

    def _violations(self, ws: Worksheet) -> None:
        t = self.t
        columns = [
            _Column(t("col.distributor"), 22),
            _Column(t("col.seller"), 22),
            _Column(t("col.tax_id"), 13),
            _Column(t("col.authorized"), 10),
            _Column(t("col.region"), 14),
            _Column(t("col.vendor_code"), 14),
            _Column(t("col.product"), 36),
            _Column(t("col.rule"), 18),
            _Column(t("col.severity"), 10),
            _Column(t("col.status"), 11),
            _Column(t("col.rrp"), 14),
            _Column(t("col.price"), 14),
            _Column(t("col.deviation"), 11),
            _Column(t("col.price_basis"), 14),
            _Column(t("col.shown_price"), 14),
            _Column(t("col.seller_price"), 14),
            _Column(t("col.card_price"), 14),
            _Column(t("col.first_seen"), 16),
            _Column(t("col.last_seen"), 16),
            _Column(t("col.days"), 7),
            _Column(t("col.repeat"), 9),
            _Column(t("col.signals"), 28),
            _Column(t("col.url"), 40),
            _Column(t("col.screenshot"), 12),
            _Column(t("col.html"), 10),
            _Column(t("col.captured_utc"), 16),
            _Column(t("col.sha256"), 30),
        ]

        def write_row(r: int, v: Violation) -> None:
            self._text(ws, r, 0, v.distributor_name)
            self._text(ws, r, 1, v.seller_name)
            self._text(ws, r, 2, v.tax_id)
            self._text(ws, r, 3, t("yes") if v.seller_authorized else t("no"))
            self._text(ws, r, 4, v.region_name)
            self._text(ws, r, 5, v.vendor_code)
            self._text(ws, r, 6, v.product_name)
            self._text(ws, r, 7, t.word("rule", v.rule))
            self._text(ws, r, 8, t.word("severity", v.severity))
            self._text(ws, r, 9, t.word("status", v.status))
            self._num(ws, r, 10, v.rrp, "money")
            self._num(ws, r, 11, v.price, "money")
            self._pct(ws, r, 12, v.deviation_pct)
            self._prices(ws, r, 13, v)
            self._time(ws, r, 17, v.first_seen)
            self._time(ws, r, 18, v.last_seen)
            self._num(ws, r, 19, v.days, "int")
            self._num(ws, r, 20, v.repeat_offences, "int")
            self._text(ws, r, 21, ", ".join(t.word("signal", s) for s in v.signals))
            self._url(ws, r, 22, v.url)
            self._file_link(ws, r, 23, v, "screenshot")
            self._file_link(ws, r, 24, v, "html")
            shot = v.screenshot or v.html
            if shot is None:
                ws.write_blank(r, 25, None)
            else:
                ws.write_datetime(r, 25, shot.captured_at.astimezone(dt.UTC).replace(tzinfo=None), self.f["datetime"])
            self._text(ws, r, 26, v.screenshot.sha256 if v.screenshot else None)

        self._table(ws, 0, columns, self.data.violations, write_row)

    def _prices(self, ws: Worksheet, r: int, col: int, v: Violation) -> None:
        """Four cells from `col`: the price basis, then the shown, the seller's and the card price."""
        self._text(ws, r, col, self.t.word("basis", v.price_basis) if v.price_basis else None)
        self._num(ws, r, col + 1, v.shown_price, "money")
        self._num(ws, r, col + 2, v.seller_price, "money")
        self._num(ws, r, col + 3, v.card_price, "money")

    def _finding_columns(self) -> list[_Column]:
        t = self.t
        return [
            _Column(t("col.tax_id"), 13),
            _Column(t("col.legal_entity"), 26),
            _Column(t("col.marketplace"), 16),
            _Column(t("col.seller"), 22),
            _Column(t("col.region"), 14),
            _Column(t("col.vendor_code"), 14),
            _Column(t("col.product"), 36),
            _Column(t("col.rule"), 18),
            _Column(t("col.status"), 11),
            _Column(t("col.rrp"), 14),
            _Column(t("col.price"), 14),
            _Column(t("col.deviation"), 11),
            _Column(t("col.price_basis"), 14),
            _Column(t("col.shown_price"), 14),
            _Column(t("col.seller_price"), 14),
            _Column(t("col.card_price"), 14),
            _Column(t("col.first_seen"), 16),
            _Column(t("col.last_seen"), 16),
            _Column(t("col.url"), 40),
        ]

    def _finding_row(self, ws: Worksheet, r: int, v: Violation, entity: str | None) -> None:
        """A marketplace finding with its legal entity (`entity`: its name as the offenders table shows it)."""
        t = self.t
        self._text(ws, r, 0, v.tax_id)
        self._text(ws, r, 1, entity)
        self._text(ws, r, 2, v.distributor_name)
        self._text(ws, r, 3, v.seller_name)
        self._text(ws, r, 4, v.region_name)
        self._text(ws, r, 5, v.vendor_code)
        self._text(ws, r, 6, v.product_name)
        self._text(ws, r, 7, t.word("rule", v.rule))
        self._text(ws, r, 8, t.word("status", v.status))
        self._num(ws, r, 9, v.rrp, "money")
        self._num(ws, r, 10, v.price, "money")
        self._pct(ws, r, 11, v.deviation_pct)
        self._prices(ws, r, 12, v)
        self._time(ws, r, 16, v.first_seen)
        self._time(ws, r, 17, v.last_seen)
        self._url(ws, r, 18, v.url)

    def _offenders(self, ws: Worksheet) -> None:
        """Who sells below the threshold, by legal entity; the price split above; every finding below."""
        t = self.t
        ws.write_string(0, 0, t("report.offenders"), self.f["title"])
        split = self.data.price_split()
        ws.write_string(
            1, 0, t("note.price_split", seller=split.seller_dumping, platform=len(split.platform_discounts))
        )
        offenders = self.data.offenders()
        if not offenders:
            ws.write_string(3, 0, t("note.no_offenders"))
            return
        columns = [
            _Column(t("col.tax_id"), 13),
            _Column(t("col.legal_entity"), 26),
            _Column(t("col.ogrn"), 16),
            _Column(t("col.supplier"), 18),
            _Column(t("col.authorized"), 11),
            _Column(t("col.storefronts"), 36),
            *(_Column(t.word("rule", rule), 12) for rule in OFFENDER_RULES),
            _Column(t("col.open_now"), 10),
            _Column(t("col.deepest_deviation"), 12),
        ]
        head = 3
        self._header(ws, head, columns)
        for r, o in enumerate(offenders, start=head + 1):
            self._offender_row(ws, r, o)
        title = head + len(offenders) + 2
        ws.write_string(title, 0, t("report.offender_findings"), self.f["title"])
        self._header(ws, title + 1, self._finding_columns())
        rows = [(v, self._entity_name(o)) for o in offenders for v in o.findings]
        for r, (v, name) in enumerate(rows, start=title + 2):
            self._finding_row(ws, r, v, name)
        ws.freeze_panes(head + 1, 0)

    def _entity_name(self, o: Offender) -> str:
        if o.entity is None:
            return self.t("entity.unknown")
        return o.entity.legal_name or o.entity.tax_id

    def _offender_row(self, ws: Worksheet, r: int, o: Offender) -> None:
        t, e = self.t, o.entity
        self._text(ws, r, 0, e.tax_id if e else None)
        self._text(ws, r, 1, self._entity_name(o))
        self._text(ws, r, 2, e.ogrn if e else None)
        self._text(ws, r, 3, e.supplier_name if e else None)
        self._text(ws, r, 4, (t("yes") if e.authorized else t("no")) if e else None)
        self._text(ws, r, 5, storefronts_text(o.storefronts, t))
        for i, rule in enumerate(OFFENDER_RULES, start=6):
            self._num(ws, r, i, o.by_rule.get(rule, 0), "int")
        self._num(ws, r, 6 + len(OFFENDER_RULES), o.open_now, "int")
        self._pct(ws, r, 7 + len(OFFENDER_RULES), o.worst_deviation_pct)

    def _platform(self, ws: Worksheet) -> None:
        """The low prices the platform's discount made (the seller's own price respecting the threshold)."""
        found = self.data.price_split().platform_discounts
        names = {v.alert_id: self._entity_name(o) for o in self.data.offenders() for v in o.findings}

        def write_row(r: int, v: Violation) -> None:
            self._finding_row(ws, r, v, names.get(v.alert_id))

        self._table(ws, 0, self._finding_columns(), found, write_row)
        if not found:
            ws.write_string(2, 0, self.t("note.no_platform_discounts"))

    def _history(self, ws: Worksheet) -> None:
        """One row per violated listing, one column per day: the day's lowest price, red below that day's RRP."""
        t, period = self.t, self.data.period
        columns = [
            _Column(t("col.distributor"), 22),
            _Column(t("col.seller"), 22),
            _Column(t("col.vendor_code"), 14),
            _Column(t("col.product"), 36),
        ]
        self._header(ws, 0, columns)
        days = [period.date_from + dt.timedelta(days=i) for i in range(period.days)]
        first_day_col = len(columns)
        ws.set_column(first_day_col, first_day_col + len(days) - 1, 11)
        for i, day in enumerate(days):
            ws.write_datetime(0, first_day_col + i, dt.datetime.combine(day, dt.time()), self.f["header_date"])
        for r, series in enumerate(self.data.history.values(), start=1):
            self._text(ws, r, 0, series.distributor_name)
            self._text(ws, r, 1, series.seller_name)
            self._text(ws, r, 2, series.vendor_code)
            self._text(ws, r, 3, series.product_name)
            for point in series.points:
                if point.price is not None:
                    fmt = "money_below" if point.below_rrp else "money"
                    ws.write_number(
                        r, first_day_col + (point.day - period.date_from).days, float(point.price), self.f[fmt]
                    )
        ws.freeze_panes(1, first_day_col)
        ws.autofilter(0, 0, max(len(self.data.history), 1), first_day_col + len(days) - 1)

    def _stock(self, ws: Worksheet) -> None:
        t = self.t
        columns = [
            _Column(t("col.distributor"), 22),
            _Column(t("col.vendor_code"), 14),
            _Column(t("col.product"), 36),
            _Column(t("col.days_out"), 10),
            _Column(t("col.first_out"), 12),
            _Column(t("col.last_out"), 12),
            _Column(t("col.planned_units"), 14),
            _Column(t("col.rrp"), 14),
            _Column(t("col.lost_sales"), 18),
        ]

        def write_row(r: int, s: StockRow) -> None:
            self._text(ws, r, 0, s.distributor_name)
            self._text(ws, r, 1, s.vendor_code)
            self._text(ws, r, 2, s.product_name)
            self._num(ws, r, 3, s.days_out, "int")
            ws.write_datetime(r, 4, dt.datetime.combine(s.first_out, dt.time()), self.f["date"])
            ws.write_datetime(r, 5, dt.datetime.combine(s.last_out, dt.time()), self.f["date"])
            if s.planned_units is None:
                ws.write_string(r, 6, t("note.no_plan"))
            else:
                self._num(ws, r, 6, s.planned_units, "units")
            self._num(ws, r, 7, s.rrp, "money")
            self._num(ws, r, 8, s.lost_sales, "money")

        self._table(ws, 0, columns, self.data.stock, write_row)

    def _compliance(self, ws: Worksheet) -> None:
        """Per distributor, a table of its weeks and one of its months (two tables: no autofilter on either)."""
        t = self.t
        columns = [
            _Column(t("col.distributor"), 22),
            _Column(t("col.period_start"), 12),
            _Column(t("col.watched_listings"), 14),
            _Column(t("col.compliant_listings"), 14),
            _Column(t("col.compliant_share"), 12),
            _Column(t("col.violations_opened"), 12),
            _Column(t("col.median_hours_to_fix"), 14),
            _Column(t("col.p90_hours_to_fix"), 14),
            _Column(t("col.notices_sent"), 12),
            _Column(t("col.relapses"), 11),
        ]
        ws.write_string(0, 0, t("report.compliance"), self.f["title"])
        row = 2
        for title, rows in (
            (t("report.compliance_weeks"), self.data.compliance_weeks),
            (t("report.compliance_months"), self.data.compliance_months),
        ):
            ws.write_string(row, 0, title, self.f["title"])
            self._header(ws, row + 1, columns)
            for r, c in enumerate(rows, start=row + 2):
                self._text(ws, r, 0, c.distributor_code)
                ws.write_datetime(r, 1, dt.datetime.combine(c.period_start, dt.time()), self.f["date"])
                self._num(ws, r, 2, c.watched_listings, "int")
                self._num(ws, r, 3, c.compliant_listings, "int")
                self._num(ws, r, 4, c.share, "share")
                self._num(ws, r, 5, c.violations_opened, "int")
                self._num(ws, r, 6, c.median_hours_to_fix, "units")
                self._num(ws, r, 7, c.p90_hours_to_fix, "units")
                self._num(ws, r, 8, c.notices_sent, "int")
                self._num(ws, r, 9, c.repeat_offences, "int")
            row += len(rows) + 3
        ws.write_string(row, 0, t("def.compliance"))

    def _charts(self, ws: Worksheet) -> None:
        """Price and RRP per day of the most deeply violated listings, from a data table beside the charts."""
        t = self.t
        ws.set_column(0, 0, 2)
        ws.write_string(0, 1, t("report.charts"), self.f["title"])
        listings = [i for i in self.data.top_listing_ids if i in self.data.history][:LINE_CHARTS]
        if not listings:
            ws.write_string(2, 1, t("note.no_violations"))
            return
        series = [self.data.history[i] for i in listings]
        self._chart_table(ws, series)
        for n, s in enumerate(series):
            ws.insert_chart(2 + (n // 2) * 16, 1 + (n % 2) * 10, self._line_chart(ws, n, s))

    def _chart_table(self, ws: Worksheet, series: Sequence[HistorySeries]) -> None:
        """The charts' data from row 2 down, a row per day of the period: the day, then each listing's price and RRP."""
        t, period, col = self.t, self.data.period, CHART_DATA_COL
        ws.set_column(col, col + 2 * len(series), 12)
        ws.write_string(1, col, t("col.observed_at"), self.f["header"])
        for n, s in enumerate(series):
            title = escape_formula(_series_title(s))
            ws.write_string(1, col + 1 + 2 * n, f"{t('series.price')}: {title}", self.f["header"])
            ws.write_string(1, col + 2 + 2 * n, t("series.rrp"), self.f["header"])
        by_day = [{p.day: p for p in s.points} for s in series]
        for i in range(period.days):
            day = period.date_from + dt.timedelta(days=i)
            ws.write_datetime(2 + i, col, dt.datetime.combine(day, dt.time()), self.f["date"])
            for n, points in enumerate(by_day):
                point = points.get(day)
                if point is not None:
                    self._num(ws, 2 + i, col + 1 + 2 * n, point.price, "money")
                    self._num(ws, 2 + i, col + 2 + 2 * n, point.rrp, "money")

    def _line_chart(self, ws: Worksheet, n: int, s: HistorySeries) -> Chart:
        """The chart of the `n`th listing of the chart table: its price with markers, the RRP dashed."""
        t, last_row = self.t, 1 + self.data.period.days
        price_col = CHART_DATA_COL + 1 + 2 * n
        categories: list[Any] = [ws.get_name(), 2, CHART_DATA_COL, last_row, CHART_DATA_COL]
        chart = self.wb.add_chart({"type": "line"})
        chart.add_series(
            {
                "name": t("series.price"),
                "categories": categories,
                "values": [ws.get_name(), 2, price_col, last_row, price_col],
                "marker": {"type": "circle", "size": 4},
            }
        )
        chart.add_series(
            {
                "name": t("series.rrp"),
                "categories": categories,
                "values": [ws.get_name(), 2, price_col + 1, last_row, price_col + 1],
                "line": {"dash_type": "dash", "color": "#C00000"},
            }
        )
        title = t("chart.price_vs_rrp", title=_series_title(s))
        chart.set_title({"name": escape_formula(title), "name_font": {"size": 11}})
        chart.set_x_axis({"date_axis": True, "num_format": "dd.mm" if t.language == "ru" else "mm-dd"})
        chart.set_y_axis({"num_format": MONEY_FORMAT})
        chart.set_legend({"position": "bottom"})
        chart.show_blanks_as("span")
        chart.set_size({"width": 620, "height": 300})
        return chart


def _series_title(s: HistorySeries) -> str:
    """What a chart calls a listing: its SKU (or product name) and seller."""
    return f"{s.vendor_code or s.product_name or ''} — {s.seller_name}"
