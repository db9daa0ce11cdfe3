"""Crawl health: every site's runs with their verdicts and reasons, and the error pages of a run."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import Response

from storage.queries import reports as report_queries
from storage.queries.web_health import problem_pages, run, runs_page
from web.auth import SignedIn
from web.panel import panel_of, render

router = APIRouter()
PAGE_SIZE = 50


@router.get("/health")
def health(request: Request, me: SignedIn, distributor: str = "", page: int = 1) -> Response:
    panel = panel_of(request)
    with panel.session() as db:
        rows, total = runs_page(db, me.scope, distributor or None, page=page, size=PAGE_SIZE)
        sites = [d for d in report_queries.distributors(db) if me.scope.allows_distributor(d.code)]
    pages = max(1, -(-total // PAGE_SIZE))
    return render(
        request, "health.html.j2", rows=rows, sites=sites, distributor=distributor, page=min(page, pages), pages=pages
    )


@router.get("/health/runs/{run_id}")
def health_run(request: Request, me: SignedIn, run_id: int) -> Response:
    panel = panel_of(request)
    with panel.session() as db:
        line = run(db, me.scope, run_id)
        if line is None:
            raise HTTPException(404)
        problems = problem_pages(db, run_id)
        return render(request, "health_run.html.j2", line=line, problems=problems)
