"""JSON and YAML files: recognise what they are by content, then read their facts.

One file can be a model ``config.json``, a ``generation_config.json``, a
training-argument dump or recipe (HF/TRL, Axolotl, LLaMA-Factory), an
Accelerate config, or a DeepSpeed config. Anything else is not ours.
"""

from __future__ import annotations

from pathlib import Path

from gemma_doctor.facts import SourceResult
from gemma_doctor.sources import accelerate_config, deepspeed_config, model_config, training_args
from gemma_doctor.sources.document import Document, parse_document


def load(path: Path, display: str) -> SourceResult:
    name = path.name
    if name in ("config.json", "generation_config.json"):
        return model_config.load(path, display)
    doc = parse_document(path, display)
    value = doc.value
    if not isinstance(value, dict):
        return SourceResult()
    for source in (model_config, deepspeed_config, accelerate_config, training_args):
        if source.looks_like(value):
            result = source.facts_from(doc)
            schema = getattr(source, "SCHEMA", None)
            if schema is not None:
                result.error = shape_error(doc, schema)
            # YAML has comments, so it can carry suppressions; the module (and its pattern) loads
            # only for a file that names gemma-doctor.
            if doc.format == "yaml" and "gemma-doctor" in doc.text:
                from gemma_doctor.suppressions import scan_hash_comments, yaml_scalar_spans

                result.suppressions = scan_hash_comments(doc.text, display, scalar_spans=yaml_scalar_spans(doc.text))
            return result
    return SourceResult()


def shape_error(doc: Document, schema: str) -> str | None:
    """The document against its JSON Schema (rules/schemas/): one line naming each key, the type it
    must have and its line, or None. The facts are read all the same: each source checks the type
    of every value it takes, so a wrong one is skipped, never trusted."""
    from gemma_doctor.shapes import problems

    found = problems(schema, doc.value)
    if not found:
        return None
    return "; ".join(f"{problem.message} (line {doc.location(problem.key_path).line})" for problem in found)
