"""gemma_doctor.pep440 agrees with ``packaging``: on every version and specifier the catalogue and
the fixtures hold, and on generated ones (canonical forms, which it reads itself, and other
spellings, which it hands to packaging)."""

from __future__ import annotations

import json
import re

import pytest
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from gemma_doctor import pep440


def reference_satisfies(version: str, spec: str):
    try:
        specifiers = SpecifierSet(spec.replace(" ", ""))
        parsed = Version(version.strip())
    except (InvalidSpecifier, InvalidVersion):
        return "invalid"
    return specifiers.contains(parsed, prereleases=True)


def ours_satisfies(version: str, spec: str):
    try:
        return pep440.satisfies(version, spec)
    except ValueError:
        return "invalid"


def reference_compare(left: str, right: str) -> int:
    a, b = Version(left), Version(right)
    return (a > b) - (a < b)


def strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in [*value.keys(), *value.values()] for text in strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in strings(item)]
    return []


def known_versions_and_specifiers() -> tuple[list[str], list[str]]:
    texts = [text for path in (ROOT / "rules/data").glob("*.json") for text in strings(json.loads(path.read_text()))]
    for path in [*ROOT.glob("fixtures/**/requirements*.txt"), *ROOT.glob("examples/**/requirements*.txt")]:
        texts += re.findall(r"[=<>!~]=?[0-9][^\s,;#]*(?:,[=<>!~]=?[0-9][^\s,;#]*)*", path.read_text())
    specifiers = sorted({text for text in texts if text[:1] in "=<>!~"})
    versions = sorted({text for text in texts if pep440.is_valid(text)})
    versions += [op_version[2:] if op_version[1] in "=" else op_version[1:] for op_version in specifiers]
    return sorted({v for v in versions if pep440.is_valid(v)}), specifiers


def test_every_known_version_and_specifier():
    versions, specifiers = known_versions_and_specifiers()
    assert len(versions) > 50 and len(specifiers) > 30  # the catalogue really was read
    read_here = 0
    for spec in specifiers:
        read_here += pep440._clauses(spec) is not None
        for version in versions:
            assert ours_satisfies(version, spec) == reference_satisfies(version, spec), (version, spec)
    assert read_here / len(specifiers) > 0.9  # the everyday forms are read without packaging
    for left in versions:
        for right in versions[::7]:
            assert pep440.compare(left, right) == reference_compare(left, right), (left, right)


@st.composite
def canonical(draw, local: bool = True) -> str:
    release = ".".join(str(draw(st.integers(0, 3))) for _ in range(draw(st.integers(1, 4))))
    text = release + draw(st.sampled_from(["", "", "a0", "a1", "b1", "rc1", "rc2"]))
    text += draw(st.sampled_from(["", "", ".post0", ".post1"])) + draw(st.sampled_from(["", "", ".dev0", ".dev1"]))
    return text + (draw(st.sampled_from(["", "", "+cu124", "+1", "+abc.5", "+0"])) if local else "")


OTHER_SPELLINGS = [
    "v1.0", "1!1.0", "1.0-1", "1.0alpha1", "1.0c1", "1.0RC1", "1.0.post", "1.0-dev1", "1.0_post1", "1.0+ABC",
    " 1.0 ", "1.0.0.0.0", "1.0.a1", "1.0-rc.1", "01.02", "1.0+a-b_c", "nonsense", "", "1..0", "1.0.*",
]  # fmt: skip
VERSIONS = st.one_of(canonical(), st.sampled_from(OTHER_SPELLINGS))


@st.composite
def specifiers(draw) -> str:
    clauses = []
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["==", "!=", "<=", ">=", "<", ">", "~=", "===", "=", ""]))
        target = draw(st.one_of(canonical(local=False), canonical(), st.sampled_from(OTHER_SPELLINGS)))
        if draw(st.integers(0, 4)) == 0:
            target = target.split("a")[0].split("b")[0].split("r")[0].split("+")[0].split(".p")[0].split(".d")[0]
            target += ".*"
        clauses.append(op + draw(st.sampled_from(["", " "])) + target)
    return draw(st.sampled_from([",", ", ", ",,"])).join(clauses)


@settings(max_examples=1000, deadline=None)
@given(VERSIONS, specifiers())
def test_generated_versions_and_specifiers(version, spec):
    assert ours_satisfies(version, spec) == reference_satisfies(version, spec)


@settings(max_examples=1000, deadline=None)
@given(VERSIONS, VERSIONS)
def test_generated_orderings(left, right):
    try:
        expected = reference_compare(left.strip(), right.strip())
    except InvalidVersion:
        with pytest.raises(ValueError):
            pep440.compare(left, right)
        return
    assert pep440.compare(left, right) == expected


@settings(max_examples=500, deadline=None)
@given(specifiers())
def test_parse_specifier_gives_the_clauses_as_written(spec):
    try:
        parsed = list(SpecifierSet(spec.replace(" ", "")))
    except InvalidSpecifier:
        with pytest.raises(ValueError):
            pep440.parse_specifier(spec)
        return
    written = [raw for raw in spec.replace(" ", "").split(",") if raw]
    assert pep440.parse_specifier(spec) == [
        next((s.operator, s.version) for s in parsed if str(s) == raw) for raw in written
    ]


def test_the_everyday_forms_never_import_packaging():
    import subprocess
    import sys

    program = (
        "import sys\nfrom gemma_doctor.pep440 import satisfies, compare, exact_pin\n"
        "assert satisfies('2.6.0+cu124', '>=2.4,<3') and satisfies('4.50.0.dev0', '==4.50.*')\n"
        "assert not satisfies('4.52.0', '>=4.51.3,!=4.52.0') and satisfies('0.15.2', '~=0.15.0')\n"
        "assert compare('4.50.0rc1', '4.50.0') < 0 and exact_pin('==4.50.0') == '4.50.0'\n"
        "print(any(name.startswith('packaging') for name in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
