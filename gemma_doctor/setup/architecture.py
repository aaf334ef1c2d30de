"""What a run's Gemma 4 checkpoint is built of: shared K/V layers, mixture-of-experts layers, towers
and the full-attention head dim. Its config.json says so where the run has one; else the id names a
size whose layout is known (rules/data/model_families.json, gemma4_sizes); else it is unknown."""

from __future__ import annotations

import re
from functools import lru_cache

from gemma_doctor.facts import Fact, is_resolved
from gemma_doctor.knowledge import data
from gemma_doctor.records import record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the check path
if TYPE_CHECKING:
    from gemma_doctor.setup import Setup

# Gemma4TextConfig pops global_head_dim with this default (configuration_gemma4.py @5.25.0; 5.5.0 L168).
DEFAULT_GLOBAL_HEAD_DIM = 512


@record(slots=True)
class Trait:
    """One property of the checkpoint, and how it is known."""

    value: object  # None: unknown
    why: str  # "config.json text_config.num_kv_shared_layers = 20", "the id names E2B, ..."
    fact: Fact | None  # the fact it was read from (a config key, or the model id)


@record(slots=True)
class Architecture:
    kv_shared_layers: Trait  # bool from an id (it shares some), int from a config
    moe: Trait
    towers: Trait  # list of tower names ("vision", "audio")
    global_head_dim: Trait
    unified: bool  # the 12B unified model (model_type gemma4_unified), which has its own transformers floor

    @property
    def shares_kv(self) -> bool | None:
        value = self.kv_shared_layers.value
        if value is None or not is_resolved(value):
            return None
        return bool(value) if not isinstance(value, bool) else value


@lru_cache(maxsize=1)
def _sizes() -> list[tuple[re.Pattern, dict]]:
    return [(re.compile(pattern, re.I), traits) for pattern, traits in data("model_families")["gemma4_sizes"]]


def _size_of(setup: Setup) -> tuple[dict, Fact] | None:
    _family, fact = setup.family
    candidates = ([fact] if fact is not None else []) + setup.all("model_load") + setup.all("model_id")
    for candidate in candidates:
        if candidate is None or not isinstance(candidate.value, str):
            continue
        for pattern, traits in _sizes():
            if pattern.search(candidate.value):
                return traits, candidate
    return None


def _where(fact: Fact) -> str:
    key = fact.location.key or fact.raw_key
    return f"config.json {key}" if fact.origin == "model-config" else str(key)  # live: "runtime: model.config..."


def effective(setup: Setup) -> Architecture:
    size = _size_of(setup)

    def trait(fact_name: str, size_key: str, describe) -> Trait:
        fact = setup.first(fact_name)
        if fact is not None:
            return Trait(fact.value, f"{_where(fact)} = {fact.value!r}", fact)
        if size is not None and size_key in size[0]:
            traits, named = size
            return Trait(
                traits[size_key], f"{named.value} is Gemma 4 {traits['size']}, which {describe(traits)}", named
            )
        return Trait(None, "unknown", None)

    head_dim = setup.first("config_global_head_dim")
    if head_dim is not None:
        global_head_dim = Trait(head_dim.value, f"{_where(head_dim)} = {head_dim.value!r}", head_dim)
    elif setup.family_name == "gemma4":
        global_head_dim = Trait(
            DEFAULT_GLOBAL_HEAD_DIM, f"global_head_dim defaults to {DEFAULT_GLOBAL_HEAD_DIM} in Gemma4TextConfig", None
        )
    else:
        global_head_dim = Trait(None, "unknown", None)
    return Architecture(
        kv_shared_layers=trait(
            "config_kv_shared_layers",
            "kv_shared",
            lambda t: "shares K/V across its last layers" if t["kv_shared"] else "shares no K/V",
        ),
        moe=trait(
            "config_moe_block", "moe", lambda t: "is a mixture of experts" if t["moe"] else "has no expert layers"
        ),
        towers=trait(
            "config_towers",
            "towers",
            lambda t: (
                f"has {' and '.join(t['towers'])} towers"
                if len(t["towers"]) > 1
                else f"has a {t['towers'][0]} tower"
                if t["towers"]
                else "has no towers"
            ),
        ),
        global_head_dim=global_head_dim,
        unified=_unified(setup, size),
    )


def _unified(setup: Setup, size: tuple[dict, Fact] | None) -> bool:
    for name in ("model_type", "text_model_type"):
        fact = setup.first(name)
        if fact is not None:
            return str(fact.value).startswith("gemma4_unified")
    return size is not None and size[0]["size"] == "12B unified"
