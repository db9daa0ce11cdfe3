"""Panel passwords: hashed with Argon2id (argon2-cffi's current defaults), checked in constant time."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from crawler.errors import UserError

MIN_LENGTH = 10
_HASHER = PasswordHasher()
# Checked when the user name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY = _HASHER.hash("pricewatch: no such user")


def check_strength(password: str, what: str = "password") -> None:
    """A password a person chose: long enough and not blank; else a UserError naming `what`."""
    if len(password) < MIN_LENGTH or not password.strip():
        raise UserError(f"{what}: at least {MIN_LENGTH} characters, please")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify(stored_hash: str | None, password: str) -> bool:
    """Whether `password` is the one `stored_hash` was made from; None (no such user) is never right."""
    try:
        _HASHER.verify(stored_hash or _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return False
    return stored_hash is not None


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's: it is replaced at the next login."""
    try:
        return _HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True
