"""GD901: a suppression comment that suppresses nothing. The engine runs it on the suppression
comments of a run, after the other rules, since only then is it known which comments were used."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from gemma_doctor.facts import Location, Suppression
from gemma_doctor.findings import Diagnostic


def unused_suppressions(suppressions: Iterable[Suppression], enabled: Callable[[str], bool]):
    """A diagnostic for each comment that matched no finding, unless a rule it names is not selected
    (then nothing could have matched it)."""
    for suppression in suppressions:
        if suppression.used or not all(enabled(rule) for rule in suppression.rules):
            continue
        location = Location(suppression.path, suppression.comment_line, suppression.column, None, suppression.cell)
        yield Diagnostic(location, f"Unused suppression: nothing here triggers {', '.join(suppression.rules)}.")
