"""Every writer renders values through one escaping function per format: arbitrary strings, numbers
and booleans round-trip through the JSON, YAML and Python writers, and through notebooks."""

from __future__ import annotations

import ast
import json

import yaml
from conftest import notebook
from hypothesis import given, settings
from hypothesis import strategies as st

from gemma_doctor.findings import Edit
from gemma_doctor.writers import apply_edits

# Surrogates cannot be encoded in a UTF-8 file at all; everything else can.
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
VALUES = st.one_of(
    TEXT,
    st.booleans(),
    st.none(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=True, width=64),
)
FAST = settings(max_examples=200, deadline=None)


@FAST
@given(VALUES)
def test_json_writer_round_trips(value):
    text = '{\n  "model_type": "gemma3_text",\n  "use_cache": true\n}\n'
    out = apply_edits("json", text, [Edit("c.json", "json", ("use_cache",), value)])
    assert json.loads(out)["use_cache"] == value or (value != value)


@FAST
@given(VALUES, st.sampled_from(["true", "'x'", '"x"', "1", "plain"]))
def test_yaml_writer_round_trips(value, old):
    text = f"output_dir: o\nrun_name: {old}   # keep me\nlearning_rate: 1\n"
    out = apply_edits("yaml", text, [Edit("t.yaml", "yaml", ("run_name",), value)])
    loaded = yaml.safe_load(out)
    assert loaded["run_name"] == value and loaded["output_dir"] == "o" and "# keep me" in out


@FAST
@given(VALUES, st.sampled_from(["'x'", '"x"', "True", "None"]))
def test_python_writer_round_trips(value, old):
    text = f"from transformers import TrainingArguments\nargs = TrainingArguments(output_dir='o', run_name={old})\n"
    out = apply_edits("python", text, [Edit("t.py", "python", ("2:7", "run_name"), value)])
    call = ast.parse(out).body[1].value
    keyword = next(k for k in call.keywords if k.arg == "run_name")
    assert _evaluate(keyword.value) == value


@FAST
@given(VALUES)
def test_notebook_writer_round_trips(value):
    source = [
        "from transformers import TrainingArguments\n",
        "args = TrainingArguments(output_dir='o', run_name='x')\n",
    ]
    text = notebook(source)
    out = apply_edits("notebook", text, [Edit("n.ipynb", "python", ("2:7", "run_name"), value, cell=1)])
    cell = "".join(json.loads(out)["cells"][0]["source"])
    keyword = next(k for k in ast.parse(cell).body[1].value.keywords if k.arg == "run_name")
    assert _evaluate(keyword.value) == value


def _evaluate(node):
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "float":
        return float(node.args[0].value)
    return ast.literal_eval(node)
