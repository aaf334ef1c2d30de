"""``@record``: the generated ``__init__`` behaves as dataclasses' does: defaults, factories,
``__post_init__``, equality, hashing and repr."""

from __future__ import annotations

import pytest

from gemma_doctor.facts import Location, SourceResult
from gemma_doctor.records import field, record


def test_a_generated_init_names_its_class():
    assert Location.__init__.__qualname__ == "Location.__init__"


@record
class _Sample:
    name: str
    count: int = 3
    tags: list = field(default_factory=list)
    cached: object = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.count < 0:
            raise ValueError("count must not be negative")


def test_a_record_behaves_like_a_dataclass():
    one, two = _Sample("a"), _Sample("a", cached=object())
    assert (one.count, one.tags) == (3, [])
    assert one.tags is not two.tags  # a fresh list for each
    assert one == two  # `cached` is not compared
    assert repr(one) == "_Sample(name='a', count=3, tags=[], cached=None)"
    with pytest.raises(ValueError, match="negative"):
        _Sample("a", -1)
    with pytest.raises(TypeError):
        _Sample()  # type: ignore[call-arg]


def test_the_package_records_keep_their_defaults_factories_and_equality():
    first, second = SourceResult(), SourceResult()
    assert first.facts == [] and first.facts is not second.facts
    assert first == second
    location = Location("train.yaml", 3)
    assert (location.line, location.column) == (3, None)
    assert location == Location("train.yaml", 3) and hash(location) == hash(Location("train.yaml", 3))
    with pytest.raises(TypeError):
        Location()  # type: ignore[call-arg]
