"""The block-YAML reader agrees with PyYAML, or steps aside.

For every text it reads, ``yamlblock`` must give what ``yamlpos`` gets from PyYAML's SafeLoader:
the same values, of the same types, in the same key order, and the same positions. Where PyYAML
raises, it must step aside, so that PyYAML's message is the one the user sees. Checked on every
YAML file in this repository, on hand-picked YAML 1.1 corners, and on generated documents.
"""

from __future__ import annotations

import importlib.util

import pytest
from conftest import EXAMPLES, ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from gemma_doctor.yamlblock import read_block_yaml
from gemma_doctor.yamlpos import parse_yaml_with_pyyaml


def _differential():
    """scripts/yaml_differential.py, whose comparison (`same`) this test shares."""
    spec = importlib.util.spec_from_file_location("yaml_differential", ROOT / "scripts" / "yaml_differential.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


same = _differential().same


def pyyaml(text: str):
    """(value, positions) from PyYAML alone, or "error"."""
    try:
        document = parse_yaml_with_pyyaml(text)
    except ValueError:
        return "error"
    return document.value, document.positions


def agrees(text: str) -> bool:
    """Assert the reader agrees with PyYAML on ``text``; True when it read the text itself."""
    got = read_block_yaml(text)
    if got is None:
        return False
    expected = pyyaml(text)
    assert expected != "error", f"read text PyYAML rejects:\n{text}"
    assert same(got[0], expected[0]), f"{got[0]!r} != {expected[0]!r} for:\n{text}"
    assert same(list(got[1].items()), list(expected[1].items())), f"positions differ for:\n{text}"
    return True


def repository_yaml():
    skip = {".git", ".venv", ".stack-cache", "node_modules"}
    for path in sorted(ROOT.rglob("*.y*ml")):
        if path.suffix in (".yaml", ".yml") and not skip & set(path.relative_to(ROOT).parts):
            yield path


def test_every_yaml_file_in_the_repository():
    read = [path for path in repository_yaml() if agrees(path.read_text(encoding="utf-8", errors="replace"))]
    assert len(read) >= 30, "the reader steps aside for files it should read"
    for train in EXAMPLES.glob("*/train.yaml"):  # the everyday case is the fast case
        assert train in read, f"{train} fell back to PyYAML"


# (text, read by yamlblock itself?) The values come from PyYAML in `agrees`, not from here.
CORNERS = [
    ("a: yes\nb: No\nc: on\nd: OFF\ne: true\nf: y\n", True),
    ("a: ~\nb: null\nc: Null\nd:\ne: NULL\n", True),
    ("a: 0\nb: -0\nc: +1\nd: 010\ne: 09\nf: 0x1F\ng: 0b101\nh: 0o17\ni: 08\n", True),
    ("a: 2e-4\nb: 2.0e-4\nc: 1.0E+3\nd: 1.5e4\ne: 1.\nf: .5\ng: -.5\nh: +.5\n", True),
    ("a: .inf\nb: -.Inf\nc: +.INF\nd: .nan\ne: .NaN\nf: nan\ng: inf\nh: -.nan\n", True),
    ("a: 1_000\n", False),
    ("a: 1:30\n", False),
    ("a: 2024-01-02\n", False),
    ("a: ./out_dir/run_1\nb: 3_dogs/x\n", True),
    ("'quoted key': 1\n\"dq\": 'it''s'\nx: \"a # not a comment\"\n", True),
    ("a: b # comment\nc: d#not\ne: 'f' # c\n", True),
    ("a: http://x:8080/y\nb: a:b\n", True),
    ("a: b: c\n", False),
    ("a: [x, 'y', \"z\", 1, 2e-4, yes]\nb: []\nc: [ a b , c ]\n", True),
    ("a: [x, [y]]\n", False),
    ("a: [x,]\n", False),
    ("a: {x: 1}\n", False),
    ("- a\n- b: 1\n  c: 2\n- - x\n  - y\n-\n  k: v\n", True),
    ("key:\n- a\n- b\nnext: 1\n", True),
    ("outer:\n  - name: x\n    args:\n      lr: 1\n  - name: y\nz: 0\n", True),
    ("a: 1\na: 2\nb:\n  c: 1\nb:\n  d: 2\n", True),
    ("1: a\nyes: b\n~: c\n0x10: d\n", True),
    ("  a: 1\n  b: 2\n", True),
    ("a: 1\n b: 2\n", False),
    ("a:\n  b: 1\n c: 2\n", False),
    ("a: |\n  text\n", False),
    ("a: >\n  text\n", False),
    ("a: plain\n  continued\n", False),
    ("a: &anchor 1\nb: *anchor\n", False),
    ("a: !!str 1\n", False),
    ("---\na: 1\n", False),
    ("a: 1\n---\nb: 2\n", False),
    ("a:\tb\n", False),
    ('a: "x\\ny"\n', False),
    ("a: 'x\n  y'\n", False),
    ("a: é\n中文: 値\n", True),
    ("- a\nb: 1\n", False),
    ("-\n- a\n", False),
    ("a: -\n", False),
    ("a: - b\n", False),
    ("? a\n: b\n", False),
    ("a: <<\n", False),
    ("<<: {a: 1}\n", False),
    ("# only a comment\n\n", True),
    ("just a scalar\n", False),
    ("a: b\n# comment\n    # indented comment\nc: d\n", True),
    ("a:   # comment after an empty value\n  b: 1\n", True),
    ("a: 'x'y\n", False),
    ('a: "x"  # c\n', True),
    ("a: [b] c\n", False),
]


@pytest.mark.parametrize(("text", "read_here"), CORNERS, ids=[text.split("\n")[0][:30] for text, _ in CORNERS])
def test_yaml_1_1_corners(text, read_here):
    assert agrees(text) is read_here


PLAIN_PICKS = [
    "yes", "No", "on", "OFF", "y", "~", "null", "0", "-0", "+1", "010", "09", "0x1F", "0b101", "1_000",
    "1:30", "2024-01-02", "1.5", "1.", "-.5", ".5", "1e5", "2e-4", "2.0e-4", "1.0E+3", ".inf", "-.Inf",
    ".nan", "NaN", "a b", "a:b", "a: b", "a #b", "a#b", "http://x/y", "./out_dir", "-x", "- x", "-", "?x",
    ":x", "<<", "=", "@x", "!x", "&a", "*a", "[a]", "{a}", "a, b", "é", "中", "'q'", '"dq"', "x\\y", "a'b",
    "[]", "{}", "|", ">", "#", "%x", "---", "...",
]  # fmt: skip
SCALAR = st.one_of(
    st.sampled_from(PLAIN_PICKS),
    st.text(alphabet="ab019.-+_:# '\"eExX~[],\\é", min_size=1, max_size=6),
)
TREE = st.recursive(
    SCALAR,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(SCALAR, children, max_size=3),
    max_leaves=10,
)


def quoted(text: str, style: int) -> str:
    return [text, "'" + text.replace("'", "''") + "'", '"' + text + '"'][style]


@st.composite
def documents(draw) -> str:
    """Block YAML rendered from a random tree, with random indents, quoting, compact items, flow
    sequences and comments; then, sometimes, one line's indent nudged or one indicator inserted."""
    styles = st.integers(0, 2)

    def render(node, column: int) -> list[str]:
        pad = " " * column
        if isinstance(node, dict):
            lines = []
            for key, value in node.items():
                head = pad + quoted(key, draw(styles)) + ":"
                if isinstance(value, str):
                    lines.append(head + " " * draw(st.integers(1, 2)) + quoted(value, draw(styles)))
                elif not value:
                    lines.append(head + (" []" if isinstance(value, list) else " {}"))
                elif isinstance(value, list) and all(isinstance(v, str) for v in value) and draw(st.booleans()):
                    lines.append(head + " [" + ", ".join(quoted(v, draw(styles)) for v in value) + "]")
                else:
                    lines.append(head + draw(st.sampled_from(["", "  # note"])))
                    aligned = isinstance(value, list) and draw(st.booleans())
                    lines += render(value, column if aligned else column + draw(st.integers(1, 4)))
                if draw(st.integers(0, 5)) == 0:
                    lines.append(draw(st.sampled_from(["", "# comment", "   # indented comment"])))
            return lines or [pad + "{}"]
        if isinstance(node, list):
            lines = []
            for item in node:
                if isinstance(item, str):
                    lines.append(pad + "- " + quoted(item, draw(styles)))
                elif not item:
                    lines.append(pad + "- " + ("[]" if isinstance(item, list) else "{}"))
                else:
                    child = render(item, column + 2)
                    if draw(st.booleans()):
                        child[0] = pad + "- " + child[0][column + 2 :]
                    else:
                        child.insert(0, pad + "-")
                    lines += child
            return lines or [pad + "[]"]
        return [pad + quoted(node, draw(styles))]

    lines = render(draw(TREE), draw(st.integers(0, 2)))
    if lines and draw(st.integers(0, 3)) == 0:
        index = draw(st.integers(0, len(lines) - 1))
        lines[index] = (" " + lines[index]) if draw(st.booleans()) else lines[index].removeprefix(" ")
    text = "\n".join(lines) + draw(st.sampled_from(["", "\n"]))
    if text and draw(st.integers(0, 3)) == 0:
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(list(":#-'\"[], \n"))) + text[at:]
    return text


@settings(max_examples=600, deadline=None)
@given(documents())
def test_generated_documents(text):
    agrees(text)
