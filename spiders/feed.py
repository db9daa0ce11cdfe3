"""Price feeds by URL: YML (Yandex Market Language) / XML offers, CSV and XLSX price lists."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import lxml.etree
from scrapy.http import Request, Response

from crawler.extract import OfferFields, build_offer
from crawler.items import RawOffer, StockState
from crawler.parsing.stock import state_for_quantity
from crawler.stats import STAT_ERRORS, STAT_PRODUCT_PAGES
from spiders.base import PricewatchSpider

_TRUE = {"true", "1", "yes", "да"}
_FALSE = {"false", "0", "no", "нет"}

# Price-list column headers (lower case, punctuation dropped) → offer field; the first matching header wins.
_COLUMNS: dict[str, tuple[str, ...]] = {
    "url": ("url", "link", "ссылка", "адрес", "страница"),
    "id": ("id", "код", "offer id"),
    "name": ("name", "title", "наименование", "название", "товар", "номенклатура"),
    "price": ("price", "цена", "розничная цена", "цена розничная", "цена руб"),
    "old_price": ("old price", "oldprice", "старая цена", "цена без скидки"),
    "currency": ("currency", "валюта", "currencyid"),
    "availability": ("availability", "stock", "наличие", "статус", "available"),
    "quantity": ("quantity", "qty", "count", "остаток", "количество", "кол во"),
    "vendor_code": ("vendor code", "vendorcode", "sku", "артикул", "article", "mpn"),
    "ean": ("ean", "gtin", "barcode", "штрихкод", "штрих код"),
}
_HEADER_NOISE = re.compile(r"[^\w ]+")


def _cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        value = Decimal(repr(value))
    text = str(value).strip()
    return text or None


def _column_map(header: list[Any]) -> dict[str, int]:
    """Offer field → column index, from a price list's header row."""
    names = [" ".join(_HEADER_NOISE.sub(" ", str(h or "")).lower().split()) for h in header]
    found: dict[str, int] = {}
    for field_name, synonyms in _COLUMNS.items():
        for synonym in synonyms:
            if synonym in names and names.index(synonym) not in found.values():
                found[field_name] = names.index(synonym)
                break
    return found


def _flag(value: str | None) -> bool | None:
    if value is None:
        return None
    text = value.strip().lower()
    return True if text in _TRUE else False if text in _FALSE else None


def _stock(available: bool | None, quantity: str | None) -> StockState | None:
    """A feed's stock from its availability flag and count; None leaves it to the availability text."""
    if available is False:
        return StockState.OUT_OF_STOCK
    if quantity is not None and quantity.isdigit():
        return state_for_quantity(int(quantity))
    return StockState.IN_STOCK if available else None


def _vendor_model(type_prefix: str | None, vendor: str | None, model: str | None) -> str | None:
    """The title of a YML `type="vendor.model"` offer, which has no `<name>`: «typePrefix vendor model»."""
    if not model:
        return None
    if vendor and model.casefold().startswith(vendor.casefold()):
        vendor = None  # the model already starts with the brand
    return " ".join(part for part in (type_prefix, vendor, model) if part)


class FeedSpider(PricewatchSpider):
    """Reads one feed per distributor, record by record, without building the whole document in memory.

    A feed lists every offer: read whole (unlimited, without an error), an offer missing from it is gone."""

    name = "feed"

    def entry_requests(self) -> list[Request]:
        feed = self.distributor.feed
        assert feed is not None
        maxsize = self.settings.getint("FEED_DOWNLOAD_MAXSIZE")
        return [Request(feed.url, self.parse_feed, errback=self.on_error, meta={"download_maxsize": maxsize})]

    def parse_feed(self, response: Response) -> Iterator[RawOffer]:
        if self.unusable(response, product=False) is not None:
            return
        feed = self.distributor.feed
        assert feed is not None
        records = {"yml": self.yml_records, "csv": self.csv_records, "xlsx": self.xlsx_records}[feed.format]
        for count, (url, fields) in enumerate(records(response), start=1):
            if self.limit and count > self.limit:
                break
            self.stat(STAT_PRODUCT_PAGES)
            offer = build_offer(
                fields,
                distributor=self.distributor,
                url=url,
                seller_code=self.seller_code,
                http_status=response.status,
                decimal_separator="." if feed.format == "yml" else None,
            )
            offer.seller_name = offer.seller_name or self.distributor.name
            yield self.offered(offer, response)

    def yml_records(self, response: Response) -> Iterator[tuple[str, OfferFields]]:
        """`<offer>` elements one at a time; each is freed once read."""
        events = lxml.etree.iterparse(
            io.BytesIO(response.body),
            events=("end",),
            tag="offer",
            recover=True,
            resolve_entities=False,
            huge_tree=True,
            no_network=True,
        )
        try:
            for _, element in events:
                yield self._yml_offer(element, response.url)
                element.clear()
                while element.getprevious() is not None:
                    del element.getparent()[0]
            # The parser recovers from sloppy markup, and from a file that stops short: then it is only part of one.
            if any(error.type_name == "ERR_TAG_NOT_FINISHED" for error in events.error_log):
                self.entry_failed(response.url, "it stops before its end")
        except lxml.etree.XMLSyntaxError as exc:
            self.stat(STAT_ERRORS)
            self.logger.error("Feed %s is not readable XML: %s", response.url, exc)
            self.entry_failed(response.url, "not readable XML")

    def _yml_offer(self, element: Any, feed_url: str) -> tuple[str, OfferFields]:
        def child(tag: str) -> str | None:
            return _cell(element.findtext(tag))

        offer_id = element.get("id")
        quantity = child("count") or child("quantity") or child("stock_quantity")
        fields = OfferFields(
            name=child("name") or _vendor_model(child("typePrefix"), child("vendor"), child("model")),
            prices=[p for p in [child("price")] if p],
            old_price=child("oldprice"),
            currency=child("currencyId"),  # YML's "RUR" is read as RUB
            stock=_stock(_flag(element.get("available")), quantity),
            quantity=quantity,
            vendor_code=child("vendorCode"),
            ean=child("barcode"),
            seller_sku=offer_id,
        )
        url = child("url") or f"{feed_url}#{offer_id or fields.vendor_code}"
        return url, fields

    def csv_records(self, response: Response) -> Iterator[tuple[str, OfferFields]]:
        text = self._decode(response.body)
        try:
            dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=";,\t")
        except csv.Error:
            dialect = csv.excel
        yield from self._table_records(csv.reader(io.StringIO(text), dialect), response.url)

    def xlsx_records(self, response: Response) -> Iterator[tuple[str, OfferFields]]:
        import openpyxl

        try:
            book = openpyxl.load_workbook(io.BytesIO(response.body), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a file that is not XLSX
            self.stat(STAT_ERRORS)
            self.logger.error("Price list %s is not a readable XLSX file: %s", response.url, exc)
            self.entry_failed(response.url, "not a readable XLSX file")
            return
        try:
            yield from self._table_records(book.worksheets[0].iter_rows(values_only=True), response.url)
        finally:
            book.close()

    @staticmethod
    def _decode(body: bytes) -> str:
        try:
            return body.decode("utf-8-sig")
        except UnicodeDecodeError:
            return body.decode("cp1251", errors="replace")

    def _table_records(self, rows: Iterator[Any], feed_url: str) -> Iterator[tuple[str, OfferFields]]:
        header = next(rows, None)
        if header is None:
            self.entry_failed(feed_url, "empty")
            return
        columns = _column_map(list(header))
        if "price" not in columns:
            self.stat(STAT_ERRORS)
            self.logger.error("Price list %s has no price column (header: %s)", feed_url, list(header))
            self.entry_failed(feed_url, "no price column")
            return
        for number, row in enumerate(rows, start=2):

            def cell(name: str, row: Any = row) -> str | None:
                index = columns.get(name)
                return _cell(row[index]) if index is not None and index < len(row) else None

            if not any(_cell(v) for v in row):
                continue
            available = _flag(cell("availability"))
            fields = OfferFields(
                name=cell("name"),
                prices=[p for p in [cell("price")] if p],
                old_price=cell("old_price"),
                currency=cell("currency"),
                availability=None if available is not None else cell("availability"),
                stock=_stock(available, cell("quantity")),
                quantity=cell("quantity"),
                vendor_code=cell("vendor_code"),
                ean=cell("ean"),
                seller_sku=cell("id"),
            )
            key = fields.seller_sku or fields.vendor_code or f"row{number}"
            yield cell("url") or f"{feed_url}#{key}", fields
