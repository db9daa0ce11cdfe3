"""Matching 100,000 offers against a 20,000-product catalog (blocking by codes and brand tokens, not all-pairs), and
the accuracy on the labelled set of real-world titles (fixtures/matching) with the default config.

Synthetic but shaped like real crawls: 70 % of the offers are the brand's — a GTIN in one of its printed forms,
a vendor code written with spaces, dots, lower case, a Cyrillic look-alike or the distributor's `-RU` suffix,
a vendor code only in the title, or only the product's name reworded — some of them accessories that name
a catalog code; 30 % are other brands' goods. The value is the time to build the index and match every offer
(`pipelines.matching`); the baseline, in the same run, is the least any matcher does: an exact dictionary lookup
of the offer's vendor-code field. Precision and recall on the synthetic truth are reported beside both.

The labelled set is 700+ Russian offer titles of three brands' tools and appliances as shops, feeds and
marketplaces write them (kits and bodies, capacities, colours, packs, compatible goods, other brands with the same
digits); its baseline is the same exact vendor-code lookup, of a code written in the title.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from bench.common import Figure, quick, stopwatch
from crawler.config import parse_config
from crawler.crawl_process import tune_gc
from fixtures import matching as labelled
from pipelines.matching import CatalogIndex, MatchSettings
from storage.codes import normalize_vendor_code
from storage.queries.matching import CatalogProduct

GOAL_SECONDS = 5.0
# A config that says nothing of matching: the labelled set is matched as a new user would match it.
DEFAULT_CONFIG = """
distributors:
  - {code: labelled, name: Магазины, start_urls: ["http://127.0.0.1:9/"]}
"""
KINDS = ("Конвектор", "Обогреватель", "Вентилятор", "Увлажнитель", "Очиститель", "Радиатор", "Тепловентилятор")
ADJECTIVES = ("электрический", "напольный", "настенный", "ультразвуковой", "инверторный", "керамический", "мини")
FEATURES = ("с Wi-Fi", "с пультом ДУ", "с ионизатором", "с таймером", "с подсветкой", "", "", "")
SERIES = tuple(
    [
        "Aurora",
        "Nord",
        "Vega",
        "Orion",
        "Lux",
        "Comfort",
        "Eco",
        "Smart",
        "Arctic",
        "Breeze",
        "Sahara",
        "Polus",
        "Terra",
        "Aqua",
        "Zefir",
        "Helios",
        "Fjord",
        "Nova",
        "Atlas",
        "Boreas",
        "Siesta",
        "Alpha",
        "Delta",
        "Sigma",
        "Omega",
        "Lumen",
        "Ray",
        "Flame",
        "Frost",
        "Mist",
        "Cloud",
        "Storm",
        "Wave",
        "Sky",
        "Stone",
        "Leaf",
        "Amber",
        "Coral",
        "Ivory",
    ]
)
OTHER_BRANDS = ("Nordwind", "Теплодар", "AquaMist", "Бриз", "Polar", "Vitek", "Scarlett")
SETTINGS = MatchSettings(
    brand_tokens=("Termoline", "Термолайн"),
    accessory_words=("фильтр", "чехол", "картридж", "ножки", "совместим", "аналог", "filter"),
    accessory_links=("для", "for"),
    affixes={"klimatprof": ((), ("-RU",))},
)


@dataclass(frozen=True)
class Offer:
    distributor: str
    url: str
    title: str | None
    vendor_code: str | None
    gtin: str | None
    truth: int | None  # the catalog product it is; None: not ours


def _ean(n: int, prefix: str = "4607") -> str:
    body = f"{prefix}{n:08d}"
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def catalog(size: int) -> list[CatalogProduct]:
    rng = random.Random(7)
    rows = []
    for i in range(size):
        code = f"TL-{10000 + i}"
        # A model line and number as real catalogs have them (`Aurora 12`): each name is one product's.
        model = f"{SERIES[i % len(SERIES)]} {i // len(SERIES) + 1}"
        power = rng.choice((800, 1000, 1500, 2000))
        name = (
            f"{rng.choice(KINDS)} {rng.choice(ADJECTIVES)} Termoline {code} {model} {power} Вт {rng.choice(FEATURES)}"
        )
        name = name.strip()
        gtins = (_ean(i),) if i % 5 else ()
        rows.append(CatalogProduct(i + 1, code, normalize_vendor_code(code), name, "Termoline", gtins))
    return rows


def _code_variant(rng: random.Random, code: str) -> tuple[str, str]:
    """(distributor, code as written)."""
    variants = (
        ("techsnab", code.replace("-", " ")),
        ("techsnab", code.lower().replace("-", ".")),
        ("techsnab", "Т" + code[1:]),  # Cyrillic Т
        ("klimatprof", code.replace("-", "") + "-RU"),
        ("techsnab", code),
    )
    return rng.choice(variants)


def offers(products: list[CatalogProduct], count: int) -> list[Offer]:
    rng = random.Random(11)
    out: list[Offer] = []
    for n in range(count):
        url = f"https://shop.test/p/{n}"
        if rng.random() < 0.30:  # another brand's product, sometimes with its own GTIN
            brand = rng.choice(OTHER_BRANDS)
            code = f"{brand[:2].upper()}-{rng.randint(100, 9999)}"
            title = f"{rng.choice(KINDS)} {rng.choice(ADJECTIVES)} {brand} {code} {rng.choice(FEATURES)}"
            out.append(Offer("techsnab", url, title, code, _ean(n, "6901") if n % 3 else None, None))
            continue
        p = rng.choice(products)
        roll = rng.random()
        if roll < 0.25 and p.gtins:
            gtin = rng.choice((p.gtins[0], "0" + p.gtins[0], f"{p.gtins[0][:1]} {p.gtins[0][1:7]} {p.gtins[0][7:]}"))
            out.append(Offer("techsnab", url, p.name + ", белый", None, gtin, p.id))
        elif roll < 0.55:
            distributor, code = _code_variant(rng, p.vendor_code)
            out.append(Offer(distributor, url, p.name, code, None, p.id))
        elif roll < 0.80:
            title = p.name.replace("Termoline", rng.choice(("Termoline", "Термолайн"))) + " купить"
            out.append(Offer("techsnab", url, title, None, None, p.id))
        elif roll < 0.92:  # the name only, words moved (no code anywhere)
            name_words = p.name.replace(p.vendor_code, "").split()
            title = " ".join([*name_words[:2], "Термолайн", *name_words[2:]])
            out.append(Offer("marketplace", url, title, None, None, p.id))
        else:  # an accessory naming the product's code: not ours
            thing = rng.choice(("Фильтр", "Чехол", "Картридж"))
            title = f"{thing} для {p.name.split()[0].lower()} Termoline {p.vendor_code}"
            out.append(Offer("marketplace", url, title, None, None, None))
    return out


def _quality(predicted: list[int | None], truth: list[int | None]) -> tuple[float, float]:
    """(precision, recall) in %, over the offers that are ours."""
    matched = [(p, t) for p, t in zip(predicted, truth, strict=True) if p is not None]
    correct = sum(1 for p, t in matched if p == t)
    ours = sum(1 for t in truth if t is not None)
    return 100.0 * correct / max(len(matched), 1), 100.0 * correct / max(ours, 1)


def _labelled() -> list[Figure]:
    """Precision and recall on the labelled set, default config; the baseline: a catalog code in the title."""
    rows = [
        CatalogProduct(n, c.vendor_code, normalize_vendor_code(c.vendor_code), c.name, c.brand, ())
        for n, c in enumerate(labelled.catalog(), start=1)
    ]
    index = CatalogIndex(rows, {}, MatchSettings.from_config(parse_config(DEFAULT_CONFIG)))
    codes = {normalize_vendor_code(r.vendor_code): r.vendor_code for r in rows}

    def ours(offer: labelled.LabelledOffer) -> str | None:
        result = index.match(offer)
        return None if result.product_id is None else index.products[result.product_id].row.vendor_code

    def exact(offer: labelled.LabelledOffer) -> str | None:
        found = {codes[c] for c in map(normalize_vendor_code, offer.title.split()) if c in codes}
        return found.pop() if len(found) == 1 else None

    offers = labelled.offers()
    score, base = labelled.accuracy(offers, ours), labelled.accuracy(offers, exact)
    label = f"labelled set, {len(offers)} titles of {len({r.brand for r in rows})} brands, default config"
    return [
        Figure(
            name=f"matching precision, {label}",
            value=score.precision,
            unit="%",
            baseline_name="a catalog code in the title, exact",
            baseline=base.precision,
            goal="100 %",
            met=score.precision == 100.0,
        ),
        Figure(
            name=f"matching recall, {label}",
            value=score.recall,
            unit="%",
            baseline_name="a catalog code in the title, exact",
            baseline=base.recall,
            goal="≥ 99 %",
            met=score.recall >= 99.0,
        ),
    ]


def run() -> list[Figure]:
    products_n, offers_n = (2_000, 10_000) if quick() else (20_000, 100_000)
    products = catalog(products_n)
    batch = offers(products, offers_n)
    truth = [o.truth for o in batch]
    tune_gc()  # the collector as a crawl process tunes it: matching runs in one (pipelines.match)

    with stopwatch() as elapsed:
        exact = {p.vendor_code: p.id for p in products}
        baseline_ids = [exact.get(o.vendor_code) if o.vendor_code else None for o in batch]
    baseline_seconds = elapsed()

    with stopwatch() as elapsed:
        index = CatalogIndex(products, {}, SETTINGS)
        ids = [index.match(o).product_id for o in batch]
    seconds = elapsed()

    precision, recall = _quality(ids, truth)
    base_precision, base_recall = _quality(baseline_ids, truth)
    label = f"{offers_n:,} offers vs {products_n:,} products"
    return [
        Figure(
            name=f"match {label} (index build + match)",
            value=seconds,
            unit="s",
            baseline_name="exact vendor-code dict lookup",
            baseline=baseline_seconds,
            goal=f"< {GOAL_SECONDS:g} s",
            met=seconds < GOAL_SECONDS,
        ),
        Figure(
            name=f"matching precision, {label}",
            value=precision,
            unit="%",
            baseline_name="exact vendor-code dict lookup",
            baseline=base_precision,
            goal="100 %",
            met=precision == 100.0,
        ),
        Figure(
            name=f"matching recall, {label}",
            value=recall,
            unit="%",
            baseline_name="exact vendor-code dict lookup",
            baseline=base_recall,
            goal="≥ 98 % (the brand's offers with a code, GTIN or a distinct name)",
            met=recall >= 98.0,
        ),
        *_labelled(),
    ]
