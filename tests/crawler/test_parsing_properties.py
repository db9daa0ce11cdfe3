"""Hypothesis: the parsers never raise on arbitrary text, and what they return keeps its promises."""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.items import FLAG_PRICE_CONFLICT, FLAG_PRICE_FROM, FLAG_PRICE_ON_REQUEST, StockState
from crawler.parsing.blocking import detect_block
from crawler.parsing.prices import MAX_AMOUNT, ParsedPrice, parse_price, parse_prices_consistent
from crawler.parsing.stock import LOW_STOCK_MAX, from_schema_availability, parse_stock
from crawler.parsing.structured import extract_product

SPACES = [" ", "\xa0", "\u202f", "\u2009"]
# Text that looks like a price tag, so the generator reaches the parser's deeper branches, not only its exits.
PRICE_ALPHABET = st.sampled_from(
    list("0123456789 .,'-–—−/%:+()x×") + SPACES + ["₽", "руб.", "р.", "RUB", "$", "€", "₸", "Br", "от ", "до ", "шт"]
)
price_like = st.lists(PRICE_ALPHABET, max_size=40).map("".join)
any_text = st.one_of(st.text(), price_like, st.binary().map(lambda b: b.decode("cp1251", errors="replace")))
separators = st.sampled_from([None, ".", ","])
REASONS = {"http_401", "http_403", "http_429", "captcha", "cloudflare", "ddos_guard", "qrator", "empty"}


def check_price(parsed: ParsedPrice) -> None:
    assert parsed.flag in {None, FLAG_PRICE_FROM, FLAG_PRICE_ON_REQUEST, FLAG_PRICE_CONFLICT}
    if parsed.amount is not None:
        assert isinstance(parsed.amount, Decimal)
        assert parsed.amount.is_finite()
        assert 0 < parsed.amount < MAX_AMOUNT
        assert parsed.amount.as_tuple().exponent == -2
        assert parsed.flag in {None, FLAG_PRICE_FROM}
    assert parsed.currency is None or (len(parsed.currency) == 3 and parsed.currency.isupper())


@settings(max_examples=300)
@given(text=st.one_of(st.none(), any_text), decimal_separator=separators)
def test_parse_price_never_raises_and_keeps_its_promises(text: str | None, decimal_separator: str | None) -> None:
    parsed = parse_price(text, decimal_separator)
    check_price(parsed)
    assert parsed.raw == text


@given(texts=st.lists(st.one_of(st.none(), any_text), max_size=4), decimal_separator=separators)
def test_parse_prices_consistent_never_raises(texts: list[str | None], decimal_separator: str | None) -> None:
    check_price(parse_prices_consistent(texts, decimal_separator))


def russian(amount: Decimal, space: str, group_dot: bool) -> str:
    """Format an amount as a Russian shop would: "12 990,50" (or "12.990,50"), no kopecks when they are zero."""
    units, cents = divmod(int(amount * 100), 100)
    grouped = f"{units:,}".replace(",", "." if group_dot else space)
    return grouped if cents == 0 else f"{grouped},{cents:02d}"


@settings(max_examples=300)
@given(
    amount=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999999.99"), places=2),
    space=st.sampled_from(SPACES),
    group_dot=st.booleans(),
    currency=st.sampled_from(["₽", " ₽", " руб.", " р.", "р.", " RUB", " рублей"]),
    prefix=st.sampled_from(["", "Цена: ", "Цена ", "Розничная цена: "]),
    decimal_separator=st.sampled_from([None, ","]),
)
def test_a_russian_price_reads_back_as_its_amount(
    amount: Decimal, space: str, group_dot: bool, currency: str, prefix: str, decimal_separator: str | None
) -> None:
    text = f"{prefix}{russian(amount, space, group_dot)}{currency}"
    assert parse_price(text, decimal_separator) == ParsedPrice(amount, "RUB", None, text)


@given(
    price=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999999.99"), places=2),
    monthly=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999999.99"), places=2),
    space=st.sampled_from(SPACES),
    credit=st.sampled_from(["в кредит от {} ₽/мес", "{} ₽ в месяц", "рассрочка 0-0-12: {} ₽ × 12", "платёж от {} ₽"]),
)
def test_a_credit_amount_is_never_the_price(price: Decimal, monthly: Decimal, space: str, credit: str) -> None:
    offer = f"{russian(price, space, False)} ₽"
    monthly_text = credit.format(russian(monthly, space, False))
    assert parse_price(f"{offer}, {monthly_text}").amount == price
    assert parse_price(monthly_text).amount is None


@given(
    amount=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999999.99"), places=2),
    separator=st.sampled_from([".", ","]),
)
def test_a_plain_number_reads_back_with_the_site_separator(amount: Decimal, separator: str) -> None:
    assert parse_price(str(amount).replace(".", separator), separator).amount == amount


@given(low=st.integers(1, 10**6), step=st.integers(1, 10**6), dash=st.sampled_from(["–", "-", "—"]))
def test_a_range_reads_as_its_lower_bound_and_no_firm_price(low: int, step: int, dash: str) -> None:
    parsed = parse_price(f"{low:,} {dash} {low + step:,} ₽".replace(",", "\xa0"))
    assert (parsed.amount, parsed.flag) == (Decimal(low).quantize(Decimal("0.01")), FLAG_PRICE_FROM)


@given(first=st.integers(1, 10**6), second=st.integers(1, 10**6))
def test_two_different_prices_are_never_resolved_to_one(first: int, second: int) -> None:
    parsed = parse_price(f"{first} ₽ {second} ₽")
    expected = Decimal(first).quantize(Decimal("0.01")) if first == second else None
    assert parsed.amount == expected


@settings(max_examples=300)
@given(text=st.one_of(st.none(), any_text))
def test_parse_stock_never_raises(text: str | None) -> None:
    parsed = parse_stock(text)
    assert isinstance(parsed.state, StockState)
    assert parsed.quantity is None or parsed.quantity >= 0
    assert parsed.raw == text


@given(text=st.text(alphabet=st.sampled_from(list(" \t\n.,:;!?-–—*•●✓()[]/\\|\"'") + SPACES)))
def test_text_saying_nothing_is_unknown_never_out_of_stock(text: str) -> None:
    assert parse_stock(text).state is StockState.UNKNOWN


@given(
    quantity=st.integers(0, 10**6),
    template=st.sampled_from(["Осталось {} шт.", "Наличие: {} шт.", "{} шт", "Only {} left"]),
)
def test_a_count_on_hand_decides_the_state(quantity: int, template: str) -> None:
    parsed = parse_stock(template.format(quantity))
    expected = (
        StockState.OUT_OF_STOCK
        if quantity == 0
        else StockState.LOW_STOCK
        if quantity <= LOW_STOCK_MAX
        else StockState.IN_STOCK
    )
    assert (parsed.state, parsed.quantity) == (expected, quantity)


@given(value=st.one_of(st.none(), st.text()))
def test_from_schema_availability_never_raises(value: str | None) -> None:
    assert isinstance(from_schema_availability(value), StockState)


@settings(max_examples=200)
@given(
    status=st.integers(0, 999),
    headers=st.one_of(
        st.none(),
        st.dictionaries(
            st.sampled_from(["Server", "cf-mitigated", "X-Other"]) | st.text(max_size=10), st.text(max_size=30)
        ),
        st.dictionaries(st.binary(max_size=10), st.binary(max_size=30)),
    ),
    body=any_text,
)
def test_detect_block_never_raises(status: int, headers: dict[str, str] | None, body: str) -> None:
    assert detect_block(status, headers, body) in REASONS | {None}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["@type", "@graph", "offers", "price", "priceCurrency", "availability", "name", "gtin13", "sku"]
            )
            | st.text(max_size=8),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)
product_types = st.sampled_from(["Product", "Offer", "AggregateOffer", ["Product"], "schema:Product"])


@settings(max_examples=150, deadline=None)
@given(html=any_text)
def test_extract_product_never_raises_on_arbitrary_html(html: str) -> None:
    extract_product(html, "https://shop.example/p/1")


@settings(max_examples=200, deadline=None)
@given(value=json_values, type_=product_types, offers=json_values, price=json_values)
def test_extract_product_never_raises_on_arbitrary_json_ld(
    value: object, type_: object, offers: object, price: object
) -> None:
    node = {"@type": type_, "offers": [offers, {"@type": "Offer", "price": price}], "extra": value}
    html = f'<script type="application/ld+json">{json.dumps(node)}</script>'
    found = extract_product(html, "https://shop.example/p/1")
    if found is not None:
        for amount in [found.amount, *(o.amount for o in found.offers)]:
            assert amount is None or (0 < amount < MAX_AMOUNT and amount.as_tuple().exponent == -2)


@settings(max_examples=100, deadline=None)
@given(name=st.text(max_size=30), price=any_text, availability=st.text(max_size=30), og_price=any_text)
def test_extract_product_never_raises_on_arbitrary_microdata_and_open_graph(
    name: str, price: str, availability: str, og_price: str
) -> None:
    def attr(value: str) -> str:
        return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")

    html = (
        f'<html><head><meta property="og:type" content="product">'
        f'<meta property="product:price:amount" content="{attr(og_price)}"></head><body>'
        f'<div itemscope itemtype="https://schema.org/Product"><span itemprop="name">{attr(name)}</span>'
        f'<div itemprop="offers" itemscope itemtype="https://schema.org/Offer">'
        f'<span itemprop="price" content="{attr(price)}"></span>'
        f'<link itemprop="availability" href="{attr(availability)}"></div></div></body></html>'
    )
    found = extract_product(html, "https://shop.example/p/1")
    assert found is not None
    assert found.amount is None or 0 < found.amount < MAX_AMOUNT
