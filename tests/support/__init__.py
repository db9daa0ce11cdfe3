"""Helpers the tests import by name: builders, local sites and services, crawl and CLI runners."""
