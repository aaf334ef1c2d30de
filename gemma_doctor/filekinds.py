"""The kinds of file gemma-doctor reads, by name: one table for discovery, loading, suppression
comments and the Hub-id heuristic."""

from __future__ import annotations

# suffix -> the source module that reads it
BY_SUFFIX = {
    ".py": "python_code",
    ".ipynb": "notebook",
    ".sh": "launch",
    ".json": "structured",
    ".yaml": "structured",
    ".yml": "structured",
}
# exact names -> the source module and its loader (version pins)
BY_NAME = {
    "pyproject.toml": ("versions", "load_pyproject"),
    "uv.lock": ("versions", "load_lock"),
    "poetry.lock": ("versions", "load_lock"),
    "constraints.txt": ("versions", "load_requirements"),
}
YAML = (".yaml", ".yml")
# Where a `# gemma-doctor: ignore[...]` comment can be written (JSON has no comments).
COMMENTABLE = (*YAML, ".py", ".ipynb")
# A string that ends like one of these names a file, not a Hugging Face model id.
FILE_SUFFIXES = (".json", *YAML, ".py", ".ipynb", ".txt", ".toml", ".lock", ".cfg", ".sh")


def is_requirements(name: str) -> bool:
    return (name.endswith(".txt") and "requirements" in name.lower()) or name == "constraints.txt"
