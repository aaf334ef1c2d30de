"""Which family a model id or a config ``model_type`` belongs to (``rules/data/model_families.json``).

The family is decided per model load, never per project: a script that loads
``seeklhy/codes-1b`` gets no Gemma finding, even in a Gemma repository.
"""

from __future__ import annotations

import re
from functools import lru_cache

from gemma_doctor.knowledge import data


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[re.Pattern, str]]:
    return [(re.compile(pattern, re.I), family) for pattern, family in data("model_families")["id_patterns"]]


def family_of_model_id(model_id: str) -> str | None:
    """The family of a Hub id or path: a Gemma family, "other" for a family the table places and no
    Gemma rule judges (Llama, Qwen, CodeGemma, ...), or None when nothing in it names one (unknown)."""
    for pattern, family in _patterns():
        if pattern.search(model_id):
            return family
    return None


def family_of_model_type(model_type: object, text_model_type: object = None) -> str:
    """The family a config.json's ``model_type`` (and its text_config's) names; "other" if not Gemma."""
    table = data("model_families")["model_types"]
    family = table.get(str(model_type), "other")
    if family == "paligemma" and str(text_model_type) == "gemma2":
        return "paligemma2"
    return family
