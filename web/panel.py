"""What every request of the panel shares: the database, the config, its texts, the cookies and the templates."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse

from crawler.config import Config
from storage.engine import session_scope
from web.sessions import SessionCookies
from web.texts import WebTexts

TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")


@dataclass
class Panel:
    engine: Engine
    config: Config
    texts: WebTexts
    cookies: SessionCookies
    templates: jinja2.Environment
    evidence_dir: Path

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back when it raises."""
        with session_scope(self.engine) as session:
            yield session


def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every crawled text (a product or seller name) is shown as text, never as markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def panel_of(request: Request) -> Panel:
    found: Panel = request.app.state.panel
    return found


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page (or, for an HTMX request, the fragment template) with the texts and the signed-in user."""
    panel = panel_of(request)
    html = panel.templates.get_template(template).render(
        t=panel.texts,
        me=getattr(request.state, "principal", None),
        csrf=getattr(request.state, "csrf", ""),
        path=request.url.path,
        **context,
    )
    return HTMLResponse(html, status_code=status_code)
