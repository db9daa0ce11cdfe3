"""Crawler health (for the admin): a distributor's latest run degraded or failed, with the reason."""

from __future__ import annotations

from crawler.config import Config
from crawler.items import Health
from rules.base import Finding, OnBadRun, Rule, RuleContext, RuleResult
from rules.describe import subject

NAME = "crawler_health"
SUBJECT = {
    "ru": "Сбор данных {distributor}: {health} — {reason}",
    "en": "Crawl of {distributor}: {health} — {reason}",
}
HEALTH_NAMES = {
    "ru": {Health.DEGRADED: "данные неполные", Health.FAILED: "сбой"},
    "en": {Health.DEGRADED: "degraded", Health.FAILED: "failed"},
}


def evaluate(ctx: RuleContext) -> RuleResult:
    """Open while the distributor's latest ended run is not ok; resolved by the first ok run after it."""
    findings = []
    names = HEALTH_NAMES.get(ctx.language, HEALTH_NAMES["en"])
    for run in ctx.runs.values():
        verdict = run.verdict
        if verdict == Health.OK:
            continue
        reason = run.reason or names[verdict]
        findings.append(
            Finding(
                rule=NAME,
                fingerprint=f"{NAME}:{run.code}",
                severity="critical" if verdict == Health.FAILED else "warning",
                subject=subject(ctx, SUBJECT, distributor=run.name, health=names[verdict], reason=reason),
                details={
                    "distributor_code": run.code,
                    "distributor_name": run.name,
                    "health": verdict.value,
                    "reason": reason,
                    "crawl_run_id": run.run_id,
                    "offers": run.offers,
                    "last_good_offers": run.last_ok_offers,
                },
                distributor_id=run.distributor_id,
            )
        )
    return RuleResult(findings)


def enabled(config: Config) -> bool:
    return True


RULE = Rule(NAME, evaluate, enabled, on_degraded=OnBadRun.EVALUATE, on_failed=OnBadRun.EVALUATE)
