"""The exceptions that cross layers, in one place, so no module has to import the CLI for them."""

from __future__ import annotations


class UsageError(Exception):
    """A usage or input problem the CLI reports as one line with exit code 2."""
