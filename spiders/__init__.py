"""Spiders, one per kind of site (shop, feed, marketplace), driven by config."""
