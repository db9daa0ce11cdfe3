"""The reports' words in Russian (default) and English, on top of the notification texts and number formats."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import ClassVar

from crawler.config import Config
from crawler.errors import UserError
from crawler.i18n import Texts
from storage.queries.reports import StorefrontRow

# key: (Russian, English)
REPORT_STRINGS: dict[str, tuple[str, str]] = {
    "sheet.summary": ("Сводка", "Summary"),
    "sheet.violations": ("Нарушения", "Violations"),
    "sheet.history": ("История цен", "Price history"),
    "sheet.stock": ("Остатки", "Stock"),
    "sheet.charts": ("Графики", "Charts"),
    "sheet.compliance": ("Соблюдение РРЦ", "Compliance"),
    "sheet.offenders": ("Нарушители по юрлицам", "Offenders by legal entity"),
    "sheet.platform": ("Скидки площадки", "Platform discounts"),
    "report.offenders": ("Нарушители по юрлицам", "Offenders by legal entity"),
    "report.offender_findings": ("Нарушения по юрлицам", "Findings by legal entity"),
    "report.bought": (
        "Нарушения на маркетплейсах юрлиц, покупающих у дистрибьютора",
        "Marketplace findings of the legal entities buying from the distributor",
    ),
    "report.price_split": ("Кто снизил цену: продавец или площадка", "Who made the price low: seller or platform"),
    "note.price_split": (
        "Демпинг продавца (его собственная цена ниже порога): {seller}. Скидка площадки (цена продавца не ниже "
        "порога, ниже — только цена на витрине или по карте): {platform}.",
        "Dumping by the seller (its own price below the threshold): {seller}. Platform discount (the seller's price "
        "at or above the threshold, only the shown or card price below it): {platform}.",
    ),
    "note.no_offenders": ("Нарушений продавцов маркетплейсов за период нет.", "No marketplace findings in the period."),
    "note.no_platform_discounts": (
        "Скидок площадки ниже порога за период нет.",
        "No platform discounts in the period.",
    ),
    "note.rows_limited": (
        "Показаны {shown} из {total}; полный список — в отчёте XLSX.",
        "{shown} of {total} shown; the XLSX has them all.",
    ),
    "entity.unknown": ("юрлицо не установлено", "legal entity not established"),
    "col.tax_id": ("ИНН", "INN (tax ID)"),
    "col.legal_entity": ("Юрлицо", "Legal entity"),
    "col.ogrn": ("ОГРН / ОГРНИП", "OGRN / OGRNIP"),
    "col.supplier": ("Покупает у", "Buys from"),
    "col.storefronts": ("Витрины", "Storefronts"),
    "col.marketplace": ("Маркетплейс", "Marketplace"),
    "col.open_now": ("Открыто сейчас", "Open now"),
    "col.region": ("Регион", "Region"),
    "col.price_basis": ("Основа цены", "Price basis"),
    "col.shown_price": ("На витрине, ₽", "Shown, RUB"),
    "col.seller_price": ("Цена продавца, ₽", "Seller's price, RUB"),
    "col.card_price": ("По карте, ₽", "Card price, RUB"),
    "def.offenders": (
        "Нарушители по юрлицам — находки на маркетплейсах по юрлицу (ИНН) за витриной (у дистрибьютора — и его "
        "покупателей); демпинг судится по основе цены, скидка площадки — не нарушение продавца.",
        "Offenders by legal entity: marketplace findings by the legal entity (INN) behind each storefront (for a "
        "distributor, its buyers' too); dumping is judged on the price basis; a platform discount is not the "
        "seller's violation.",
    ),
    "report.compliance": ("Соблюдение рекомендованных цен", "Compliance with the recommended prices"),
    "report.compliance_weeks": ("По неделям", "By week"),
    "report.compliance_months": ("По месяцам", "By month"),
    "col.period_start": ("С", "From"),
    "col.watched_listings": ("Предложений под наблюдением", "Listings watched"),
    "col.compliant_listings": ("Не ниже порога", "At or above the threshold"),
    "col.compliant_share": ("Доля соблюдения", "Compliance share"),
    "col.violations_opened": ("Новых нарушений", "Violations opened"),
    "col.median_hours_to_fix": ("Медиана, ч до исправления", "Median hours to fix"),
    "col.p90_hours_to_fix": ("90-й перцентиль, ч", "90th percentile, hours"),
    "col.notices_sent": ("Уведомлений", "Notices sent"),
    "col.relapses": ("Повторных", "Relapses"),
    "def.compliance": (
        "Соблюдение: доля предложений дистрибьютора, чья последняя цена за неделю или месяц (по исправному сбору) "
        "не ниже порога демпинга от РРЦ; время до исправления — от выявления обращения до сбора, увидевшего все "
        "цены восстановленными; уведомления — первое и повторное, дошедшие до продавца; повторные — обращения, "
        "открытые вновь в течение окна после исправления.",
        "Compliance: the share of a distributor's listings whose latest price in the week or month (from a healthy "
        "crawl) was at or above the dumping threshold of the RRP; time to fix: from a case's detection to the crawl "
        "that saw every price restored; notices: first and second notices that reached the seller; relapses: cases "
        "opened again within the window after a fix.",
    ),
    "report.title": ("Нарушения РРЦ", "RRP violations"),
    "report.period": ("Период: {start} — {end}, время {tz}", "Period: {start} to {end}, times in {tz}"),
    "report.generated": ("Сформирован: {when}", "Generated: {when}"),
    "report.all": ("Все дистрибьюторы", "All distributors"),
    "report.distributor": ("Дистрибьютор: {name} ({code})", "Distributor: {name} ({code})"),
    "report.headline": ("Главное", "Headline figures"),
    "report.overview": ("Дистрибьюторы", "Distributors"),
    "report.charts": ("Цена и РРЦ по SKU", "Price against RRP per SKU"),
    "report.stock": ("Отсутствие товара и упущенные продажи", "Stock-outs and lost sales"),
    "report.violations": ("Нарушения", "Violations"),
    "report.definitions": ("Как считались показатели", "How the figures are counted"),
    "report.annex": ("Приложение. Скриншоты страниц", "Annex: page screenshots"),
    "pdf.page_abbr": ("с.", "p."),
    "pdf.annex_ref": ("Скриншот {label}", "Screenshot {label}"),
    "pdf.captured": ("Снято: {local} ({utc})", "Captured: {local} ({utc})"),
    "pdf.file_sha256": ("SHA-256 файла:", "File SHA-256:"),
    "pdf.unstamped_sha256": ("SHA-256 снимка до штампа:", "SHA-256 of the capture before its stamp:"),
    "pdf.annex_part": ("{label}, продолжение: часть {part} из {parts}", "{label}, continued: part {part} of {parts}"),
    "pdf.annex_cut": (
        "Страница {label} длиннее приложения: её остаток — в PNG-файле скриншота.",
        "Page {label} is longer than the annex shows: the rest is in the screenshot's PNG file.",
    ),
    "series.below_rrp": ("ниже РРЦ", "below RRP"),
    "bundle.readme": (
        "Отчёт о нарушениях РРЦ с доказательствами.\n\n"
        "Распакуйте архив целиком (в Windows: правая кнопка → «Извлечь все…») и откройте violations.xlsx или "
        "violations.pdf из папки {name}. Ссылки на скриншоты и сохранённые страницы ведут в папку evidence рядом "
        "с отчётом; из нераспакованного архива они не откроются.\n\n"
        "evidence/…/*.png — скриншоты страниц со штампом (адрес, время, SHA-256 снимка);\n"
        "evidence/…/*.html — сохранённая страница, открывается в браузере;\n"
        "evidence/…/*.html.gz — она же в том виде, в каком сохранена (её SHA-256 указан в отчёте);\n"
        "SHA256SUMS — контрольные суммы всех файлов архива.",
        "RRP violations report with its evidence.\n\n"
        "Unpack the whole archive (on Windows: right-click → Extract All…) and open violations.xlsx or violations.pdf "
        "in the folder {name}. The links to screenshots and saved pages point to the evidence folder beside the "
        "report; they do not open from inside the packed archive.\n\n"
        "evidence/…/*.png — page screenshots, stamped (address, time, SHA-256 of the capture);\n"
        "evidence/…/*.html — the saved page, opens in a browser;\n"
        "evidence/…/*.html.gz — the same as stored (its SHA-256 is the one in the report);\n"
        "SHA256SUMS — checksums of every file in the archive.",
    ),
    "col.distributor": ("Дистрибьютор", "Distributor"),
    "col.code": ("Код", "Code"),
    "col.skus_watched": ("SKU под наблюдением", "SKUs watched"),
    "col.skus_in_violation": ("SKU с нарушениями", "SKUs in violation"),
    "col.violations": ("Нарушений", "Violations"),
    "col.avg_deviation": ("Среднее отклонение", "Average deviation"),
    "col.deepest_deviation": ("Макс. отклонение", "Deepest deviation"),
    "col.violation_days": ("Дней нарушений", "Days in violation"),
    "col.repeat_offences": ("Повторных нарушений", "Repeat offences"),
    "col.weekend_share": ("Доля в выходные", "Weekend share"),
    "col.night_share": ("Доля ночью (22–07)", "Night share (22–07)"),
    "col.stock_out_days": ("Дней без товара", "Days out of stock"),
    "col.lost_sales": ("Упущенные продажи, ₽", "Lost potential sales, RUB"),
    "col.seller": ("Продавец", "Seller"),
    "col.authorized": ("Авторизован", "Authorized"),
    "col.vendor_code": ("Артикул", "Vendor code"),
    "col.product": ("Товар", "Product"),
    "col.rule": ("Нарушение", "Violation"),
    "col.severity": ("Важность", "Severity"),
    "col.status": ("Статус", "Status"),
    "col.rrp": ("РРЦ, ₽", "RRP, RUB"),
    "col.price": ("Цена, ₽", "Price, RUB"),
    "col.deviation": ("Отклонение", "Deviation"),
    "col.first_seen": ("Впервые", "First seen"),
    "col.last_seen": ("Последний раз", "Last seen"),
    "col.days": ("Дней", "Days"),
    "col.repeat": ("Повтор №", "Repeat #"),
    "col.signals": ("Признаки", "Signals"),
    "col.url": ("Страница", "Page"),
    "col.screenshot": ("Скриншот", "Screenshot"),
    "col.html": ("HTML", "HTML"),
    "col.captured_utc": ("Снято (UTC)", "Captured (UTC)"),
    "col.sha256": ("SHA-256 скриншота", "Screenshot SHA-256"),
    "col.evidence": ("Доказательства", "Evidence"),
    "col.observed_at": ("Время", "Time"),
    "col.stock": ("Наличие", "Stock"),
    "col.days_out": ("Дней без товара", "Days out of stock"),
    "col.first_out": ("Первый день", "First day"),
    "col.last_out": ("Последний день", "Last day"),
    "col.planned_units": ("Упущено по плану, шт.", "Planned units lost"),
    "series.price": ("Цена", "Price"),
    "series.rrp": ("РРЦ", "RRP"),
    "chart.per_distributor": ("Нарушения по дистрибьюторам", "Violations per distributor"),
    "chart.price_vs_rrp": ("{title}: цена и РРЦ", "{title}: price and RRP"),
    "status.open": ("открыто", "open"),
    "status.resolved": ("устранено", "resolved"),
    "yes": ("да", "yes"),
    "no": ("нет", "no"),
    "none": ("—", "—"),
    "note.no_plan": ("нет плана", "no plan"),
    "note.no_violations": ("Нарушений за период нет.", "No violations in the period."),
    "note.no_stockouts": ("Дней без товара за период нет.", "No out-of-stock days in the period."),
    "note.charts_limited": (
        "Графики показаны для {shown} SKU с наибольшим отклонением из {total}; остальные — в таблице.",
        "Charts are shown for the {shown} SKUs with the deepest deviation out of {total}; the rest are in the table.",
    ),
    "note.table_limited": (
        "В таблице {shown} самых глубоких нарушений из {total}; полный список — в отчёте XLSX или CSV.",
        "The table lists the {shown} deepest violations out of {total}; the full list is in the XLSX or CSV report.",
    ),
    "note.stock_limited": (
        "В таблице {shown} товаров с наибольшими упущенными продажами из {total}; полный список — в отчёте XLSX.",
        "The table lists the {shown} products with the largest lost sales out of {total}; the XLSX has them all.",
    ),
    "note.evidence_missing": ("файл не найден", "file not found"),
    "note.html_never_rendered": (
        "HTML страниц приводится только ссылкой на сохранённый файл и его SHA-256.",
        "Saved page HTML is given only as a link to the stored file and its SHA-256.",
    ),
    "def.violation": (
        "Нарушение — оповещение о демпинге или параллельном импорте, открытое в какой-то момент периода. "
        "Цена и отклонение — наблюдения с наибольшим отклонением от РРЦ, действовавшей в тот день.",
        "A violation is a dumping or parallel-import alert open at some time in the period. Its price and deviation "
        "are those of its observation deepest below the RRP valid that day.",
    ),
    "def.days": (
        "Дни нарушения — разные календарные дни с наблюдениями нарушения; повторное нарушение — у страницы уже "
        "было такое нарушение раньше.",
        "Days in violation are the distinct calendar days with an observation of the violation; a repeat offence is "
        "a violation on a page that had one of the same kind before.",
    ),
    "def.shares": (
        "Доли в выходные и ночью — доля наблюдений нарушений в субботу и воскресенье и с 22:00 до 07:00.",
        "Weekend and night shares are the shares of violation observations on Saturdays and Sundays and between "
        "22:00 and 07:00.",
    ),
    "def.history": (
        "История цен: самая низкая цена дня; красным — ниже РРЦ, действовавшей в тот день.",
        "Price history: the day's lowest price; red when below the RRP valid that day.",
    ),
    "def.stock": (
        "День без товара — все наблюдения товара у дистрибьютора в этот день показали «нет в наличии», а раньше "
        "товар у него был в наличии (товар, которого не было ни разу, — пробел в ассортименте, а не отсутствие). "
        "Упущенные продажи = дни × план продаж в день (месячный план / дней в месяце) × РРЦ.",
        "An out-of-stock day is a day on which every observation of the product at the distributor said out of "
        "stock after it had been in stock there (a product never in stock there is an assortment gap, not a "
        "stock-out). Lost potential sales = days × planned daily quantity (monthly plan / days in month) × RRP.",
    ),
}


class ReportTexts(Texts):
    """Notification texts and number formats plus the reports' own words."""

    # The words looked up before the notifications'; a subclass adds its own by setting a larger table.
    strings: ClassVar[Mapping[str, tuple[str, str]]] = REPORT_STRINGS

    def __call__(self, key: str, **params: object) -> str:
        pair = self.strings.get(key)
        if pair is None:
            return super().__call__(key, **params)
        text = pair[0 if self.language == "ru" else 1]
        return text.format(**params) if params else text

    def word(self, group: str, value: object) -> str:
        key = f"{group}.{value}"
        return self(key) if key in self.strings else super().word(group, value)

    def date(self, value: dt.date) -> str:
        """A local calendar date as the language writes it."""
        return value.strftime("%d.%m.%Y" if self.language == "ru" else "%Y-%m-%d")


def storefronts_text(storefronts: Sequence[StorefrontRow], t: ReportTexts) -> str:
    """«Name (marketplace:id); …», a storefront not on the authorised list marked so."""
    return "; ".join(
        f"{s.name} ({s.marketplace_code}:{s.seller_code})" + ("" if s.authorized else f", {t('label.not_authorized')}")
        for s in storefronts
    )


def texts_for(config: Config, language: str | None = None) -> ReportTexts:
    """The report's language: `language` when given, else the config's `notify.language`."""
    lang = language or config.notify.language
    if lang not in ("ru", "en"):
        raise UserError(f"--lang: expected ru or en, got {lang!r}")
    return ReportTexts("ru" if lang == "ru" else "en", config.tz)
