"""Who hears of a case: the seller's contacts (from the config or a CSV import), the responsible channel managers,
and the second address an escalation goes to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from crawler.config import ChannelManager, Config
from storage.models import Case, Contact
from storage.queries.cases import ContactRow, contacts_of, replace_contacts, seller_codes
from storage.queries.sellers import sync_distributors

CONFIG_SOURCE = "config"
TELEGRAM, EMAIL = "telegram", "email"


@dataclass(frozen=True)
class Recipient:
    channel: str  # telegram | email
    address: str  # a chat id or an email address
    person: str | None
    language: str


def sync_config_contacts(session: Session, config: Config, now: dt.datetime) -> int:
    """The config's contacts replace the ones it gave before (imported contacts stay); returns how many."""
    ids = sync_distributors(session, config)
    rows = [
        ContactRow(ids[d.code], c.seller, c.person, c.email, c.telegram, c.language)
        for d in config.distributors
        for c in d.contacts
    ]
    return replace_contacts(session, CONFIG_SOURCE, rows, now)


def _recipients(people: Iterable[tuple[str | None, str | None, str | None, str]]) -> list[Recipient]:
    """(person, email, telegram chat, language) → one recipient per channel, each address once."""
    found: dict[tuple[str, str], Recipient] = {}
    for person, email, telegram, language in people:
        if telegram:
            found.setdefault((TELEGRAM, telegram), Recipient(TELEGRAM, telegram, person, language))
        if email:
            found.setdefault((EMAIL, email.lower()), Recipient(EMAIL, email, person, language))
    return list(found.values())


def seller_recipients(session: Session, config: Config, case: Case) -> list[Recipient]:
    """The contacts that speak for the case's seller: a shop's own contacts, or those naming a marketplace seller."""
    seller_code, distributor_code = seller_codes(session, [case.seller_id])[case.seller_id]
    own = seller_code == distributor_code
    contacts: list[Contact] = contacts_of(session, case.distributor_id, None if own else seller_code)
    default = config.notify.language
    return _recipients((c.person, c.email, c.telegram, c.language or default) for c in contacts)


def managers_of(config: Config, distributor_code: str) -> list[ChannelManager]:
    """The channel managers who answer for a distributor (those naming no distributor answer for all)."""
    return [m for m in config.enforcement.managers if not m.distributors or distributor_code in m.distributors]


def manager_recipients(config: Config, distributor_code: str) -> list[Recipient]:
    language = config.notify.language
    return _recipients((m.name, m.email, m.telegram, language) for m in managers_of(config, distributor_code))


def escalation_recipients(config: Config, distributor_code: str) -> list[Recipient]:
    """The responsible channel managers and the second address (head of sales)."""
    second = config.enforcement.escalation
    language = config.notify.language
    people: list[tuple[str | None, str | None, str | None, str]] = [
        (m.name, m.email, m.telegram, language) for m in managers_of(config, distributor_code)
    ]
    people += [(None, None, chat, language) for chat in second.telegram]
    people += [(None, address, None, language) for address in second.email]
    return _recipients(people)


def manager_distributors(config: Config, chat_id: str) -> list[str] | None:
    """The distributors of the managers whose Telegram chat this is; None when the chat is no manager's (or one of
    them answers for all)."""
    mine = [m for m in config.enforcement.managers if m.telegram == chat_id]
    if not mine or any(not m.distributors for m in mine):
        return None
    return sorted({code for m in mine for code in m.distributors})
