"""Building a violations report in one format and writing it whole (never a half-written file)."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import Literal

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from crawler.config import Config
from crawler.errors import UserError
from reports.csv_report import CsvDialectName
from reports.data import ReportData, collect_report
from reports.labels import ReportTexts, texts_for

ReportFormat = Literal["xlsx", "pdf", "csv"]
FORMATS: tuple[ReportFormat, ...] = ("xlsx", "pdf", "csv")


def report_format(path: Path, fmt: str | None) -> ReportFormat:
    """The format asked for, else the one the file name ends with."""
    chosen = fmt or path.suffix.lower().lstrip(".")
    for known in FORMATS:
        if chosen == known:
            return known
    raise UserError(f"--out {path}: cannot tell the format from the name; use .xlsx, .pdf or .csv (or --format)")


def render(
    fmt: ReportFormat, data: ReportData, texts: ReportTexts, link_base: Path, csv_dialect: CsvDialectName = "bi"
) -> bytes:
    """The report file's bytes; evidence links are relative to `link_base` (the folder the file will be in)."""
    if fmt == "xlsx":
        from reports.xlsx import render_xlsx

        return render_xlsx(data, texts, link_base)
    if fmt == "pdf":
        from reports.pdf import render_pdf

        return render_pdf(data, texts, link_base)
    from reports.csv_report import render_csv

    return render_csv(data, texts, link_base, csv_dialect)


def _folder(path: Path) -> Path:
    folder = path.resolve().parent
    if not folder.is_dir():
        raise UserError(f"--out {path}: folder {folder} does not exist")
    return folder


def write_atomically(path: Path, content: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: readers never see half a report."""
    folder = _folder(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _collect_and_render(
    fmt: ReportFormat,
    source: Engine | Session,
    config: Config,
    link_base: Path,
    *,
    distributor: str | None,
    date_from: str | dt.date | None,
    date_to: str | dt.date | None,
    language: str | None,
    csv_dialect: CsvDialectName,
) -> tuple[ReportData, bytes]:
    texts = texts_for(config, language)  # a wrong --lang fails before the work
    data = collect_report(source, config, distributor=distributor, date_from=date_from, date_to=date_to)
    return data, render(fmt, data, texts, link_base, csv_dialect)


def build_report(
    fmt: ReportFormat,
    source: Engine | Session,
    config: Config,
    *,
    distributor: str | None = None,
    date_from: str | dt.date | None = None,
    date_to: str | dt.date | None = None,
    language: str | None = None,
    link_base: Path | None = None,
    csv_dialect: CsvDialectName = "bi",
) -> bytes:
    """The report file's bytes (e.g. for an email attachment); evidence links are relative to `link_base` (cwd)."""
    _, content = _collect_and_render(
        fmt,
        source,
        config,
        link_base or Path.cwd(),
        distributor=distributor,
        date_from=date_from,
        date_to=date_to,
        language=language,
        csv_dialect=csv_dialect,
    )
    return content


def write_report(
    path: str | os.PathLike[str],
    fmt: ReportFormat,
    source: Engine | Session,
    config: Config,
    *,
    distributor: str | None = None,
    date_from: str | dt.date | None = None,
    date_to: str | dt.date | None = None,
    language: str | None = None,
    csv_dialect: CsvDialectName = "bi",
) -> ReportData:
    """Collect, render and write one report file; returns the data it shows."""
    target = Path(path)
    folder = _folder(target)  # a wrong --out fails before the work, not after
    data, content = _collect_and_render(
        fmt,
        source,
        config,
        folder,
        distributor=distributor,
        date_from=date_from,
        date_to=date_to,
        language=language,
        csv_dialect=csv_dialect,
    )
    write_atomically(target, content)
    return data
