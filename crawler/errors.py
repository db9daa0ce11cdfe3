"""Errors that are a person's mistake: the CLI prints them as one line, without a traceback."""


class UserError(Exception):
    """A mistake in input a person gave (a file, a config key, an argument); the message says what and where."""
