"""A config that would fail at night fails at load: duplicate YAML keys, selectors that do not compile, impossible
crons, URLs that are not http(s), routes to nobody; every problem is listed by key path, and no value that came from
the environment is ever shown in one."""

from __future__ import annotations

import pytest

from crawler.config import Config, ConfigError, parse_config
from scheduler import cron_trigger

BASE = """
timezone: Europe/Moscow
distributors:
  - code: techsnab
    name: ТехСнаб
    start_urls: ["http://127.0.0.1:8701/catalog/"]
  - code: klimatprof
    name: КлиматПроф
    start_urls: ["http://127.0.0.1:8702/catalog/"]
  - code: shopx
    name: Shop X
    start_urls: ["http://127.0.0.1:8704/"]
    extraction: selectors
    selectors: {price: ".price::text", ean: "xpath://dl/dd[1]/text()"}
routes:
  - name: managers
    telegram: ["-1001234"]
    email: [sales@brand.example]
notify:
  language: ru
  telegram: {token: "${PW_TOKEN:-}"}
  email: {host: "${PW_SMTP_HOST:-}", password: "${PW_SMTP_PASSWORD:-}"}
schedule:
  cron: "0 6 * * *"
"""


def problems(text: str, env: dict[str, str] | None = None) -> list[str]:
    """Every problem the config has, as `config check` lists them (without the file name)."""
    with pytest.raises(ConfigError) as refused:
        parse_config(text, "pw.yaml", env=env or {})
    assert str(refused.value) == refused.value.problems[0] + (
        f" (and {len(refused.value.problems) - 1} more)" if len(refused.value.problems) > 1 else ""
    )
    return [p.removeprefix("pw.yaml: ") for p in refused.value.problems]


def test_the_base_config_loads() -> None:
    assert isinstance(parse_config(BASE, "pw.yaml", env={}), Config)


def test_a_second_section_of_the_same_name_is_an_error_with_its_line_not_a_silent_wipe() -> None:
    text = BASE + "notify:\n  language: en\n"
    second = BASE.count("\n") + 1
    first = BASE.splitlines().index("notify:") + 1
    assert problems(text) == [
        f"line {second}, column 1: duplicate key 'notify' (first on line {first}): a key may appear once in a mapping"
    ]


def test_every_duplicate_key_is_listed_nested_ones_too() -> None:
    text = BASE.replace("    name: КлиматПроф\n", "    name: КлиматПроф\n    name: Климат\n") + "schedule: {}\n"
    found = problems(text)
    assert len(found) == 2
    assert "duplicate key 'name'" in found[0]
    assert "duplicate key 'schedule'" in found[1]


def test_keys_a_merge_brings_in_may_be_overridden() -> None:
    text = BASE.replace(
        "  - code: klimatprof\n",
        "  - &spb\n    code: spb\n    name: СПб\n    start_urls: ['http://127.0.0.1:1/']\n"
        "  - <<: *spb\n    code: klimatprof\n",
    )
    config = parse_config(text, "pw.yaml", env={})
    assert [d.code for d in config.distributors] == ["techsnab", "spb", "klimatprof", "shopx"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            '".price::text"',
            '"div[[["',
            "distributors[2](shopx).selectors.price: invalid CSS selector 'div[[[': Expected ident or '*', got",
        ),
        (
            '"xpath://dl/dd[1]/text()"',
            '"xpath://dl/dd[[1]"',
            "distributors[2](shopx).selectors.ean: invalid XPath selector 'xpath://dl/dd[[1]': Invalid",
        ),
        (
            '"xpath://dl/dd[1]/text()"',
            '"xpath://x:dl"',
            "distributors[2](shopx).selectors.ean: invalid XPath selector 'xpath://x:dl': Undefined namespace prefix",
        ),
    ],
    ids=["css", "xpath-syntax", "xpath-prefix"],
)
def test_a_selector_that_does_not_compile_is_named_by_its_key_path(old: str, new: str, expected: str) -> None:
    [problem] = problems(BASE.replace(old, new))
    assert problem.startswith(expected)


def test_selectors_crawls_use_compile() -> None:
    config = parse_config(BASE.replace('".price::text"', '".a > .b:nth-child(2n+1)::attr(data-price)"'), env={})
    assert config.distributors[2].selectors.price == ".a > .b:nth-child(2n+1)::attr(data-price)"


@pytest.mark.parametrize(
    ("cron", "expected"),
    [
        ("99 99 * * *", "schedule.cron: impossible cron expression '99 99 * * *': Error validating expression"),
        ("0 6 * *", "schedule.cron: expected a cron expression of 5 fields (or 6 with seconds first), got '0 6 * *'"),
        ("0 0 31 2 *", "schedule.cron: the cron expression '0 0 31 2 *' never fires"),
        ("0 6 * * fun", "schedule.cron: impossible cron expression '0 6 * * fun'"),
    ],
)
def test_an_impossible_cron_is_refused_at_load(cron: str, expected: str) -> None:
    [problem] = problems(BASE.replace('cron: "0 6 * * *"', f'cron: "{cron}"'))
    assert problem.startswith(expected)


def test_a_distributors_own_cron_is_checked_the_same_way() -> None:
    text = BASE.replace("    name: КлиматПроф\n", '    name: КлиматПроф\n    schedule: "61 * * * *"\n')
    [problem] = problems(text)
    assert problem.startswith("distributors[1](klimatprof).schedule: impossible cron expression '61 * * * *'")


@pytest.mark.parametrize(
    "cron", ["0 6 * * *", "*/5 * * * * *", "0 6 * * mon-fri", "0 0 29 2 *", "99 99 * * *", "0 6 * *", "x * * * *"]
)
def test_the_config_accepts_a_cron_exactly_when_the_scheduler_can_run_it(cron: str) -> None:
    def scheduler_takes() -> bool:
        try:
            cron_trigger(cron, "Europe/Moscow")
        except ConfigError:
            return False
        return True

    def config_takes() -> bool:
        try:
            parse_config(BASE.replace('cron: "0 6 * * *"', f'cron: "{cron}"'), env={})
        except ConfigError:
            return False
        return True

    assert config_takes() == scheduler_takes()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ftp://127.0.0.1/catalog/", "expected an http(s) URL, got 'ftp://127.0.0.1/catalog/'"),
        ("javascript:alert(1)", "expected an http(s) URL, got 'javascript:alert(1)'"),
        ("http://127.0.0.1:99999/", "expected an http(s) URL with a host (and a valid port), got"),
        ("http://:80/catalog", "expected an http(s) URL with a host (and a valid port), got"),
    ],
)
def test_urls_must_be_http_with_a_host(url: str, expected: str) -> None:
    [problem] = problems(BASE.replace('"http://127.0.0.1:8702/catalog/"', f'"{url}"'))
    assert problem.startswith(f"distributors[1](klimatprof).start_urls[0]: {expected}")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            '    telegram: ["-1001234"]\n    email: [sales@brand.example]\n',
            "",
            "routes[0](managers): the route names no recipient",
        ),
        ('telegram: ["-1001234"]', "telegram: [managers]", "routes[0](managers).telegram: not a Telegram chat"),
        ('telegram: ["-1001234"]', 'telegram: [""]', "routes[0](managers).telegram: not a Telegram chat"),
        (
            'telegram: ["-1001234"]',
            'telegram: ["${PW_CHAT:-}"]',
            "routes[0](managers).telegram[0]: Input should be a valid string",
        ),
        (
            "  - name: managers\n",
            "  - name: managers\n    match: {distributors: [techsnab, tehsnab]}\n",
            "routes[0](managers).match.distributors[1]: no distributor 'tehsnab' in the config",
        ),
    ],
    ids=["no-recipient", "chat-name", "empty-chat", "unset-chat", "unknown-distributor"],
)
def test_a_route_must_reach_someone_the_config_knows(old: str, new: str, expected: str) -> None:
    assert old in BASE
    [problem] = problems(BASE.replace(old, new))
    assert problem.startswith(expected)


def test_public_channels_are_chats_too() -> None:
    config = parse_config(BASE.replace('"-1001234"', '"@termoline_prices"'), env={})
    assert config.routes[0].telegram == ["@termoline_prices"]


def test_every_schema_problem_is_listed_one_per_line() -> None:
    text = (
        BASE.replace('".price::text"', '"div[[["')
        .replace('cron: "0 6 * * *"', 'cron: "99 99 * * *"')
        .replace("language: ru", "language: fr")
    )
    found = problems(text)
    assert len(found) == 3
    assert [p.split(":")[0] for p in found] == [
        "distributors[2](shopx).selectors.price",
        "notify.language",
        "schedule.cron",
    ]
    assert all("\n" not in p for p in found)


def test_every_literal_secret_and_unset_variable_is_listed() -> None:
    text = BASE.replace('"${PW_TOKEN:-}"', '"123456:literal"').replace('"${PW_SMTP_HOST:-}"', '"${PW_NOT_SET}"')
    assert problems(text) == [
        "notify.telegram.token: secrets come only from the environment, write it as ${ENV_VAR}",
        "notify.email.host: environment variable PW_NOT_SET is not set",
    ]


SECRET = "s3cr3t-from-the-environment"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (  # our own validator quotes the value
            'token: "${PW_TOKEN:-}"}',
            'token: "${PW_TOKEN:-}", base_url: "${PW_SECRET}"}',
            "notify.telegram.base_url: expected an http(s) URL, got '${PW_SECRET}'",
        ),
        (  # pydantic's message does not, the "got" part does
            "language: ru",
            'language: ru\n  max_attempts: "${PW_SECRET}"',
            "notify.max_attempts: Input should be a valid integer, unable to parse string as an integer, "
            "got '${PW_SECRET}'",
        ),
        (  # part of a value: the whole value is shown as the file writes it
            "email: [sales@brand.example]",
            'email: ["ops-${PW_SECRET}"]',
            "routes[0](managers).email: not an email address: 'ops-${PW_SECRET}'",
        ),
        (  # a check of the whole config quoting a value from the environment
            "match: {distributors: [techsnab]}",
            'match: {distributors: ["${PW_SECRET}"]}',
            "routes[0](managers).match.distributors[0]: no distributor '${PW_SECRET}' in the config",
        ),
    ],
    ids=["own-validator", "pydantic-got", "part-of-a-value", "whole-config"],
)
def test_a_value_from_the_environment_is_never_shown_in_an_error(old: str, new: str, expected: str) -> None:
    base = BASE.replace("  - name: managers\n", "  - name: managers\n    match: {distributors: [techsnab]}\n")
    assert old in base
    [problem] = problems(base.replace(old, new), env={"PW_SECRET": SECRET})
    assert problem.startswith(expected)
    assert "s3cr3t" not in problem


def test_a_one_letter_value_from_the_environment_hides_no_other_text() -> None:
    text = BASE.replace("language: ru", 'language: "${PW_LANG}"')
    [problem] = problems(text, env={"PW_LANG": "e"})
    assert problem == "notify.language: Input should be 'ru' or 'en', got '${PW_LANG}'"


def test_a_code_from_the_environment_is_shown_as_written_in_the_key_path() -> None:
    text = BASE.replace("code: techsnab", 'code: "${PW_CODE}"').replace(
        "  - code: klimatprof\n", "  - code: klimatprof\n    colour: red\n"
    )
    [problem] = problems(text, env={"PW_CODE": SECRET})
    assert problem == "distributors[1](klimatprof).colour: unknown key"
    bad_first = BASE.replace("code: techsnab", 'code: "${PW_CODE}"').replace("name: ТехСнаб", "name: ТехСнаб\n    x: 1")
    [problem] = problems(bad_first, env={"PW_CODE": SECRET})
    assert problem == "distributors[0](${PW_CODE}).x: unknown key"
