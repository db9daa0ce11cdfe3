"""The YAML config: a pydantic schema, `${ENV}` substitution, and errors that name the bad key path."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jmespath
import yaml
from apscheduler.triggers.cron import CronTrigger
from cssselect import SelectorError
from jmespath.exceptions import JMESPathError
from lxml import etree
from parsel import css2xpath
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from crawler.errors import UserError
from crawler.parsing.registry_numbers import tax_id_problem

DEFAULT_CONFIG = "pilot.yaml"
DEFAULT_TIMEZONE = "Europe/Moscow"
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-(.*?))?\}")
_SECRET_KEYS = {"token", "password", "secret_key"}
# What Telegram's Bot API takes as a chat: a numeric id (groups and channels negative) or a public @username.
_TELEGRAM_CHAT = re.compile(r"^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31})$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Values in a config once YAML aliases are expanded: a real one holds hundreds; nested aliases can make billions.
_MAX_VALUES = 100_000


class ConfigError(UserError):
    """The config file is missing, not YAML, or does not fit the schema.

    `problems` holds every problem found, one line each (the message is the first, with how many more).
    """

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems) or [message]


def _config_error(source: str, problems: Sequence[str]) -> ConfigError:
    """One error for all of a file's problems: the message names the first, `problems` lists them all."""
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return ConfigError(f"{source}: {problems[0]}{more}", [f"{source}: {p}" for p in problems])


def cron_trigger(expr: str, timezone: str) -> CronTrigger:
    """The trigger the scheduler runs on: a 5-field crontab, or 6 fields with seconds first.

    A ValueError says why APScheduler refuses the expression (wrong field count, a value out of range).
    """
    fields = expr.split()
    if len(fields) == 6:
        second, minute, hour, day, month, dow = fields
        return CronTrigger(
            second=second, minute=minute, hour=hour, day=day, month=month, day_of_week=dow, timezone=timezone
        )
    return CronTrigger.from_crontab(expr, timezone=timezone)


def _cron_expr(value: str) -> str:
    if len(value.split()) not in (5, 6):
        raise ValueError(f"expected a cron expression of 5 fields (or 6 with seconds first), got {value!r}")
    try:
        trigger = cron_trigger(value, "UTC")
    except ValueError as exc:
        raise ValueError(f"impossible cron expression {value!r}: {exc}") from None
    if trigger.get_next_fire_time(None, dt.datetime.now(dt.UTC)) is None:
        raise ValueError(f"the cron expression {value!r} never fires (a day the month never has?)")
    return value


def _http_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/$.?#].[^\s]*$", value, re.IGNORECASE):
        raise ValueError(f"expected an http(s) URL, got {value!r}")
    try:
        parts = urlsplit(value)
        valid = bool(parts.hostname) and parts.port != 0
    except ValueError:  # a port out of range or not a number, a broken IPv6 address
        valid = False
    if not valid:
        raise ValueError(f"expected an http(s) URL with a host (and a valid port), got {value!r}")
    return value


XPATH_PREFIX = "xpath:"
# The XPath extensions selectors may use (EXSLT regular expressions and sets), as crawler/extract.py evaluates them.
XPATH_NAMESPACES = {"re": "http://exslt.org/regular-expressions", "set": "http://exslt.org/sets"}


_EMPTY_PAGE = etree.fromstring(b"<html/>")


def _selector(query: str) -> str:
    """A selector that compiles as crawls compile it (CSS through parsel's translation, XPath after `xpath:`) and
    runs: evaluated once on an empty page, so an undefined prefix or variable fails here, not on every page."""
    is_xpath = query.startswith(XPATH_PREFIX)
    try:
        path = query.removeprefix(XPATH_PREFIX).strip() if is_xpath else css2xpath(query)
        etree.XPath(path, namespaces=XPATH_NAMESPACES)(_EMPTY_PAGE)
    except (SelectorError, etree.XPathError) as exc:
        raise ValueError(f"invalid {'XPath' if is_xpath else 'CSS'} selector {query!r}: {exc}") from None
    return query


def _jmespath(query: str) -> str:
    """A JMESPath that compiles (as Scrapy's `.jmespath()` compiles it), so a typo fails here, not on every page."""
    try:
        jmespath.compile(query)
    except JMESPathError as exc:
        raise ValueError(f"invalid JMESPath {query!r}: {str(exc).splitlines()[0]}") from None
    return query


def _tax_id(value: str) -> str:
    """An ИНН whose control digits match: a typo in the config would authorise nobody (or somebody else)."""
    problem = tax_id_problem(value)
    if problem is not None:
        raise ValueError(f"{value!r} {problem}")
    return value


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {value!r}: {exc}") from None
    return value


def _email_address(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError(f"not an email address: {value!r}")
    return value


def _telegram_chat(value: str) -> str:
    if not _TELEGRAM_CHAT.match(value):
        raise ValueError(f"not a Telegram chat (a numeric id, or @name of a public channel): {value!r}")
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]
EmailAddress = Annotated[str, AfterValidator(_email_address)]
TelegramChat = Annotated[str, AfterValidator(_telegram_chat)]
JmesPath = Annotated[str, AfterValidator(_jmespath)]
Regex = Annotated[str, AfterValidator(_regex)]
TaxId = Annotated[str, AfterValidator(_tax_id), Field(description="ИНН: 10 digits (a company), 12 (a person)")]
PriceBasis = Literal["seller", "shown", "card"]
Code = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Severity = Literal["info", "warning", "critical"]
RuleName = Literal[
    "dumping",
    "stock_out",
    "low_stock",
    "regional_shortage",
    "parallel_import",
    "price_move",
    "crawler_health",
    "assortment_gap",
    "platform_discount",
    "unlisted_storefront",
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Politeness(Strict):
    concurrency: int = Field(4, ge=1, le=64)
    delay: float = Field(0.0, ge=0, le=60, description="seconds between requests to the site")
    autothrottle: bool = True
    obey_robots: bool = True
    timeout: float = Field(30, gt=0, le=600)
    retries: int = Field(3, ge=0, le=20)
    user_agent: str | None = None


class Selectors(Strict):
    """CSS (default) or XPath (`xpath:` prefix) per field; each may be absent."""

    product_links: str | None = None
    next_page: str | None = None
    offer: str | None = Field(
        None, description="one seller's offer on a multi-seller page; fields below read inside it"
    )
    seller_id: str | None = None
    name: str | None = None
    price: str | None = None
    seller_price: str | None = Field(None, description="a marketplace's seller's own price, before its discount")
    card_price: str | None = Field(None, description="a card, bank or wallet price, where shown")
    old_price: str | None = None
    currency: str | None = None
    availability: str | None = None
    quantity: str | None = None
    vendor_code: str | None = None
    ean: str | None = None
    seller: str | None = None
    markers: str | None = None

    @field_validator("*")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        return None if value is None else _selector(value)


class Canary(Strict):
    url: HttpUrl
    price: Decimal | None = None
    stock: Literal["in_stock", "low_stock", "out_of_stock", "preorder"] | None = None


class Feed(Strict):
    url: HttpUrl
    format: Literal["yml", "csv", "xlsx"] = "yml"


class Playwright(Strict):
    wait_for: str = Field("[data-price]", description="CSS selector that appears once prices are rendered")
    timeout: float = Field(20, gt=0, le=120)
    screenshots: bool = False


class VendorCodeAffixes(Strict):
    prefixes: list[str] = []
    suffixes: list[str] = []


class DistributorSeller(Strict):
    legal_name: str | None = None
    tax_id: str | None = None


class Contact(Strict):
    """Who at a distributor receives notices about its sellers' violations (enforcement)."""

    person: str | None = None
    email: EmailAddress | None = None
    telegram: TelegramChat | None = Field(None, description="the contact's Telegram chat with the brand's bot")
    seller: str | None = Field(None, description="a marketplace seller's id: the contact speaks for that seller only")
    language: Literal["ru", "en"] | None = Field(None, description="the notices' language; default notify.language")

    @model_validator(mode="after")
    def _reachable(self) -> Contact:
        if self.email is None and self.telegram is None:
            raise ValueError("a contact needs an `email` and/or a `telegram` chat")
        return self


class Region(Strict):
    """A delivery region of a marketplace: each product page is read once per region."""

    code: Code
    name: str
    query: dict[str, str] = Field({}, description="query parameters that choose the region (added to the URL)")
    cookies: dict[str, str] = Field({}, description="cookies that choose the region (the URL gets #region=code)")

    @model_validator(mode="after")
    def _chooses(self) -> Region:
        if not (self.query or self.cookies):
            raise ValueError("a region needs `query` parameters or `cookies` that choose it")
        return self


class JsonFields(Strict):
    """A JMESPath per field, relative to one offer of the JSON document."""

    seller_id: JmesPath | None = None
    seller: JmesPath | None = None
    name: JmesPath | None = None
    vendor_code: JmesPath | None = None
    ean: JmesPath | None = None
    price: JmesPath | None = Field(None, description="the shown price: what the buyer pays without a card")
    seller_price: JmesPath | None = Field(None, description="the seller's own price, before the platform's discount")
    old_price: JmesPath | None = None
    card_price: JmesPath | None = Field(None, description="a card, bank or wallet price, where shown")
    quantity: JmesPath | None = None
    stock: JmesPath | None = Field(None, description="an availability text, read as the pages' texts are")
    currency: JmesPath | None = None


class JsonSource(Strict):
    """Offers read from the JSON a marketplace's page fetches: captured while rendering, or asked for directly."""

    mode: Literal["capture", "direct"] = "capture"
    url: str = Field(
        description="capture: a regex the fetched JSON's URL matches; direct: a template with {base} and {id}"
    )
    product_id: Regex | None = Field(None, description="direct: a regex on the product page URL; group 1 is {id}")
    offers: JmesPath | None = Field(None, description="the list of offers in the document; none: one offer")
    fields: JsonFields
    price_unit: Literal["rub", "kopeck"] = "rub"
    fallback_render: bool = Field(True, description="read the rendered page when the JSON gives no offer")

    @model_validator(mode="after")
    def _addressable(self) -> JsonSource:
        if self.fields.price is None and self.fields.seller_price is None:
            raise ValueError("json.fields needs `price` or `seller_price`")
        if self.mode == "capture":
            _regex(self.url)
        elif self.product_id is None:
            raise ValueError("json mode `direct` needs `product_id`: a regex whose group 1 is the product's id")
        elif "{id}" not in self.url:
            raise ValueError("json mode `direct`: `url` must contain {id}")
        elif re.compile(self.product_id).groups < 1:
            raise ValueError("json.product_id: the regex needs a group (its group 1 is {id})")
        return self


class LegalFields(Strict):
    """Where the seller's legal details are: JMESPath (`json`) or selectors (`html`)."""

    tax_id: str
    ogrn: str | None = None
    legal_name: str | None = None
    address: str | None = None


class LegalInfo(Strict):
    """Where a marketplace publishes a seller's legal details (legal name, ИНН, ОГРН/ОГРНИП, address)."""

    url: str = Field(description="a template with {base} (scheme://host) and {seller_id}")
    format: Literal["json", "html"] = "json"
    fields: LegalFields

    @model_validator(mode="after")
    def _compiles(self) -> LegalInfo:
        if "{seller_id}" not in self.url:
            raise ValueError("legal_info.url must contain {seller_id}")
        check = _jmespath if self.format == "json" else _selector
        for value in self.fields.model_dump().values():
            if value is not None:
                check(value)
        return self


class Distributor(Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    code: Code
    name: str
    kind: Literal["distributor", "reseller", "marketplace"] = "distributor"
    region: str | None = None
    authorized: bool = True
    enabled: bool = True
    spider: Literal["shop", "feed", "marketplace"] = "shop"
    start_urls: list[HttpUrl] = []
    sitemap_urls: list[HttpUrl] = []
    feed: Feed | None = None
    extraction: Literal["auto", "selectors"] = "auto"
    selectors: Selectors = Selectors()
    decimal_separator: Literal[".", ","] | None = None
    currency: str = Field("RUB", pattern=r"^[A-Z]{3}$")
    vendor_code_affixes: VendorCodeAffixes = VendorCodeAffixes()
    canary: Canary | None = None
    politeness: Politeness = Politeness()
    playwright: Playwright = Playwright()
    seller: DistributorSeller = DistributorSeller()
    contacts: list[Contact] = []
    schedule: Annotated[str, AfterValidator(_cron_expr)] | None = Field(
        None, description="cron override for this distributor"
    )
    assortment: list[str] = Field(
        [], description="catalog vendor codes the distributor must offer in stock (an assortment gap otherwise)"
    )
    regions: list[Region] = []
    json_source: JsonSource | None = Field(None, alias="json")
    legal_info: LegalInfo | None = None
    price_basis: PriceBasis | None = Field(None, description="overrides rules.dumping.price_basis here")

    @property
    def reads_seller_price(self) -> bool:
        """The site is read for the seller's own price (JSON or a selector), not only the shown one."""
        from_json = self.json_source is not None and self.json_source.fields.seller_price is not None
        return from_json or self.selectors.seller_price is not None

    @model_validator(mode="after")
    def _entry_points(self) -> Distributor:
        if self.spider == "feed" and self.feed is None:
            raise ValueError("a feed spider needs `feed: {url, format}`")
        if self.spider != "feed" and not (self.start_urls or self.sitemap_urls):
            raise ValueError("needs `start_urls` or `sitemap_urls`")
        if self.extraction == "selectors" and self.selectors.price is None:
            raise ValueError("extraction `selectors` needs at least `selectors.price`")
        if (self.regions or self.json_source or self.legal_info) and self.spider != "marketplace":
            raise ValueError("`regions`, `json` and `legal_info` are for the `marketplace` spider")
        if len({r.code for r in self.regions}) != len(self.regions):
            raise ValueError("regions: a region code appears twice")
        return self


class AuthorizedSeller(Strict):
    """A seller allowed to sell the brand on a marketplace: a storefront (`seller_id`), or every storefront of a
    legal entity (`tax_id` alone)."""

    marketplace: Code
    seller_id: str | None = None
    name: str
    legal_name: str | None = None
    tax_id: TaxId | None = None

    @model_validator(mode="after")
    def _names_someone(self) -> AuthorizedSeller:
        if self.seller_id is None and self.tax_id is None:
            raise ValueError("an authorised seller needs a `seller_id` (a storefront) or a `tax_id` (ИНН)")
        return self


class LegalEntityConfig(Strict):
    """A legal entity the brand knows: authorised (a contract) or not, and the distributor it buys from."""

    tax_id: TaxId
    name: str
    ogrn: str | None = Field(None, pattern=r"^\d{13}(\d{2})?$", description="ОГРН (13 digits) or ОГРНИП (15)")
    distributor: Code | None = Field(None, description="the distributor it buys the brand's goods from")
    authorized: bool = True


class MatchingVocabulary(Strict):
    """This catalog's shop words beyond pipelines/vocabulary/<language>.yaml (merged into them)."""

    languages: list[Literal["ru", "en"]] = Field(["ru", "en"], min_length=1)
    synonyms: dict[str, list[str]] = {}
    body_words: list[str] = []
    kit_words: list[str] = []
    noise_words: list[str] = []
    colours: dict[str, list[str]] = {}
    units: dict[str, tuple[str, Decimal]] = {}
    brands: dict[str, list[str]] = {}
    other_brands: list[str] = []


class Matching(Strict):
    fuzzy_threshold: float = Field(80, ge=50, le=100)
    fuzzy_margin: float = Field(6, ge=0, le=50)
    model_word_score: float = Field(
        60,
        ge=0,
        le=100,
        description="least name score of a title that names a catalog product's model (its words may be few)",
    )
    spec_bonus: float = Field(
        10, ge=0, le=50, description="points a title's spec number adds to a product's name score when they agree"
    )
    brand_tokens: list[str] = []
    vocabulary: MatchingVocabulary = MatchingVocabulary()
    review_below_confidence: float = Field(0.9, ge=0, le=1)
    accessory_words: list[str] = Field(
        [
            "фильтр",
            "чехол",
            "чехлы",
            "запчасть",
            "картридж",
            "насадка",
            "пульт",
            "ножки",
            "кронштейн",
            "подставка",
            "крепление",
            "совместим",
            "аналог",
            "filter",
            "cover",
            "spare",
            "cartridge",
            "compatible",
        ],
        description="words that mark an accessory for a product; a title with one the product's name lacks is never "
        "auto-matched (word forms count: фильтр → фильтры, запчасть → запчасти)",
    )
    accessory_links: list[str] = Field(
        ["для", "к", "под", "for"],
        description="words that, right before a vendor code or the brand (`для TL-3001`), mark an accessory",
    )


class Promo(Strict):
    name: str
    start: dt.date
    end: dt.date
    vendor_codes: list[str] = []
    categories: list[str] = []
    distributors: list[Code] = []
    tolerance_pct: Decimal | None = Field(None, ge=0, le=100)

    @model_validator(mode="after")
    def _order(self) -> Promo:
        if self.end < self.start:
            raise ValueError("`end` is before `start`")
        return self


class DumpingRule(Strict):
    enabled: bool = True
    price_basis: PriceBasis = Field(
        "seller", description="the price judged: the seller's own, the shown one, or the card price"
    )
    tolerance_pct: Decimal = Field(Decimal(5), ge=0, le=100)
    critical_below_pct: Decimal = Field(Decimal(15), ge=0, le=100, description="deviation for critical")
    by_category: dict[str, Decimal] = {}
    by_vendor_code: dict[str, Decimal] = {}
    by_distributor: dict[str, Decimal] = {}
    promos: list[Promo] = []


class StockOutRule(Strict):
    enabled: bool = True
    low_stock_threshold: int = Field(3, ge=0)
    regional_shortage_min_distributors: int = Field(2, ge=1)


class ParallelImportRule(Strict):
    enabled: bool = True
    unlisted_storefront: bool = Field(
        True, description="report a storefront, not on the list, of an authorised legal entity"
    )
    markers: list[str] = [
        "из-за рубежа",
        "доставка из-за границы",
        "глобальная версия",
        "международная версия",
        "импорт",
        "ships from abroad",
        "global version",
        "international version",
    ]


class PriceMoveRule(Strict):
    enabled: bool = True
    threshold_pct: Decimal = Field(Decimal(20), gt=0, le=1000)


class CrawlHealthRule(Strict):
    min_offer_share: float = Field(0.5, ge=0, le=1, description="of the last good run's offers")
    max_problem_share: float = Field(
        0.1, ge=0, le=1, description="of product pages blocked, failed, dropped, or without a firm, plausible price"
    )
    max_not_found_share: float = Field(0.1, ge=0, le=1, description="of known listings answering 404/410")


class SuspectPriceRule(Strict):
    """A price this far from the RRP in force is a misread or a wrong match, not an offer price."""

    below_rrp_share: Decimal = Field(Decimal("0.3"), ge=0, le=1, description="suspect below RRP × this")
    above_rrp_times: Decimal = Field(Decimal(10), ge=1, description="suspect above RRP × this")


class PlatformDiscountRule(Strict):
    """A shown price below the threshold only because of the platform's own discount: an info finding."""

    enabled: bool = True


class AssortmentGapRule(Strict):
    enabled: bool = True
    from_sales_plan: bool = Field(
        False,
        description="also every SKU the month's sales plan gives a distributor (not only its `assortment` list)",
    )


class Rules(Strict):
    dumping: DumpingRule = DumpingRule()
    stock_out: StockOutRule = StockOutRule()
    parallel_import: ParallelImportRule = ParallelImportRule()
    price_move: PriceMoveRule = PriceMoveRule()
    crawl_health: CrawlHealthRule = CrawlHealthRule()
    suspect_price: SuspectPriceRule = SuspectPriceRule()
    assortment_gap: AssortmentGapRule = AssortmentGapRule()
    platform_discount: PlatformDiscountRule = PlatformDiscountRule()


class RouteMatch(Strict):
    rules: list[RuleName] = []
    severities: list[Severity] = []
    distributors: list[Code] = []
    categories: list[str] = []


class Route(Strict):
    name: str
    match: RouteMatch = RouteMatch()
    telegram: list[str] = []
    email: list[str] = []
    mode: Literal["instant", "digest"] = "instant"

    @field_validator("email")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        for address in value:
            _email_address(address)
        return value

    @field_validator("telegram")
    @classmethod
    def _chats(cls, value: list[str]) -> list[str]:
        for chat in value:
            _telegram_chat(chat)
        return value

    @model_validator(mode="after")
    def _recipients(self) -> Route:
        if not (self.telegram or self.email):
            raise ValueError("the route names no recipient: give it `telegram` chats and/or `email` addresses")
        return self


class Telegram(Strict):
    token: SecretStr | None = None
    base_url: HttpUrl | None = Field(None, description="Bot API base, for a local test server")
    rate_per_second: float = Field(25, gt=0, le=30)
    read_timeout: float = Field(30, gt=0, le=90, description="Seconds to wait for the Bot API's answer to a send")


class Email(Strict):
    host: str | None = None
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    sender: str = "pricewatch@localhost"
    timeout: float = Field(30, gt=0)


class Notify(Strict):
    language: Literal["ru", "en"] = "ru"
    telegram: Telegram = Telegram()
    email: Email = Email()
    max_attempts: int = Field(12, ge=1, le=100)
    digest_attach_xlsx: bool = True
    journal_dir: str | None = Field(None, description="Where the sent-journal lives on the host that flushes")


class Bot(Strict):
    allowed_chats: list[str] = []
    chat_scopes: dict[str, list[str]] = Field(
        {}, description="chat id → the distributor codes it sees (a chat not listed sees every distributor)"
    )

    @field_validator("chat_scopes", mode="before")
    @classmethod
    def _chat_ids(cls, value: object) -> object:
        """Chat ids as YAML writes them (a bare number) are the same chat as a quoted one."""
        return {str(k): v for k, v in value.items()} if isinstance(value, dict) else value

    def scope(self, chat_id: int | str) -> list[str] | None:
        """The distributor codes the chat sees; None: every distributor."""
        return self.chat_scopes.get(str(chat_id))


class Schedule(Strict):
    cron: str = "0 6 * * *"
    max_parallel_crawls: int = Field(2, ge=1, le=32)
    crawl_time_limit_minutes: int = Field(120, ge=1)
    misfire_grace_minutes: int = Field(180, ge=1)

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        return _cron_expr(value)


class Evidence(Strict):
    dir: str = "evidence"
    retention_days: int = Field(365, ge=1)
    screenshots: bool = True


class ScrapydHost(Strict):
    url: HttpUrl
    project: str = "pricewatch"
    config: str | None = Field(None, description="the config file's path on that host; default: its PRICEWATCH_CONFIG")
    database: Literal["environment", "job"] = Field(
        "environment", description="where the host's crawls get the database URL: its DATABASE_URL, or the job"
    )
    username: str | None = None
    password: SecretStr | None = None


class Crawl(Strict):
    backend: Literal["local", "scrapyd"] = "local"
    scrapyd: list[ScrapydHost] = []

    @model_validator(mode="after")
    def _hosts(self) -> Crawl:
        if self.backend == "scrapyd" and not self.scrapyd:
            raise ValueError("backend `scrapyd` needs at least one host under `scrapyd`")
        return self


class Web(Strict):
    """The managers' panel (`pricewatch web`)."""

    base_url: HttpUrl | None = Field(
        None, description="the panel's public address; set, every link in messages and reports points to the panel"
    )
    language: Literal["ru", "en"] = "ru"
    host: str = Field("127.0.0.1", description="the address uvicorn listens on (nginx in front of it)")
    port: int = Field(8080, ge=1, le=65535)
    secret_key: SecretStr | None = Field(None, description="signs the session cookies; at least 32 characters")
    session_hours: int = Field(12, ge=1, le=720, description="a login lasts this long")
    secure_cookies: Literal["auto", "always", "never"] = Field(
        "auto", description="`auto`: Secure cookies when base_url is https"
    )
    login_attempts: int = Field(5, ge=1, le=100, description="failed logins allowed per user name and per client")
    login_window_minutes: int = Field(15, ge=1, le=1440)
    forwarded_allow_ips: list[str] = Field(
        ["127.0.0.1"], description="proxies whose X-Forwarded-For / -Proto headers are believed"
    )

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("the secret key must be at least 32 characters")
        return value

    @property
    def secure(self) -> bool:
        """Whether session cookies carry the Secure flag."""
        if self.secure_cookies == "auto":
            return bool(self.base_url and self.base_url.lower().startswith("https://"))
        return self.secure_cookies == "always"


_QUIET_SCAN = 20_000  # schedule fire times looked at for one outside the enforcement quiet hours


class ChannelManager(Strict):
    """A brand's channel manager: approves first notices, hears of escalations, asks the bot for `/cases`."""

    name: str
    telegram: TelegramChat | None = None
    email: EmailAddress | None = None
    distributors: list[Code] = Field([], description="the distributors this manager answers for; empty: all")


class Recipients(Strict):
    telegram: list[TelegramChat] = []
    email: list[EmailAddress] = []


class QuietHours(Strict):
    """Local times between which no enforcement message goes out (`start` after `end`: over midnight)."""

    start: dt.time
    end: dt.time

    @model_validator(mode="after")
    def _span(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("`start` and `end` are the same time: that is no quiet hours, or all day")
        return self

    def holds(self, local: dt.time) -> bool:
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def end_after(self, moment: dt.datetime, tz: ZoneInfo) -> dt.datetime | None:
        """When the quiet hours that hold at `moment` end, in UTC; None when they do not hold then."""
        local = moment.astimezone(tz)
        if not self.holds(local.time()):
            return None
        end = dt.datetime.combine(local.date(), self.end, tz)
        if end <= local:
            end = dt.datetime.combine(local.date() + dt.timedelta(days=1), self.end, tz)
        return end.astimezone(dt.UTC)


class Ladder(Strict):
    """What follows a first notice the seller does not act on, in calendar days after each notice's day."""

    days_to_fix: int = Field(3, ge=1, le=90, description="the deadline the first notice gives")
    second_notice: bool = True
    days_to_fix_second: int = Field(3, ge=1, le=90, description="the deadline the second notice gives")
    escalate: bool = Field(True, description="after the last deadline, tell the channel manager and `escalation`")


class Enforcement(Strict):
    """Violation cases, notices to sellers and the escalation ladder (docs/enforcement.md)."""

    enabled: bool = True
    rules: list[Literal["dumping", "parallel_import"]] = ["dumping", "parallel_import"]
    approval: Literal["case", "distributor", "off"] = Field(
        "case",
        description="who waits for a manager's approval before the first notice: every case, a distributor's "
        "first case only, or none",
    )
    ladder: Ladder = Ladder()
    relapse_window_days: int = Field(30, ge=0, le=365, description="a violation this soon after a fix is a repeat")
    quiet_hours: QuietHours | None = None
    managers: list[ChannelManager] = []
    escalation: Recipients = Field(Recipients(), description="the second address of an escalation: head of sales")
    templates_dir: str | None = Field(None, description="a folder of notice templates that replace the defaults")
    attach_evidence: bool = Field(True, description="email notices carry the evidence packet (zip)")


class Config(Strict):
    timezone: str = DEFAULT_TIMEZONE
    distributors: list[Distributor]
    sellers: list[AuthorizedSeller] = []
    legal_entities: list[LegalEntityConfig] = []
    matching: Matching = Matching()
    rules: Rules = Rules()
    routes: list[Route] = []
    notify: Notify = Notify()
    bot: Bot = Bot()
    schedule: Schedule = Schedule()
    evidence: Evidence = Evidence()
    crawl: Crawl = Crawl()
    web: Web = Web()
    enforcement: Enforcement = Enforcement()

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _unique_codes(self) -> Config:
        seen: set[str] = set()
        for d in self.distributors:
            if d.code in seen:
                raise ValueError(f"distributor code {d.code!r} appears twice")
            seen.add(d.code)
        marketplaces = {d.code for d in self.distributors if d.kind == "marketplace"}
        for i, s in enumerate(self.sellers):
            if s.marketplace not in marketplaces:
                raise ValueError(f"sellers[{i}].marketplace: {s.marketplace!r} is not a marketplace distributor")
        return self

    @model_validator(mode="after")
    def _legal_entities(self) -> Config:
        """Each ИНН once; the distributor an entity buys from is one the config has (and no marketplace)."""
        suppliers = {d.code for d in self.distributors if d.kind != "marketplace"}
        seen: set[str] = set()
        for i, entity in enumerate(self.legal_entities):
            where = f"legal_entities[{i}]({entity.tax_id})"
            if entity.tax_id in seen:
                raise ValueError(f"{where}: the ИНН appears twice")
            seen.add(entity.tax_id)
            if entity.distributor is not None and entity.distributor not in suppliers:
                raise ValueError(f"{where}.distributor: no distributor {entity.distributor!r} (not a marketplace)")
        return self

    def price_basis(self, distributor_code: str) -> PriceBasis:
        """The price dumping judges at this distributor (its own setting, else `rules.dumping.price_basis`)."""
        for d in self.distributors:
            if d.code == distributor_code and d.price_basis is not None:
                return d.price_basis
        return self.rules.dumping.price_basis

    @model_validator(mode="after")
    def _routed_distributors(self) -> Config:
        """A route matching a distributor the config does not have would never fire (a typo, or one removed)."""
        codes = set(self.codes())
        for i, route in enumerate(self.routes):
            for j, code in enumerate(route.match.distributors):
                if code not in codes:
                    where = f"routes[{i}]({_shown(route.name)}).match.distributors[{j}]"
                    raise ValueError(f"{where}: no distributor {code!r} in the config")
        return self

    @model_validator(mode="after")
    def _scoped_chats(self) -> Config:
        """A chat scoped to distributors the config does not have would see nothing (a typo, or one removed)."""
        codes = set(self.codes())
        for chat, scope in self.bot.chat_scopes.items():
            if chat not in {str(c) for c in self.bot.allowed_chats}:
                raise ValueError(f"bot.chat_scopes.{chat}: the chat is not on bot.allowed_chats")
            if not scope:
                raise ValueError(f"bot.chat_scopes.{chat}: name at least one distributor")
            for j, code in enumerate(scope):
                if code not in codes:
                    raise ValueError(f"bot.chat_scopes.{chat}[{j}]: no distributor {code!r} in the config")
        return self

    @model_validator(mode="after")
    def _enforcement_references(self) -> Config:
        """Managers answer for distributors the config has; only a marketplace's contacts may name a seller."""
        codes = set(self.codes())
        for i, manager in enumerate(self.enforcement.managers):
            for j, code in enumerate(manager.distributors):
                if code not in codes:
                    where = f"enforcement.managers[{i}]({_shown(manager.name)}).distributors[{j}]"
                    raise ValueError(f"{where}: no distributor {code!r} in the config")
        for d in self.distributors:
            for j, contact in enumerate(d.contacts):
                if contact.seller is not None and d.kind != "marketplace":
                    where = f"distributors({d.code}).contacts[{j}].seller"
                    raise ValueError(f"{where}: only a marketplace has sellers; a shop's contact names none")
        return self

    @model_validator(mode="after")
    def _notices_can_go(self) -> Config:
        """Quiet hours that cover every run of the daily schedule would hold every notice for ever."""
        quiet = self.enforcement.quiet_hours
        if quiet is None:
            return self
        trigger = cron_trigger(self.schedule.cron, self.timezone)
        now = dt.datetime.now(self.tz)
        fire = trigger.get_next_fire_time(None, now)
        for _ in range(_QUIET_SCAN):  # a cron firing every second would be scanned for ever
            if fire is None or not quiet.holds(fire.astimezone(self.tz).time()):
                return self
            if fire > now + dt.timedelta(days=8):
                break
            fire = trigger.get_next_fire_time(fire, fire + dt.timedelta(seconds=1))
        else:
            return self
        raise ValueError(
            "enforcement.quiet_hours: the daily run (schedule.cron) always falls inside them, so no notice would "
            "ever go; end the quiet hours before the run or move the run"
        )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def distributor(self, code: str) -> Distributor:
        for d in self.distributors:
            if d.code == code:
                return d
        raise ConfigError(f"no distributor {code!r} in the config (known: {', '.join(self.codes())})")

    def codes(self) -> list[str]:
        return [d.code for d in self.distributors]


def _shown(key: Any) -> str:
    """A key as an error line shows it: as written when printable, else quoted, so the message stays one line."""
    text = str(key)
    return text if text.isprintable() else repr(text)


def _path_str(loc: tuple[int | str, ...], data: Any) -> str:
    """`('distributors', 1, 'politeness')` → `distributors[1].politeness`, with the code when there is one."""
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            code = None
            if isinstance(node, list) and 0 <= part < len(node) and isinstance(node[part], dict):
                code = node[part].get("code") or node[part].get("name")
            if code:
                out += f"({_shown(code)})"
        else:
            out += f".{_shown(part)}" if out else _shown(part)
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            node = None
    return out


@dataclass
class _Interpolation:
    """`${VAR}` substitution over a parsed YAML tree, noting every problem and every value the environment gave."""

    env: dict[str, str]
    problems: list[str] = field(default_factory=list)
    # Each string built from the environment → the text the file has there, which errors show instead of it.
    written: dict[str, str] = field(default_factory=dict)

    def node(self, node: Any, path: str) -> Any:
        if isinstance(node, dict):
            return {key: self.entry(key, value, path) for key, value in node.items()}
        if isinstance(node, list):
            return [self.node(v, f"{path}[{i}]") for i, v in enumerate(node)]
        if isinstance(node, str) and "${" in node:
            return self.text(node, path)
        return node

    def entry(self, key: Any, value: Any, path: str) -> Any:
        sub = f"{path}.{_shown(key)}" if path else _shown(key)
        if key in _SECRET_KEYS and isinstance(value, str) and not _ENV_REF.fullmatch(value.strip()):
            self.problems.append(f"{sub}: secrets come only from the environment, write it as ${{ENV_VAR}}")
            return None
        return self.node(value, sub)

    def text(self, template: str, path: str) -> str | None:
        used: list[str] = []

        def repl(m: re.Match[str]) -> str:
            name, default = m.group(1), m.group(2)
            if self.env.get(name):
                used.append(name)
                return self.env[name]
            if default is not None:
                return default
            self.problems.append(f"{path}: environment variable {name} is not set")
            return ""

        value = _ENV_REF.sub(repl, template)
        if used:
            self.written[value] = template
        # An unset optional secret (`${X:-}`) means "not configured".
        return None if value == "" and _ENV_REF.fullmatch(template.strip()) else value

    def mask(self, text: str) -> str:
        """`text` with each quoted value that came from the environment quoted as the file writes it: `'${VAR}'`.

        Only whole quoted values are replaced (as error texts quote them), so even a one-letter value hides no
        other text.
        """
        quoted = {repr(value): repr(template) for value, template in self.written.items()}
        if not quoted:
            return text
        pattern = "|".join(re.escape(q) for q in sorted(quoted, key=len, reverse=True))
        return re.sub(pattern, lambda m: quoted[m.group(0)], text)


def _check_size(data: Any, source: str) -> None:
    """Refuse YAML whose aliases expand past `_MAX_VALUES` (a "billion laughs"), before anything walks it all."""
    stack, count = [data], 0
    while stack:
        node = stack.pop()
        count += 1
        if count > _MAX_VALUES:
            raise ConfigError(f"{source}: expands to more than {_MAX_VALUES:,} values (YAML aliases nested too deep)")
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader noting each key written twice in one mapping (PyYAML silently keeps the last: a second
    `notify:` section would wipe the first). Keys a merge (`<<: *base`) brings in may be overridden, as YAML means."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[int, str]] = []  # (line, problem): mappings are built outside in, not in order

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.note_duplicates(node)
        return super().construct_mapping(node, deep=deep)

    def note_duplicates(self, node: yaml.MappingNode) -> None:
        first_line: dict[Any, int] = {}
        for key_node, _value in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key, mark = self.construct_object(key_node), key_node.start_mark
            if key in first_line:
                self.duplicates.append(
                    (
                        mark.line,
                        f"line {mark.line + 1}, column {mark.column + 1}: duplicate key {_shown(key)!r} "
                        f"(first on line {first_line[key]}): a key may appear once in a mapping",
                    )
                )
            else:
                first_line[key] = mark.line + 1


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{where}not valid YAML: {problem}"


def _read_yaml(text: str, source: str) -> Any:
    """The YAML document, safely loaded; a syntax error or a duplicate key is a ConfigError with its line."""
    try:
        # The reader checks every character as the loader is built: a control character fails here already.
        loader = _UniqueKeyLoader(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: {_yaml_problem(exc)}") from None
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: {_yaml_problem(exc)}") from None
    finally:
        loader.dispose()
    if loader.duplicates:
        raise _config_error(source, [problem for _line, problem in sorted(loader.duplicates)])
    return data


def _problem(err: ErrorDetails, raw: Any) -> str:
    """One schema error as a line: the key path (as the file writes it), what was expected, what was found."""
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    elif err["type"] == "missing":
        msg = "required key is missing"
    got = ""
    if err["type"] not in {"missing", "extra_forbidden"} and not isinstance(err.get("input"), dict | list):
        got = "" if repr(err.get("input")) in msg else f", got {err.get('input')!r}"
    loc = tuple(err["loc"])
    # A check of the whole config (loc `()`) names its key path itself.
    return f"{_path_str(loc, raw)}: {msg}{got}" if loc else f"{msg}{got}"


def parse_config(text: str, source: str = "<config>", env: dict[str, str] | None = None) -> Config:
    """Parse and validate YAML text; every failure is a ConfigError naming the source and key path.

    The error's `problems` lists every problem found; a value that came from the environment is never shown.
    """
    raw = _read_yaml(text, source)
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping of sections at the top level")
    _check_size(raw, source)
    interpolation = _Interpolation(dict(os.environ) if env is None else env)
    data = interpolation.node(raw, "")
    if interpolation.problems:
        raise _config_error(source, interpolation.problems)
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        problems = [interpolation.mask(_problem(err, raw)) for err in exc.errors()]
        raise _config_error(source, problems) from None


def config_file(path: str | os.PathLike[str] | None = None) -> Path:
    """The config file named on the command line, by PRICEWATCH_CONFIG, or `pilot.yaml`."""
    return Path(path or os.environ.get("PRICEWATCH_CONFIG") or DEFAULT_CONFIG)


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Load the config named on the command line, by PRICEWATCH_CONFIG, or `pilot.yaml`."""
    file = config_file(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{file}: config file not found") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{file}: not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror}") from None
    return parse_config(text, str(file))


@dataclass(frozen=True, slots=True)
class _Loaded:
    """A config as parsed from a file in a given state (modification time and size) and environment."""

    stamp: tuple[int, int]
    env: dict[str, str]
    config: Config


_loaded: dict[Path, _Loaded] = {}


def shared_config(path: str | os.PathLike[str] | None = None) -> Config:
    """`load_config` for the parts of one process that share a config (a crawl's spider and pipelines).

    The file is parsed once per process; again only when it changed (modification time or size) or the
    environment its `${VAR}`s come from did. Config objects are frozen, so sharing one is safe.
    """
    file = config_file(path)
    try:
        status = file.stat()
    except OSError:
        return load_config(file)  # it says why the file cannot be read
    key, stamp, env = file.resolve(), (status.st_mtime_ns, status.st_size), dict(os.environ)
    loaded = _loaded.get(key)
    if loaded is None or loaded.stamp != stamp or loaded.env != env:
        # Stamped before reading: a file changed meanwhile is read again next time, never served stale.
        loaded = _loaded[key] = _Loaded(stamp, env, load_config(file))
    return loaded.config
