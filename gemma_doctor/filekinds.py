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
    "tokenizer_config.json": ("tokenizer_files", "load"),
    "special_tokens_map.json": ("tokenizer_files", "load"),
    "chat_template.jinja": ("tokenizer_files", "load"),
    "chat_template.json": ("tokenizer_files", "load"),
    "adapter_config.json": ("adapter_config", "load"),
}
# What a model folder holds that a run reads: its config, generation config and tokenizer files.
MODEL_FOLDER_FILES = (
    "config.json",
    "generation_config.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "chat_template.jinja",
    "chat_template.json",
    "adapter_config.json",
)
# The kinds of those files, besides the model config itself: they go with the config beside them.
MODEL_FOLDER_KINDS = ("generation-config", "tokenizer", "adapter-config")
YAML = (".yaml", ".yml")
# Where a `# gemma-doctor: ignore[...]` comment can be written (JSON has no comments).
COMMENTABLE = (*YAML, ".py", ".ipynb")
# A string that ends like one of these names a file, not a Hugging Face model id.
FILE_SUFFIXES = (".json", *YAML, ".py", ".ipynb", ".txt", ".toml", ".lock", ".cfg", ".sh")


def is_requirements(name: str) -> bool:
    return (name.endswith(".txt") and "requirements" in name.lower()) or name == "constraints.txt"
