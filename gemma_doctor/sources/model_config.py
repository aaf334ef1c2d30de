"""Model ``config.json`` and ``generation_config.json``.

Gemma 3 has two layouts: multimodal ``gemma3`` keeps the language model's
settings (``use_cache``, its dtype, ...) under ``text_config``; text-only
``gemma3_text`` keeps them at the root. Both ``torch_dtype`` and ``dtype``
(transformers >= 4.56) are read.
"""

from __future__ import annotations

from pathlib import Path

from gemma_doctor.facts import ConfigTree, Fact, InputError, Location, SourceResult
from gemma_doctor.sources import read_text
from gemma_doctor.sources.document import parse_document

ORIGIN = "model-config"
_DTYPE_KEYS = ("torch_dtype", "dtype")


class LfsPointer(InputError):
    """A Git LFS pointer saved where the file should be: one error that says so, not a schema finding."""


def looks_like(value: dict) -> bool:
    model_type = value.get("model_type")
    return isinstance(model_type, str) and (
        "architectures" in value or "hidden_size" in value or "text_config" in value
    )


def load(path: Path, display: str) -> SourceResult:
    kind = "generation-config" if path.name == "generation_config.json" else "model-config"
    # A file that cannot be read as text (a FIFO, binary, not UTF-8) is an error line; one read that does
    # not parse as a config is GD401's.
    text = read_text(path)
    if text.startswith("version https://git-lfs.github.com/spec/"):
        raise LfsPointer(f"{path.name} is a Git LFS pointer, not the file; run `git lfs pull`")
    try:
        doc = parse_document(path, display, text)
    except InputError as exc:
        if kind == "model-config":
            # A fact, not an error line: GD401 reports it once, as a finding with the file's location, as
            # it does a config.json that parses to something other than an object (one problem, one line).
            result = SourceResult(kind=kind)
            result.facts.append(Fact("model_config_invalid", str(exc), Location(display, 1, 1), ORIGIN))
            return result
        raise
    if kind == "generation-config":
        return _generation_facts(doc)
    if not isinstance(doc.value, dict):
        result = SourceResult(kind=kind)
        message = f"config.json must be a JSON object, not {type(doc.value).__name__}"
        result.facts.append(Fact("model_config_invalid", message, Location(display, 1, 1), ORIGIN))
        return result
    return facts_from(doc)


def facts_from(doc) -> SourceResult:
    result = SourceResult(kind="model-config")
    facts = result.facts
    value = doc.value
    # Addressed at the document's root: a fix names a key path inside it (findings.within).
    facts.append(Fact("model_config", ConfigTree(doc), doc.location(()), ORIGIN, edit=(doc.format, ())))
    for key, name in (
        ("model_type", "model_type"),
        ("architectures", "architectures"),
        ("use_cache", "config_use_cache"),
        ("attn_implementation", "config_attn_implementation"),
        ("_name_or_path", "model_id"),
    ):
        if key in value:
            facts.append(doc.fact(name, (key,), ORIGIN))
    for key in _DTYPE_KEYS:
        if key in value:
            facts.append(doc.fact("config_dtype", (key,), ORIGIN))
    text_config = value.get("text_config")
    if isinstance(text_config, dict):
        facts.append(doc.fact("text_config_present", ("text_config",), ORIGIN, value=True))
        if "use_cache" in text_config:
            facts.append(doc.fact("text_config_use_cache", ("text_config", "use_cache"), ORIGIN))
        if "model_type" in text_config:
            facts.append(doc.fact("text_model_type", ("text_config", "model_type"), ORIGIN))
        for key in _DTYPE_KEYS:
            if key in text_config:
                facts.append(doc.fact("text_config_dtype", ("text_config", key), ORIGIN))
    _layout_facts(doc, facts)
    return result


# Gemma 4's layout switches, read where the language model keeps them (text_config, else the root).
LAYOUT_KEYS = (
    ("tie_word_embeddings", "config_tie_word_embeddings"),
    ("num_kv_shared_layers", "config_kv_shared_layers"),
    ("global_head_dim", "config_global_head_dim"),
    ("enable_moe_block", "config_moe_block"),
)


def _layout_facts(doc, facts: list) -> None:
    value = doc.value
    text_config = value.get("text_config")
    for key, name in LAYOUT_KEYS:
        if isinstance(text_config, dict) and key in text_config:
            facts.append(doc.fact(name, ("text_config", key), ORIGIN))
        elif key in value:
            facts.append(doc.fact(name, (key,), ORIGIN))
    if isinstance(text_config, dict):
        # A tower is built only for a sub-config that is present and not null.
        towers = [name[: -len("_config")] for name in ("vision_config", "audio_config") if value.get(name)]
        facts.append(doc.fact("config_towers", (), ORIGIN, value=towers))


def _generation_facts(doc) -> SourceResult:
    result = SourceResult(kind="generation-config")
    if isinstance(doc.value, dict):
        for key, name in (
            ("cache_implementation", "generation_cache_implementation"),
            ("use_cache", "generation_use_cache"),
            ("eos_token_id", "generation_eos_token_id"),
        ):
            if key in doc.value:
                result.facts.append(doc.fact(name, (key,), "generation-config"))
    return result
