"""A small world for the rules: shops in two regions, a marketplace, two catalog products with RRP from day 0."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.support.builders import World, make_config
from tests.support.rules_world import (
    BASE,
    GTIN_1001,
    GTIN_1002,
    PRICES_FROM,
    MakeWorld,
)


@pytest.fixture
def make_world(engine: Engine) -> MakeWorld:
    """`make_world(rules={...}, routes=[...])`: the base config with these sections, and the catalog loaded."""

    def make(**sections: Any) -> World:
        data = copy.deepcopy(BASE) | sections
        world = World(engine, make_config(data))
        world.product("TL-1001", category="Обогреватели", gtins=[GTIN_1001])
        world.product("TL-1002", category="Вентиляторы", gtins=[GTIN_1002])
        world.price_list(PRICES_FROM, {"TL-1001": ("10000", "7000"), "TL-1002": ("2000", "1400")})
        return world

    return make
