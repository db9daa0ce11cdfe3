"""Jinja2 templates of the messages (a package so that packaging ships them)."""
