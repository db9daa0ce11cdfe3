"""Prices out of page text: price-parser's number reading plus Russian shop reality.

What counts as a price, decided here once for every spider:

- Digit groups may be split by any space (NBSP, narrow NBSP, thin space), dots or commas; price-parser reads
  the number, with the site's `decimal_separator` when the config knows it ("12.990" is 12990 unless the site
  says its decimal separator is ".").
- A number next to a currency sign or word beats any bare number ("Цена: 12 990 ₽ (скидка 10%)" → 12990).
  Percentages, counts ("2 шт"), numbers glued to letters (vendor codes) and minus-signed numbers (discount
  badges, "−500 ₽") are never prices. Amounts after "скидка", "экономия", "было", "старая цена"… are used only
  when nothing else is there (so an old-price element "Было 14 990 ₽" still reads 14990).
- A credit, instalment or per-month amount is never the offer price, not even when it is the only amount:
  "В кредит 1 667 ₽ в месяц", "от 1 667 ₽/мес", "Рассрочка 0-0-12: 833 ₽ × 12", "Долями 4 × 2 500 ₽",
  "Платёж от 1 667 ₽", "4 payments of $25", "$25/mo" are dropped before the price is chosen, so
  "Цена 10 000 ₽, в кредит от 1 667 ₽/мес" reads 10000 and a text with only a monthly payment reads no price.
  The credit word counts for the amounts after it in its clause (up to a "." "," ";" or an earlier amount
  with a currency); a per-month or "× N" mark counts for the amount it follows. A bare number after "×" or
  before "платежа", "месяцев", "payments" is a count, never a price.
- "по запросу", "уточняйте цену", "call for price"… → amount None, FLAG_PRICE_ON_REQUEST, even when a phone
  number follows.
- "от 1 000 ₽", "from $10" and ranges "1 990 – 2 490 ₽" → the lower bound as amount with FLAG_PRICE_FROM: the
  number is kept for display, but it is no firm price and the dumping rule must not use it.
- Two different amounts in one text that are not a range ("14 990 ₽ 12 990 ₽") → amount None and
  FLAG_PRICE_CONFLICT: the parser never guesses which is the price, and never takes the cheaper one.
- Zero ("0 ₽") and words like "Бесплатно" are no price: amount None, flag None; the caller records it as missing.
- Amounts are positive Decimals quantized to 0.01; absurd amounts (≥ 10^10) are no price.
- Only the first TEXT_MAX_CHARS of a text are read: a price tag is short, and the cost stays bounded.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from price_parser import Price

from crawler.items import FLAG_PRICE_CONFLICT, FLAG_PRICE_FROM, FLAG_PRICE_ON_REQUEST
from crawler.parsing.text import normalize_space

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal(10) ** 10
TEXT_MAX_CHARS = 1_000

# Currency words and signs, matched case-insensitively; longest first so "бел. руб." wins over "руб".
_CURRENCY_WORDS: dict[str, str] = {
    r"бел\.?\s?руб(?:лей|ля|ль|\.)?": "BYN",
    r"₽": "RUB",
    r"руб(?:лей|ля|ль|ли|лях)?\.?": "RUB",
    r"р\.?": "RUB",
    r"rub\.?": "RUB",
    r"rur": "RUB",
    r"us\$|\$": "USD",
    r"долл(?:аров|ара|ар)?\.?": "USD",
    r"€": "EUR",
    r"евро": "EUR",
    r"euro?": "EUR",
    r"₸": "KZT",
    r"тг\.?": "KZT",
    r"тенге": "KZT",
    r"тңг\.?": "KZT",
    r"br": "BYN",
    r"₴": "UAH",
    r"грн\.?": "UAH",
    r"£": "GBP",
    r"юан(?:ей|я|ь)": "CNY",
    r"сом": "KGS",
    r"сум": "UZS",
    r"₼": "AZN",
    r"₾": "GEL",
    r"֏": "AMD",
    r"₺": "TRY",
    r"zł": "PLN",
    r"kč": "CZK",
}
# ISO codes count only in upper case: "try" or "all" in lower case are English words.
_CURRENCY_CODES = {"RUB", "RUR", "USD", "EUR", "KZT", "BYN", "BYR", "UAH", "GBP", "CNY", "CHF", "JPY", "KGS", "UZS"}
_CODE_ALIASES = {"RUR": "RUB", "BYR": "BYN"}

_LETTER = "A-Za-zА-Яа-яЁё"
_WORDS_RE = "|".join(sorted(_CURRENCY_WORDS, key=len, reverse=True))
_CURRENCY = re.compile(
    rf"(?<![{_LETTER}])(?:(?i:{_WORDS_RE})|{'|'.join(sorted(_CURRENCY_CODES))})(?![{_LETTER}])",
)
_CURRENCY_AFTER = re.compile(rf"\s?(?:{_CURRENCY.pattern})")
_CURRENCY_BEFORE = re.compile(rf"(?:{_CURRENCY.pattern})\s?:?\s?$")

# A number: space/apostrophe-grouped thousands first ("12 990,50"), else digits with dots and commas.
_NUMBER = re.compile(
    rf"(?<![0-9{_LETTER}])(?<![0-9][.,])"
    r"(?:[0-9]{1,3}(?:[ '’][0-9]{3})+(?:[.,][0-9]{1,2})?(?![0-9])|[0-9]+(?:[.,][0-9]+)*)"
)
_NOT_PRICE_AFTER = re.compile(r"\s?(?:%|шт|штук|ед\b|pcs|pc\b|x\b|×|отзыв|review|балл|бонус|point)", re.IGNORECASE)
_DASH_BEFORE = re.compile(r"[-−–—]$")
_LOWER_BOUND_BEFORE = re.compile(
    rf"(?i:\bот|\bfrom|\bначиная\s+с|\bstarting\s+(?:at|from)|\bstarts\s+at)\s?:?\s?(?:{_CURRENCY.pattern})?\s?$"
)
_SECONDARY_BEFORE = re.compile(
    r"(?:скидк[аи]|эконом\w*|выгода|сэкономьте|save|saving|кэшбэк|кешбэк|cashback|бонус\w*|баллами"
    r"|было|старая\s+цена|обычная\s+цена|old\s+price|was|доставка|delivery)\s?:?\s?(?:\S{1,9}\s?)?$",
    re.IGNORECASE,
)
# Credit and instalment offers: a word before the amount in its clause, or a per-month / "× N payments" mark after.
_CREDIT_BEFORE = re.compile(
    rf"(?<![{_LETTER}])(?:кредит|рассрочк|долями|сплит|split|частями|подели|платеж|платёж|ежемесячн"
    r"|instal+ments?\b|payments?\s+of\b|pay\s+in\s+\d|monthly\b|per\s+month\b)|(?<![0-9])0[-–]0[-–][0-9]{1,2}(?![0-9])",
    re.IGNORECASE,
)
_CREDIT_AFTER = re.compile(
    rf"\s?(?:{_CURRENCY.pattern})?\.?\s?(?i:(?:/|в|per|за|a|x|×)\s?(?:мес|month|mo\b|mth\b)|ежемесячно|monthly\b"
    r"|[x×*]\s?[0-9]{1,2}(?![0-9.,])(?!\s?(?:шт|pcs|pc\b|ед)))"
)
# "4 платежа", "12 месяцев", "4 payments": a count of payments or months.
_PAYMENTS_AFTER = re.compile(r"\s?(?:платеж|платёж|payments?\b|instal+ments?\b|месяц|мес\b)", re.IGNORECASE)
_FACTOR_BEFORE = re.compile(r"(?:[×*]|(?<![0-9A-Za-z])x)\s?$")
_CLAUSE_BREAK = re.compile(r"[;!?|]|[.,](?![0-9])|(?<![0-9])[.,]")
_RANGE_BETWEEN = re.compile(r"\s*(?:[-−–—‑]|\.\.\.?|…|до|to)\s*", re.IGNORECASE)
# "1 990 / 2 490 ₽": a bare number joined to a priced one shares its currency (and then conflicts with it).
_JOINED_BETWEEN = re.compile(rf"{_RANGE_BETWEEN.pattern}|\s*[/|]\s*", re.IGNORECASE)
_ON_REQUEST = re.compile(
    r"по\s+запросу|уточн\w*\s+(?:цен|стоимост|у\s+менеджер|по\s+тел)|цен\w*\s+уточн|(?:узна|запрос|получи)\w*\s+цен"
    r"|договорн\w*|по\s+договор[её]нност|call\s+for\s+price|price\s+on\s+request|on\s+request"
    r"|request\s+(?:a\s+)?(?:quote|price)|contact\s+us\s+for\s+(?:a\s+)?price|звоните|позвоните",
    re.IGNORECASE,
)
_WINDOW = 24  # how far before a number its context (currency, "от", "скидка") is read


@dataclass(frozen=True)
class ParsedPrice:
    """One price as read from page text; `raw` is the text it came from."""

    amount: Decimal | None
    currency: str | None
    flag: str | None
    raw: str | None


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    amount: Decimal
    currency: str | None
    secondary: bool
    lower_bound: bool


def currency_code(token: str | None) -> str | None:
    """ISO code for a currency sign, word or code as shops write it ("₽", "руб.", "RUR", "Br"), else None."""
    if not token:
        return None
    token = normalize_space(token)
    if token in _CURRENCY_CODES:
        return _CODE_ALIASES.get(token, token)
    for pattern, code in _CURRENCY_WORDS.items():
        if re.fullmatch(pattern, token, re.IGNORECASE):
            return code
    return None


def money(number: Decimal) -> Decimal | None:
    """A number as a price amount: rounded to kopecks; None unless 0 < amount < MAX_AMOUNT (zero is no price)."""
    if not number.is_finite() or not 0 < number < MAX_AMOUNT:
        return None
    amount = number.quantize(CENT, rounding=ROUND_HALF_UP)
    return amount if amount > 0 else None


def _read_amount(number: str, decimal_separator: str | None) -> Decimal | None:
    amount = Price.fromstring(number, decimal_separator=decimal_separator).amount
    return None if amount is None else money(amount)


def _is_negative(text: str, start: int) -> bool:
    """A dash glued before the number is a minus sign unless a number or currency precedes it (a range)."""
    dash = _DASH_BEFORE.search(text, max(0, start - 2), start)
    if dash is None:
        return False
    before = text[max(0, dash.start() - _WINDOW) : dash.start()].rstrip()
    return not before or not (before[-1].isdigit() or _CURRENCY_BEFORE.search(before))


def _glued_to_word(text: str, end: int) -> bool:
    """A number followed by letters ("1001TL", "3in1") is a code, unless the letters are a currency ("990р")."""
    return end < len(text) and text[end].isalpha() and _CURRENCY.match(text, end) is None


def _between(text: str, left: _Candidate, right: _Candidate) -> str:
    """The text between two numbers, currency signs blanked out."""
    return _CURRENCY.sub(" ", text[left.end : right.start])


def _currency_at(text: str, start: int, end: int) -> str | None:
    """The currency written right after the number, else right before it."""
    if after := _CURRENCY_AFTER.match(text, end):
        return currency_code(after.group())
    if before := _CURRENCY_BEFORE.search(text, max(0, start - _WINDOW), start):
        return currency_code(before.group().rstrip(": "))
    return None


def _on_credit(text: str, clause: int, start: int, end: int) -> bool:
    """A credit word earlier in the number's clause, or a per-month / "× N" mark after it."""
    return _CREDIT_BEFORE.search(text, clause, start) is not None or _CREDIT_AFTER.match(text, end) is not None


def _is_count_of(text: str, start: int, end: int) -> bool:
    """A bare number that counts payments or months, or a factor after "×": never a price."""
    return (
        _PAYMENTS_AFTER.match(text, end) is not None
        or _FACTOR_BEFORE.search(text, max(0, start - 3), start) is not None
    )


def _clause_start(breaks: list[int], fence: int, start: int) -> int:
    """Where the number's clause begins: after the last clause break or the last amount with a currency."""
    i = bisect_right(breaks, start)
    return max(fence, breaks[i - 1] if i else 0)


def _candidates(text: str, decimal_separator: str | None) -> list[_Candidate]:
    found = []
    breaks = [m.end() for m in _CLAUSE_BREAK.finditer(text)]
    fence = 0  # the end of the last amount with a currency: a credit word before it was that amount's
    for match in _NUMBER.finditer(text):
        start, end = match.span()
        if _NOT_PRICE_AFTER.match(text, end) or _is_negative(text, start) or _glued_to_word(text, end):
            continue
        amount = _read_amount(match.group(), decimal_separator)
        if amount is None:
            continue
        currency = _currency_at(text, start, end)
        clause = _clause_start(breaks, fence, start)
        fence = end if currency else fence
        if _on_credit(text, clause, start, end) or (currency is None and _is_count_of(text, start, end)):
            continue
        window = max(0, start - _WINDOW)
        secondary = bool(_SECONDARY_BEFORE.search(text, window, start))
        lower_bound = bool(_LOWER_BOUND_BEFORE.search(text, window, start))
        found.append(_Candidate(start, end, amount, currency, secondary, lower_bound))
    return _range_currency_shared(text, found)


def _range_currency_shared(text: str, found: list[_Candidate]) -> list[_Candidate]:
    """In "1 990 – 2 490 ₽" the currency after the upper bound belongs to the lower bound too."""
    for i in range(len(found) - 2, -1, -1):
        left, right = found[i], found[i + 1]
        if left.currency is None and right.currency and _JOINED_BETWEEN.fullmatch(_between(text, left, right)):
            found[i] = replace(left, currency=right.currency)
    return found


def _first_currency(text: str) -> str | None:
    match = _CURRENCY.search(text)
    return currency_code(match.group()) if match else None


def _likeliest(found: list[_Candidate]) -> list[_Candidate]:
    """The candidates that may be the price: those with a currency if any have one, of those the primary ones
    (not after "скидка", "было"…) if any are."""
    pool = [c for c in found if c.currency] or found
    return [c for c in pool if not c.secondary] or pool


def _is_range(text: str, pool: list[_Candidate], low: _Candidate, high: _Candidate) -> bool:
    """Exactly two amounts, the lower first, joined by a dash or "до" ("1 990 – 2 490 ₽")."""
    return (
        len({c.amount for c in pool}) == 2
        and low.amount < high.amount
        and _RANGE_BETWEEN.fullmatch(_between(text, low, high)) is not None
    )


def _price_of(pool: list[_Candidate], clean: str, text: str) -> ParsedPrice:
    """One amount (a lower bound when "от" or a range says so), else a conflict between different amounts."""
    first = pool[0]
    currency = first.currency or _first_currency(clean)
    other = next((c for c in pool if c.amount != first.amount), None)
    if other is None:
        flag = FLAG_PRICE_FROM if any(c.lower_bound for c in pool) else None
        return ParsedPrice(first.amount, currency, flag, text)
    if _is_range(clean, pool, first, other):
        return ParsedPrice(first.amount, currency, FLAG_PRICE_FROM, text)
    currencies = {c.currency for c in pool if c.currency}
    return ParsedPrice(None, currencies.pop() if len(currencies) == 1 else None, FLAG_PRICE_CONFLICT, text)


def parse_price(text: str | None, decimal_separator: str | None = None) -> ParsedPrice:
    """Parse one price text as shown for one offer; see the module docstring for what is a firm price."""
    if decimal_separator not in (None, ".", ","):
        raise ValueError(f"decimal_separator must be '.', ',' or None, not {decimal_separator!r}")
    if text is None:
        return ParsedPrice(None, None, None, None)
    # A price tag is short; a selector that grabbed a whole block gets its head read, at a bounded cost.
    clean = normalize_space(text[:TEXT_MAX_CHARS])
    if _ON_REQUEST.search(clean):
        return ParsedPrice(None, _first_currency(clean), FLAG_PRICE_ON_REQUEST, text)
    pool = _likeliest(_candidates(clean, decimal_separator))
    if not pool:
        return ParsedPrice(None, _first_currency(clean), None, text)
    return _price_of(pool, clean, text)


def _says_something(price: ParsedPrice) -> bool:
    """An amount, or a flag that says why there is none."""
    return price.amount is not None or price.flag is not None


def _common_currency(parsed: list[ParsedPrice]) -> str | None:
    """The one currency the texts name, None when they name none or several."""
    currencies = {p.currency for p in parsed if p.currency}
    return next(iter(currencies)) if len(currencies) == 1 else None


def _disagree(saying: list[ParsedPrice], currency: str | None) -> bool:
    """Different readings (a text without a currency takes the common one), or one text conflicting in itself."""
    readings = {(p.amount, p.currency or currency) for p in saying}
    return len(readings) > 1 or any(p.flag == FLAG_PRICE_CONFLICT for p in saying)


def parse_prices_consistent(texts: Sequence[str | None], decimal_separator: str | None = None) -> ParsedPrice:
    """Parse every price text shown for one offer; they must agree, else no amount and FLAG_PRICE_CONFLICT.

    Empty texts are ignored. One text on request while another has an amount is a conflict too.
    """
    parsed = [parse_price(t, decimal_separator) for t in texts if t is not None and normalize_space(t)]
    raw = " | ".join(p.raw for p in parsed if p.raw) or None
    currency = _common_currency(parsed)
    saying = [p for p in parsed if _says_something(p)]
    if _disagree(saying, currency):
        return ParsedPrice(None, currency, FLAG_PRICE_CONFLICT, raw)
    if not saying:
        return ParsedPrice(None, currency, None, raw)
    flag = FLAG_PRICE_FROM if any(p.flag == FLAG_PRICE_FROM for p in saying) else saying[0].flag
    return ParsedPrice(saying[0].amount, currency, flag, raw)
