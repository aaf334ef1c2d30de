"""jsonpos: the span it records for every member is exactly the text of that member's value, and a
key's span starts at the key's quote, on generated documents with every kind of JSON scalar
(including Python's NaN and Infinity, which json.loads accepts)."""

from __future__ import annotations

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from gemma_doctor.jsonpos import parse_json

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
)
documents = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=20,
)


def _same(left: object, right: object) -> bool:
    if isinstance(left, float) and isinstance(right, float) and math.isnan(left):
        return math.isnan(right)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_same(left[k], right[k]) for k in left)
    return left == right and type(left) is type(right)


def _at(value: object, path: tuple) -> object:
    for step in path:
        value = value[step]  # type: ignore[index]
    return value


@settings(max_examples=300, deadline=None)
@given(documents, st.sampled_from([None, 1, 4]), st.sampled_from([(",", ":"), (", ", ": ")]))
def test_every_span_is_the_text_of_its_value(value, indent, separators):
    text = json.dumps(value, indent=indent, separators=separators)
    document = parse_json(text)
    assert _same(document.value, value)
    assert () in document.spans
    for path, span in document.spans.items():
        assert _same(json.loads(text[span.value_start : span.value_end]), _at(value, path))
        if span.key_start is not None:
            key, _ = json.JSONDecoder().raw_decode(text, span.key_start)
            assert key == path[-1]


def test_the_literals_end_where_they_end():
    text = '{"a": NaN, "b": -Infinity, "c": Infinity, "d": true, "e": false, "f": null, "g": -1.5e-3}'
    spans = parse_json(text).spans
    assert [text[spans[(key,)].value_start : spans[(key,)].value_end] for key in "abcdefg"] == [
        "NaN",
        "-Infinity",
        "Infinity",
        "true",
        "false",
        "null",
        "-1.5e-3",
    ]
