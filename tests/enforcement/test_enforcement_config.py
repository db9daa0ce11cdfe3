"""The `enforcement` section and distributors' `contacts`: a wrong one fails at load, naming the key."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from crawler.config import ConfigError, QuietHours
from tests.support.builders import make_config
from tests.support.rules_world import BASE


def _config(enforcement: dict[str, Any] | None = None, contacts: dict[str, Any] | None = None, **other: Any) -> Any:
    data = copy.deepcopy(BASE) | other
    for d in data["distributors"]:
        d["contacts"] = (contacts or {}).get(d["code"], [])
    if enforcement is not None:
        data["enforcement"] = enforcement
    return make_config(data)


def test_the_defaults_ask_for_approval_and_keep_no_quiet_hours() -> None:
    e = _config().enforcement
    assert (e.enabled, e.approval, e.rules, e.quiet_hours) == (True, "case", ["dumping", "parallel_import"], None)
    assert (e.ladder.days_to_fix, e.ladder.second_notice, e.ladder.escalate, e.relapse_window_days) == (
        3,
        True,
        True,
        30,
    )


@pytest.mark.parametrize(
    ("enforcement", "contacts", "message"),
    [
        ({"approval": "sometimes"}, None, "enforcement.approval: Input should be 'case', 'distributor' or 'off'"),
        (
            {"managers": [{"name": "Анна", "distributors": ["nope"]}]},
            None,
            "enforcement.managers[0](Анна).distributors[0]: no distributor 'nope' in the config",
        ),
        (None, {"shop": [{"person": "Ирина"}]}, "distributors[0](shop).contacts[0]: a contact needs an `email`"),
        (None, {"shop": [{"email": "not-an-address"}]}, "distributors[0](shop).contacts[0].email: not an email"),
        (None, {"shop": [{"telegram": "chat one"}]}, "distributors[0](shop).contacts[0].telegram: not a Telegram chat"),
        (
            None,
            {"shop": [{"email": "a@shop.example", "seller": "s-1"}]},
            "distributors(shop).contacts[0].seller: only a marketplace has sellers",
        ),
        ({"quiet_hours": {"start": "09:00", "end": "09:00"}}, None, "enforcement.quiet_hours: `start` and `end`"),
        (
            {"quiet_hours": {"start": "20:00", "end": "10:00"}},  # the default run: 06:00 Moscow
            None,
            "enforcement.quiet_hours: the daily run (schedule.cron) always falls inside them",
        ),
    ],
)
def test_a_wrong_section_fails_naming_the_key(enforcement: Any, contacts: Any, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        _config(enforcement, contacts)
    assert message in str(raised.value)


def test_quiet_hours_over_midnight_end_the_next_morning() -> None:
    quiet = QuietHours(start=dt.time(21), end=dt.time(8))
    tz = _config().tz
    evening = dt.datetime(2026, 3, 2, 22, 30, tzinfo=tz)
    assert quiet.end_after(evening, tz) == dt.datetime(2026, 3, 3, 8, tzinfo=tz)
    assert quiet.end_after(dt.datetime(2026, 3, 3, 7, 59, tzinfo=tz), tz) == dt.datetime(2026, 3, 3, 8, tzinfo=tz)
    assert quiet.end_after(dt.datetime(2026, 3, 3, 8, tzinfo=tz), tz) is None
    assert _config({"quiet_hours": {"start": "21:00", "end": "08:00"}}, schedule={"cron": "0 9 * * *"})
