"""A report sent out without a web panel: one zip with the XLSX, the PDF and the evidence its links open."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

import openpyxl

from notify.report_files import ReportRequest, digest_attachment, report_files
from reports.bundle import build_bundle
from reports.data import collect_report
from reports.labels import texts_for

PERIOD = {"date_from": "2026-03-01", "date_to": "2026-03-10"}
NAME = "violations-2026-03-10"


def _unpacked(content: bytes, into: Path) -> Path:
    with zipfile.ZipFile(io.BytesIO(content)) as bundle:
        names = bundle.namelist()
        assert all(not n.startswith("/") and ".." not in PurePosixPath(n).parts and "\\" not in n for n in names)
        bundle.extractall(into)
    return into / NAME


def test_the_bundle_holds_the_reports_and_the_evidence_their_links_open(sqlite_scenario: Any, tmp_path: Path) -> None:
    data = collect_report(sqlite_scenario.engine, sqlite_scenario.config, **PERIOD)
    folder = _unpacked(build_bundle(data, texts_for(sqlite_scenario.config), NAME), tmp_path)

    assert (folder / "violations.pdf").read_bytes().startswith(b"%PDF")
    assert "Распакуйте архив целиком" in (folder / "README.txt").read_text(encoding="utf-8")
    book = openpyxl.load_workbook(folder / "violations.xlsx")
    sheet = book["Нарушения"]
    header = [c.value for c in next(sheet.iter_rows(min_row=1, max_row=1))]
    links = [
        row[header.index(column)].hyperlink.target
        for row in sheet.iter_rows(min_row=2)
        for column in ("Скриншот", "HTML")
        if row[header.index(column)].hyperlink is not None
    ]
    assert len(links) == 2  # the one violation with evidence: its screenshot and its page
    for link in links:
        # Relative, no drive, no parent folder: Windows opens it beside the workbook once the zip is unpacked.
        relative = Path(link.replace("\\", "/"))
        assert not relative.is_absolute()
        assert relative.parts[0] == "evidence"
        assert (folder / relative).is_file()
    shot, page = sorted(folder / link.replace("\\", "/") for link in links)[::-1]  # .png after .html
    assert shot.suffix == ".png"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert page.suffix == ".html"  # plain HTML: a Windows user cannot open .gz
    assert page.read_bytes() == b"<html><script>alert(1)</script>4 000</html>"
    stored = page.with_name(page.name + ".gz")
    assert gzip.decompress(stored.read_bytes()) == page.read_bytes()  # kept as stored: its recorded hash holds
    sums = dict(reversed(line.split("  ", 1)) for line in (folder / "SHA256SUMS").read_text().splitlines())
    assert set(sums) >= {"violations.xlsx", "violations.pdf", "README.txt"}
    for name, digest in sums.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest


def test_a_digest_attaches_the_bundle_without_a_panel_and_the_xlsx_with_one(sqlite_scenario: Any) -> None:
    config = sqlite_scenario.config
    bundled = digest_attachment(sqlite_scenario.engine, config)()
    assert bundled.filename.endswith(".zip")
    assert (bundled.maintype, bundled.subtype) == ("application", "zip")
    panel = config.model_copy(update={"web": config.web.model_copy(update={"base_url": "https://panel.example"})})
    linked = digest_attachment(sqlite_scenario.engine, panel)()
    assert linked.filename.endswith(".xlsx")
    assert linked.subtype == "vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_the_files_a_manager_is_sent_are_the_pdf_and_then_the_bundle(sqlite_scenario: Any) -> None:
    request = ReportRequest("techsnab", dt.date(2026, 3, 1), dt.date(2026, 3, 10))
    pdf, bundle = report_files(sqlite_scenario.engine, sqlite_scenario.config, request)
    assert pdf.filename == "violations-techsnab-2026-03-10.pdf"
    assert bundle.filename == "violations-techsnab-2026-03-10.zip"
    assert pdf.caption.startswith(
        "Нарушения РРЦ — ТехСнаб, 01.03.2026 — 10.03.2026. Нарушений: 2, макс. отклонение −25 %"
    )
