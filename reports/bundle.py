"""A report sent out with its evidence, for recipients without the web panel: one zip to unpack anywhere and open.

    violations-techsnab-2026-12-04/
        violations.xlsx, violations.pdf       links to the evidence are relative: evidence/2026-12-03/…
        evidence/<local date>/<hash>.png      the stamped screenshots, as stored
        evidence/<local date>/<hash>.html     the saved page, plain HTML (a Windows user cannot open .gz)
        evidence/<local date>/<hash>.html.gz  the saved page as stored: its recorded SHA-256 still matches
        README.txt, SHA256SUMS

The relative links use forward slashes and short ASCII names, which Excel and the browsers on Windows open once the
folder is unpacked (a link opened from inside an unextracted zip points nowhere: README.txt says so).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from dataclasses import replace
from pathlib import Path, PurePosixPath

from reports.data import EvidenceFile, ReportData, Violation
from reports.labels import ReportTexts
from reports.output import ReportFormat, render
from reports.packet import evidence_file, unpacked_page

FORMATS: tuple[ReportFormat, ...] = ("xlsx", "pdf")
EVIDENCE = "evidence"
# Where the renderers are told the bundle's folder is; links are made relative to it, nothing is read there.
_VIRTUAL_ROOT = Path("/pricewatch-bundle")


def _relative(file: EvidenceFile, tz: dt.tzinfo, suffix: str) -> str:
    day = file.captured_at.astimezone(tz).date().isoformat()
    return f"{EVIDENCE}/{day}/{file.sha256[:16]}{suffix}"


class _Layout:
    """Which stored evidence file goes where in the bundle, and the report data linking to the bundle's copies."""

    def __init__(self, data: ReportData) -> None:
        self.data = data
        self.tz = data.period.tz
        self.files: dict[str, bytes] = {}  # path in the bundle → content

    def _shown(self, file: EvidenceFile | None) -> EvidenceFile | None:
        """The file as the bundle holds it; one outside the evidence folder or gone from disk stays unlinked."""
        if file is None:
            return None
        stored = evidence_file(self.data.evidence_dir, str(file.path))
        if stored is None:
            return file
        if file.kind == "html":
            plain = _relative(file, self.tz, ".html")
            self.files[plain] = unpacked_page(stored.read_bytes())
            self.files[_relative(file, self.tz, ".html.gz")] = stored.read_bytes()
            return replace(file, shown_as=_VIRTUAL_ROOT / plain)
        name = _relative(file, self.tz, stored.suffix or ".png")
        self.files[name] = stored.read_bytes()
        return replace(file, shown_as=_VIRTUAL_ROOT / name)

    def violation(self, v: Violation) -> Violation:
        return replace(v, html=self._shown(v.html), screenshot=self._shown(v.screenshot))

    def report_data(self) -> ReportData:
        return replace(self.data, violations=[self.violation(v) for v in self.data.violations])


def readme(texts: ReportTexts, name: str) -> str:
    return texts("bundle.readme", name=name) + "\n"


def build_bundle(data: ReportData, texts: ReportTexts, name: str) -> bytes:
    """The zip's bytes: the report as XLSX and PDF under folder `name`, with the evidence its links name."""
    layout = _Layout(data)
    linked = layout.report_data()
    root = PurePosixPath(name)
    contents: dict[str, bytes] = {f"violations.{fmt}": render(fmt, linked, texts, _VIRTUAL_ROOT) for fmt in FORMATS}
    contents.update(sorted(layout.files.items()))
    contents["README.txt"] = readme(texts, name).encode("utf-8")
    sums = "".join(f"{hashlib.sha256(content).hexdigest()}  {path}\n" for path, content in contents.items())
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for path, content in contents.items():
            bundle.writestr(str(root / path), content)
        bundle.writestr(str(root / "SHA256SUMS"), sums)
    return out.getvalue()
