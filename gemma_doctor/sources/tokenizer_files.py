"""A model folder's tokenizer files: ``tokenizer_config.json``, ``special_tokens_map.json``,
``chat_template.jinja`` and a processor's ``chat_template.json``. Read as text and JSON only: no tokenizer and no Jinja is loaded.

A real ``tokenizer_config.json`` is large (Gemma 3's lists 6,000+ added tokens, about 1 MB), so it is
parsed with ``json.loads`` and each key is located by its first ``"key":`` in the text, not by the
position-tracking parser the small configs use: the keys read here are top-level and occur once.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from gemma_doctor.facts import Fact, InputError, Location, SourceResult
from gemma_doctor.sources import read_text

ORIGIN = "tokenizer"
_KEYS = {
    "chat_template": "tokenizer_chat_template",
    "add_bos_token": "tokenizer_add_bos",
    "eos_token": "tokenizer_eos_token",
    "pad_token": "tokenizer_pad_token",
}


def load(path: Path, display: str) -> SourceResult:
    text = read_text(path)
    result = SourceResult(kind="tokenizer")
    if path.name == "chat_template.jinja":
        # transformers >= 4.47 saves the template beside tokenizer_config.json, and prefers this file
        result.facts.append(Fact("tokenizer_chat_template", text, Location(display, 1, 1), ORIGIN))
        return result
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InputError(f"not valid JSON ({str(exc).splitlines()[0]})") from None
    if not isinstance(value, dict):
        raise InputError(f"{path.name} must be a JSON object, not {type(value).__name__}")
    for key, name in _KEYS.items():
        if key not in value:
            continue
        raw = value[key]
        if key in ("eos_token", "pad_token") and isinstance(raw, dict):
            raw = raw.get("content")  # {"content": "<eos>", "lstrip": false, ...}
        if key == "chat_template" and isinstance(raw, list):
            # several named templates: the "default" one is what apply_chat_template uses
            raw = next((t.get("template") for t in raw if isinstance(t, dict) and t.get("name") == "default"), None)
        wanted = bool if key == "add_bos_token" else str
        if not isinstance(raw, wanted):
            continue
        result.facts.append(Fact(name, raw, _locate(text, key, display), ORIGIN, raw_key=key))
    return result


def _locate(text: str, key: str, display: str) -> Location:
    match = re.search(rf'"{re.escape(key)}"\s*:', text)
    if match is None:
        return Location(display, 1, 1, key)
    line = text.count("\n", 0, match.start()) + 1
    column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
    return Location(display, line, column, key)
