"""Violation cases, the escalation ladder, notices to sellers, and the compliance figures they feed."""
