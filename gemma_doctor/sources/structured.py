"""JSON and YAML files: recognise what they are by content, then read their facts.

One file can be a model ``config.json``, a ``generation_config.json``, a
training-argument dump or recipe (HF/TRL, Axolotl, LLaMA-Factory), an
Accelerate config, or a DeepSpeed config. Anything else is not ours.
"""

from __future__ import annotations

from pathlib import Path

from gemma_doctor.facts import Fact, InputError, Location, SourceResult
from gemma_doctor.sources import read_text

MAX_YAML_CHARS = 2 * 1024 * 1024


class Document:
    """A parsed JSON/YAML file that can say where any key path is."""

    def __init__(self, display: str, fmt: str, text: str, parsed) -> None:
        self.display = display
        self.format = fmt  # "json" or "yaml"
        self.text = text
        self.parsed = parsed
        self.value = parsed.value

    def location(self, key_path: tuple) -> Location:
        line, column = self.parsed.position(key_path)
        if line is None and len(key_path) > 1:  # missing key: point at its parent
            return self.location(key_path[:-1])
        return Location(self.display, line, column, ".".join(str(part) for part in key_path) or None)

    def fact(self, name: str, key_path: tuple, origin: str, value: object = None) -> Fact:
        if value is None:
            value = self.get(key_path)
        return Fact(
            name,
            value,
            self.location(key_path),
            origin,
            raw_key=str(key_path[-1]) if key_path else None,
            edit=(self.format, key_path),
        )

    def get(self, key_path: tuple, default=None):
        node = self.value
        for part in key_path:
            if isinstance(node, dict) and part in node:
                node = node[part]
            else:
                return default
        return node

    def has(self, key_path: tuple) -> bool:
        marker = object()
        return self.get(key_path, marker) is not marker


def parse_document(path: Path, display: str) -> Document:
    text = read_text(path)
    if not text.strip():
        raise InputError("empty file")
    if path.suffix.lower() == ".json":
        from gemma_doctor.jsonpos import parse_json

        try:
            return Document(display, "json", text, parse_json(text))
        except ValueError as exc:
            raise InputError(str(exc)) from None
    from gemma_doctor.yamlpos import parse_yaml

    if len(text) > MAX_YAML_CHARS:  # PyYAML needs ~120x a file's size in memory to compose it (fuzz D18)
        raise InputError(
            f"YAML file too large to be a training config ({len(text):,} characters; the limit is {MAX_YAML_CHARS:,})"
        )

    try:
        return Document(display, "yaml", text, parse_yaml(text))
    except ValueError as exc:
        raise InputError(str(exc)) from None


def load(path: Path, display: str) -> SourceResult:
    name = path.name
    if name in ("config.json", "generation_config.json"):
        from gemma_doctor.sources import model_config

        return model_config.load(path, display)
    doc = parse_document(path, display)
    value = doc.value
    if not isinstance(value, dict):
        return SourceResult()
    from gemma_doctor.sources import accelerate_config, deepspeed_config, model_config, training_args

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
