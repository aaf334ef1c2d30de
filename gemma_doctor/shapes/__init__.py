"""The shapes of the files gemma-doctor reads, as JSON Schemas (rules/schemas/*.schema.json).

Each schema is compiled to plain Python at build time (scripts/compile_schemas.py, with
fastjsonschema; the output is ``gemma_doctor/shapes/_<name>.py``), because importing ``jsonschema``
costs ~160 ms and a check of a small project takes about as long in all. The compiled modules
import nothing but ``errors`` below. tests/test_shapes.py checks that they match their schemas,
and that ``jsonschema`` reports the same problems on the fixtures.
"""

from __future__ import annotations

from importlib import import_module

SCHEMAS = ("model-config", "deepspeed", "accelerate", "notebook", "settings")


class ShapeProblem:
    """One way a document breaks its schema. (A plain class: typing's NamedTuple would cost the hot path
    an import.)"""

    __slots__ = ("key_path", "message")

    def __init__(self, key_path: tuple, message: str) -> None:
        self.key_path = key_path  # into the document: str keys, int list indices
        self.message = message  # "use_cache must be true or false, not 'false'"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ShapeProblem) and (self.key_path, self.message) == (other.key_path, other.message)

    def __hash__(self) -> int:
        return hash((self.key_path, self.message))

    def __repr__(self) -> str:
        return f"ShapeProblem({self.key_path!r}, {self.message!r})"

    @property
    def pointer(self) -> str:
        return "/" + "/".join(str(part) for part in self.key_path)


def problems(schema: str, document: object) -> list[ShapeProblem]:
    """Every way ``document`` breaks ``schema``, in document order."""
    from gemma_doctor.shapes.errors import JsonSchemaValuesException

    module = import_module(f"gemma_doctor.shapes._{schema.replace('-', '_')}")
    try:
        module.validate(document)
    except JsonSchemaValuesException as exc:
        found = []
        for error in exc.errors:
            key_path = _key_path(document, error.path[1:])
            found.append(ShapeProblem(key_path, _message(key_path, error)))
        return list(dict.fromkeys(found))  # allOf branches can report one value twice
    return []


def _key_path(document: object, parts: list[str]) -> tuple:
    """fastjsonschema's dotted name back to keys: list indices are ints; a key that itself holds a dot
    (a glob in per-file-ignores) is rejoined."""
    path: list = []
    node = document
    index = 0
    while index < len(parts):
        part = parts[index]
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            path.append(int(part))
            node = node[int(part)]
        elif isinstance(node, dict):
            key = part
            while key not in node and index + 1 < len(parts):
                index += 1
                key = f"{key}.{parts[index]}"
            if key not in node:
                break
            path.append(key)
            node = node[key]
        else:
            break
        index += 1
    return tuple(path)


def _message(key_path: tuple, error) -> str:
    definition = error.definition if isinstance(error.definition, dict) else {}
    what = ".".join(str(part) for part in key_path) or "the document"
    custom = definition.get("x-message")
    if error.rule == "additionalProperties":
        known = set(definition.get("properties") or {})
        extra = sorted(str(key) for key in (error.value or {}) if key not in known)
        return f"unknown key {', '.join(repr(key) for key in extra)}"
    if error.rule == "required" or (custom and error.rule == "if"):
        return custom or error.message.replace("data", what, 1)
    if custom:
        return f"{what} {custom}, not {error.value!r}"
    return error.message.replace("data", what, 1)
