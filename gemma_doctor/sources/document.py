"""A parsed JSON or YAML file that can say where any key path is: what the structured sources read
(model configs, training arguments, accelerate and DeepSpeed configs), one parser for all of them."""

from __future__ import annotations

from pathlib import Path

from gemma_doctor.facts import Fact, InputError, Location
from gemma_doctor.jsonpos import parse_json
from gemma_doctor.sources import read_text
from gemma_doctor.yamlpos import parse_yaml

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


def _reason(exc: ValueError) -> str:
    """A parser's error in one line of ours: Python's own text for a number past its digit limit names a
    function the user never called (fuzz N04)."""
    text = str(exc)
    if "integer string conversion" in text:
        return "a number of more than 4,300 digits, which Python will not read"
    return text


def parse_document(path: Path, display: str, text: str | None = None) -> Document:
    """The file (or its ``text``, already read) parsed as JSON or YAML, or one InputError line."""
    if text is None:
        text = read_text(path)
    if not text.strip():
        raise InputError("empty file")
    if path.suffix.lower() == ".json":
        try:
            return Document(display, "json", text, parse_json(text))
        except ValueError as exc:
            raise InputError(_reason(exc)) from None
    if len(text) > MAX_YAML_CHARS:  # PyYAML needs ~120x a file's size in memory to compose it (fuzz D18)
        raise InputError(
            f"YAML file too large to be a training config ({len(text):,} characters; the limit is {MAX_YAML_CHARS:,})"
        )

    try:
        return Document(display, "yaml", text, parse_yaml(text))
    except ValueError as exc:
        raise InputError(_reason(exc)) from None
