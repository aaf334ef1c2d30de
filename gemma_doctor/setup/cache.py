"""The use_cache the language model really reads while a run trains and evaluates, after what the
framework does."""

from __future__ import annotations

from gemma_doctor.facts import Fact, is_resolved, where_set
from gemma_doctor.knowledge import versioned
from gemma_doctor.records import record
from gemma_doctor.setup.values import is_true

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the check path
if TYPE_CHECKING:
    from gemma_doctor.setup import Setup


@record(slots=True)
class CacheSetting:
    """The use_cache the language model reads during evaluation."""

    value: bool | None  # None: cannot be resolved statically
    fact: Fact | None  # the setting that decides it (None: the library default)
    why: str
    config_target: tuple | None  # the key path in the run's config.json to fix (None: no config.json)
    unless: str | None = None  # a framework whose unknown version may turn it off ("TRL >= 0.22 ...")


def effective(setup: Setup) -> CacheSetting:
    multimodal = setup.multimodal
    config = setup.first("model_config")
    target_key = ("text_config", "use_cache") if multimodal else ("use_cache",)
    target = target_key if config else None
    override = framework_cache_override(setup)
    if override is not None:
        return CacheSetting(False, None, override, None)
    for name in ("code_text_use_cache", "code_use_cache"):
        if multimodal and name == "code_use_cache":
            continue  # the top-level switch is not what the language model reads (GD203)
        fact = setup.first(name)
        if fact is not None:
            if not is_resolved(fact.value):
                return CacheSetting(None, fact, "set in code to a value that cannot be resolved", target)
            return CacheSetting(is_true(fact.value), fact, "set in code", target)
    if not multimodal:
        for fact in setup.all("use_cache"):
            if fact.origin in ("training-args", "python"):
                if not is_resolved(fact.value):
                    return CacheSetting(None, fact, "set to a value that cannot be resolved", target)
                return CacheSetting(is_true(fact.value), fact, "set in the training arguments", target)
        if setup.is_training and setup.holds("transformers", "major_5"):
            return CacheSetting(
                False, None, versioned("transformers", "trainer_top_level_use_cache").provenance, target
            )
    name = "text_config_use_cache" if multimodal else "config_use_cache"
    fact = setup.first(name)
    if fact is not None:
        source = f"config.json {fact.location.key}" if fact.location.path else where_set(fact)
        return CacheSetting(is_true(fact.value), fact, source, target)
    where = "text_config.use_cache" if multimodal else "use_cache"
    why = f"{where} is not set, and transformers defaults it to true"
    if multimodal and setup.is_training and setup.holds("transformers", "major_5"):
        why += "; the transformers 5 Trainer turns off only the top-level use_cache (docs/evidence/audit.md)"
    return CacheSetting(True, None, why, target)


# The frameworks that turn the cache off before training, in the order they are asked: (whether the
# framework runs this training, its package and versions.json entry, how the message says it).
CACHE_OVERRIDES = (
    (lambda setup: setup.flavour == "axolotl", "axolotl", "use_cache_off", "set by Axolotl"),
    (lambda setup: setup.flavour == "llamafactory", "llamafactory", "use_cache_off", "set by LLaMA-Factory"),
    (
        lambda setup: setup.uses_unsloth is not None and setup.first("unsloth_loader") is not None,
        "unsloth",
        "use_cache_off",
        "set by Unsloth",
    ),
    (lambda setup: setup.trl_trainer == "SFTTrainer", "trl", "sft_use_cache_off", "passed by TRL's SFTTrainer"),
)


def framework_cache_override(setup: Setup) -> str | None:
    """Why a framework turns the cache off at the level the model reads, if one does."""
    if not setup.is_training:
        return None
    for runs, package, entry, who in CACHE_OVERRIDES:
        if runs(setup) and setup.holds(package, entry):
            return f"{who}: {versioned(package, entry).provenance}"
    return None
    if setup.flavour == "axolotl" and setup.holds("axolotl", "use_cache_off"):
        return "set by Axolotl: " + versioned("axolotl", "use_cache_off").provenance
    if setup.flavour == "llamafactory" and setup.holds("llamafactory", "use_cache_off"):
        return "set by LLaMA-Factory: " + versioned("llamafactory", "use_cache_off").provenance
    if (
        setup.uses_unsloth is not None
        and setup.first("unsloth_loader") is not None
        and setup.holds("unsloth", "use_cache_off")
    ):
        return "set by Unsloth: " + versioned("unsloth", "use_cache_off").provenance
    if setup.trl_trainer == "SFTTrainer" and setup.holds("trl", "sft_use_cache_off"):
        return "passed by TRL's SFTTrainer: " + versioned("trl", "sft_use_cache_off").provenance
    return None
