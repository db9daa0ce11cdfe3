"""Alert precision and recall over the chaos matrix, against its ground truth.

Every scenario of fixtures/chaos/scenarios.py is replayed through the real flow (tests/support/chaos.py: the chaos
shop over HTTP, a crawl process per day, the rules run after each) for its three days. Each opened or resolved
alert event the rules wrote is compared with the events the scenario's ground truth lists: precision is the share
of written events that are true (no false alert), recall the share of true events written (no lost alert); the
crawl verdicts (ok / degraded / failed) are counted likewise. The baseline is the ground truth itself, 100 %:
the goal is to meet it. BENCH_QUICK=1 replays the calm scenario and one scenario per case of issue 14.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.common import Figure, quick
from fixtures.chaos.scenarios import CASES, SCENARIOS, of_case
from storage.engine import make_engine
from storage.migrate import upgrade
from tests.support.chaos import ChaosLab, Replay

GROUND_TRUTH = "the ground truth"


def _template(folder: Path) -> Path:
    path = folder / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def _share(part: int, whole: int) -> float:
    return round(100 * part / whole, 2) if whole else 100.0


def _figure(name: str, value: float) -> Figure:
    return Figure(name, value, "%", GROUND_TRUTH, 100.0, "100 %", met=value == 100.0)


def figures(replays: list[Replay]) -> list[Figure]:
    """Precision and recall of the alert events, and the share of crawl verdicts right, over `replays`."""
    pairs = [(run, replay.scenario.day(run.day)) for replay in replays for run in replay.days]
    written = sum(len(run.events) for run, _ in pairs)
    true = sum(len(truth.alerts) for _, truth in pairs)
    right = sum(len(run.events & truth.alerts) for run, truth in pairs)
    verdicts = sum(run.verdict == truth.verdict for run, truth in pairs)
    matrix = f"over the chaos matrix ({len(replays)} scenarios × 3 days)"
    return [
        _figure(f"alert precision {matrix}: {right} of {written} written events true", _share(right, written)),
        _figure(f"alert recall {matrix}: {right} of {true} true events written", _share(right, true)),
        _figure(f"crawl verdicts right {matrix}: {verdicts} of {len(pairs)} days", _share(verdicts, len(pairs))),
    ]


def run() -> list[Figure]:
    names = [s.name for s in SCENARIOS]
    if quick():
        names = ["calm", *(of_case(case)[0] for case in CASES)]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with ChaosLab(folder / "lab", _template(folder)) as lab:
            lab.submit(names)
            return figures([lab.replay(name) for name in names])
