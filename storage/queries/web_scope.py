"""What a panel user may see, as a value every panel query takes and turns into its WHERE clause."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, false, true
from sqlalchemy.orm import InstrumentedAttribute

from storage.models import User, UserRole


@dataclass(frozen=True)
class Scope:
    """Distributor codes and product categories a user may see; None means no limit on that side.

    A manager limited on both sides sees the overlap: those categories at those distributors. Something with no
    category (an offer matched to no product) is outside a category limit.
    """

    distributors: frozenset[str] | None = None
    categories: frozenset[str] | None = None

    @property
    def everything(self) -> bool:
        return self.distributors is None and self.categories is None

    def allows_distributor(self, code: str | None) -> bool:
        if self.distributors is None:
            return True
        return code is not None and code in self.distributors

    def allows_category(self, category: str | None) -> bool:
        if self.categories is None:
            return True
        return category is not None and category in self.categories

    def allows(self, distributor_code: str | None, category: str | None) -> bool:
        return self.allows_distributor(distributor_code) and self.allows_category(category)


EVERYTHING = Scope()
NOTHING = Scope(distributors=frozenset())


def scope_of(user: User) -> Scope:
    """Admins and viewers see everything; a manager what its scope names (nothing when it names nothing)."""
    if user.role != UserRole.MANAGER:
        return EVERYTHING
    distributors = frozenset(user.distributors or ()) or None
    categories = frozenset(user.categories or ()) or None
    if distributors is None and categories is None:
        return NOTHING
    return Scope(distributors, categories)


Column = ColumnElement[Any] | InstrumentedAttribute[Any]


def _within(column: Column, allowed: Collection[str] | None) -> ColumnElement[bool]:
    if allowed is None:
        return true()
    if not allowed:
        return false()
    return column.in_(sorted(allowed))


def distributor_clause(scope: Scope, code: Column) -> ColumnElement[bool]:
    """`code` (a distributor code column) within the scope."""
    return _within(code, scope.distributors)


def category_clause(scope: Scope, category: Column) -> ColumnElement[bool]:
    """`category` (a product category column) within the scope; NULL is outside any category limit."""
    return _within(category, scope.categories)


def scope_clause(scope: Scope, code: Column, category: Column) -> ColumnElement[bool]:
    return and_(distributor_clause(scope, code), category_clause(scope, category))
