"""Jinja2 templates of the PDF report (a package so that packaging ships them)."""
