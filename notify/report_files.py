"""The violations report from `reports/` as files sent out: the digest email's attachment and the bot's /report.

A recipient must be able to open every evidence link. With `web.base_url` set the links go to the panel, so the PDF
and the XLSX go as they are; without it they would point to a folder the recipient does not have, so the XLSX (and a
copy of the PDF) go in a zip bundle with the evidence beside them (reports/bundle.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from crawler.config import Config
from notify.email import XLSX_TYPE, Attachment
from reports.bundle import build_bundle
from reports.data import ReportData, collect_report
from reports.labels import ReportTexts, texts_for
from reports.output import render
from storage.models import utcnow

ZIP_TYPE = ("application", "zip")


@dataclass(frozen=True)
class ReportFile:
    filename: str
    content: bytes
    caption: str  # what the file is, for the message it goes with


@dataclass(frozen=True)
class ReportRequest:
    """Which report: one distributor or all (those `scope` allows), over a period (the reports' default: None)."""

    distributor: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    scope: Sequence[str] | None = None  # the distributor codes the recipient may see; None: all


def _stem(config: Config, request: ReportRequest) -> str:
    day = (request.date_to or utcnow().astimezone(config.tz).date()).isoformat()
    return f"violations-{request.distributor}-{day}" if request.distributor else f"violations-{day}"


def _collect(source: Engine | Session, config: Config, request: ReportRequest) -> ReportData:
    data = collect_report(
        source, config, distributor=request.distributor, date_from=request.date_from, date_to=request.date_to
    )
    if request.scope is None or request.distributor is not None:
        return data
    allowed = set(request.scope)
    return data.restricted(lambda code: code in allowed, lambda _v: True, lambda _s: True)


def _table_file(config: Config, data: ReportData, texts: ReportTexts, stem: str) -> ReportFile:
    """The XLSX linked to the panel (`web.base_url`), else the zip bundle of the XLSX and PDF with their evidence."""
    if config.web.base_url:
        content = render("xlsx", data, texts, Path.cwd())
        return ReportFile(f"{stem}.xlsx", content, texts("bot.report_xlsx_caption"))
    return ReportFile(f"{stem}.zip", build_bundle(data, texts, stem), texts("bot.report_bundle_caption"))


def report_files(source: Engine | Session, config: Config, request: ReportRequest) -> list[ReportFile]:
    """The PDF, then the XLSX (linked to the panel) or the zip bundle of both with their evidence."""
    data = _collect(source, config, request)
    texts = texts_for(config)
    stem = _stem(config, request)
    pdf = ReportFile(f"{stem}.pdf", render("pdf", data, texts, Path.cwd()), _summary(texts, data))
    return [pdf, _table_file(config, data, texts, stem)]


def _summary(texts: ReportTexts, data: ReportData) -> str:
    """The PDF's caption: what the report covers and its headline figures."""
    deviations = [v.deviation_pct for v in data.violations if v.rule == "dumping" and v.deviation_pct is not None]
    return texts(
        "bot.report_caption",
        scope=", ".join(s.name for s in data.summaries) or texts("report.all"),
        start=texts.date(data.period.date_from),
        end=texts.date(data.period.date_to),
        violations=len(data.violations),
        deepest=texts.pct(min(deviations, default=None)),
        stock_days=sum(s.stock_out_days for s in data.summaries),
    )


def digest_attachment(engine: Engine, config: Config) -> Callable[[], Attachment]:
    """The hook `flush(..., attachment=...)` takes, built when the first digest email needs it: the XLSX linked to
    the panel with `web.base_url`, else the zip bundle with the evidence."""

    def build() -> Attachment:
        request = ReportRequest()
        file = _table_file(config, _collect(engine, config, request), texts_for(config), _stem(config, request))
        kind = ZIP_TYPE if file.filename.endswith(".zip") else XLSX_TYPE
        return Attachment(file.filename, file.content, *kind)

    return build
