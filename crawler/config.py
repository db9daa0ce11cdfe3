"""The YAML config: a pydantic schema, `${ENV}` substitution, and errors that name the bad key path."""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
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

from crawler.errors import UserError

DEFAULT_CONFIG = "pilot.yaml"
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-(.*?))?\}")
_SECRET_KEYS = {"token", "password"}
# Values in a config once YAML aliases are expanded: a real one holds hundreds; nested aliases can make billions.
_MAX_VALUES = 100_000


class ConfigError(UserError):
    """The config file is missing, not YAML, or does not fit the schema."""


def _cron_expr(value: str) -> str:
    if len(value.split()) not in (5, 6):
        raise ValueError(f"expected a cron expression of 5 fields (or 6 with seconds first), got {value!r}")
    return value


def _http_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/$.?#].[^\s]*$", value, re.IGNORECASE):
        raise ValueError(f"expected an http(s) URL, got {value!r}")
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]
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
    old_price: str | None = None
    currency: str | None = None
    availability: str | None = None
    quantity: str | None = None
    vendor_code: str | None = None
    ean: str | None = None
    seller: str | None = None
    markers: str | None = None


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


class Distributor(Strict):
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
    schedule: Annotated[str, AfterValidator(_cron_expr)] | None = Field(
        None, description="cron override for this distributor"
    )

    @model_validator(mode="after")
    def _entry_points(self) -> Distributor:
        if self.spider == "feed" and self.feed is None:
            raise ValueError("a feed spider needs `feed: {url, format}`")
        if self.spider != "feed" and not (self.start_urls or self.sitemap_urls):
            raise ValueError("needs `start_urls` or `sitemap_urls`")
        if self.extraction == "selectors" and self.selectors.price is None:
            raise ValueError("extraction `selectors` needs at least `selectors.price`")
        return self


class AuthorizedSeller(Strict):
    """A seller allowed to sell the brand on a marketplace."""

    marketplace: Code
    seller_id: str
    name: str
    legal_name: str | None = None
    tax_id: str | None = Field(None, pattern=r"^\d{10}(\d{2})?$")


class Matching(Strict):
    fuzzy_threshold: float = Field(88, ge=50, le=100)
    fuzzy_margin: float = Field(6, ge=0, le=50)
    brand_tokens: list[str] = []
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
    max_missing_price_share: float = Field(0.3, ge=0, le=1)


class Rules(Strict):
    dumping: DumpingRule = DumpingRule()
    stock_out: StockOutRule = StockOutRule()
    parallel_import: ParallelImportRule = ParallelImportRule()
    price_move: PriceMoveRule = PriceMoveRule()
    crawl_health: CrawlHealthRule = CrawlHealthRule()


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
            if not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", address):
                raise ValueError(f"not an email address: {address!r}")
        return value


class Telegram(Strict):
    token: SecretStr | None = None
    base_url: HttpUrl | None = Field(None, description="Bot API base, for a local test server")
    rate_per_second: float = Field(25, gt=0, le=30)


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


class Bot(Strict):
    allowed_chats: list[str] = []


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


class Config(Strict):
    timezone: str = "Europe/Moscow"
    distributors: list[Distributor]
    sellers: list[AuthorizedSeller] = []
    matching: Matching = Matching()
    rules: Rules = Rules()
    routes: list[Route] = []
    notify: Notify = Notify()
    bot: Bot = Bot()
    schedule: Schedule = Schedule()
    evidence: Evidence = Evidence()
    crawl: Crawl = Crawl()

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
    return out or "(top level)"


def _substitute(node: Any, path: str, env: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            sub = f"{path}.{_shown(key)}" if path else _shown(key)
            if key in _SECRET_KEYS and isinstance(value, str) and not _ENV_REF.fullmatch(value.strip()):
                raise ConfigError(f"{sub}: secrets come only from the environment, write it as ${{ENV_VAR}}")
            out[key] = _substitute(value, sub, env)
        return out
    if isinstance(node, list):
        return [_substitute(v, f"{path}[{i}]", env) for i, v in enumerate(node)]
    if isinstance(node, str) and "${" in node:

        def repl(m: re.Match[str]) -> str:
            name, default = m.group(1), m.group(2)
            if name in env and env[name] != "":
                return env[name]
            if default is not None:
                return default
            raise ConfigError(f"{path}: environment variable {name} is not set")

        value = _ENV_REF.sub(repl, node)
        # An unset optional secret (`${X:-}`) means "not configured".
        return None if value == "" and _ENV_REF.fullmatch(node.strip()) else value
    return node


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


def parse_config(text: str, source: str = "<config>", env: dict[str, str] | None = None) -> Config:
    """Parse and validate YAML text; every failure is a ConfigError naming the source and key path."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{source}:{where}: not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of sections at the top level")
    _check_size(data, source)
    try:
        data = _substitute(data, "", dict(os.environ) if env is None else env)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif err["type"] == "missing":
            msg = "required key is missing"
        got = ""
        if err["type"] not in {"missing", "extra_forbidden"} and not isinstance(err.get("input"), dict | list):
            got = "" if repr(err.get("input")) in msg else f", got {err.get('input')!r}"
        raise ConfigError(f"{source}: {_path_str(tuple(err['loc']), data)}: {msg}{got}{more}") from None


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
