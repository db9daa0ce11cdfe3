# One entry point per job; each sets itself up first (scripts/bootstrap.sh).
.PHONY: setup demo test lint bench sites

VENV := .venv/bin

setup:
	@bash scripts/bootstrap.sh

demo: setup
	$(VENV)/pricewatch demo

lint: setup
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/mypy

test: lint
	$(VENV)/pytest -q

bench: setup
	$(VENV)/python -m bench

sites: setup
	$(VENV)/python -m fixtures.sites
