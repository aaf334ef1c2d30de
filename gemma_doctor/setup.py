"""The Setup: the effective training setup, merged from every source, with provenance.

Rules ask the Setup questions ("which precision is effective, and who set
it?", "does evaluation run?", "what does the language model read for
use_cache?") instead of reading files. Where sources disagree the Setup keeps
all of them, so a rule can say which one wins and why.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cached_property

from gemma_doctor.facts import Fact, Location, MachineValue, VersionFact, is_resolved
from gemma_doctor.knowledge import Gpu, versioned
from gemma_doctor.modelids import family_of_model_id, family_of_model_type
from gemma_doctor.pep440 import satisfies
from gemma_doctor.records import field, record, replace
from gemma_doctor.vocabulary import FACTS, STRICT

GEMMA3_FAMILY = ("gemma3", "gemma3_text", "gemma3n")
# Families whose language model builds a HybridCache in evaluation. PaliGemma 1 has a Gemma 1
# backbone and a DynamicCache with no .dtype, so only PaliGemma 2 is here (audit row 10).
HYBRID_CACHE_FAMILY = ("gemma2", "gemma3", "gemma3_text", "paligemma2")

_TRUE_STRINGS = {"true", "yes", "1", "on"}
HALF = ("bfloat16", "float16")


def is_true(value) -> bool:
    """True only for a value known to be true: an Unknown or GPU-dependent value is not."""
    if isinstance(value, str):
        return value.strip().lower() in _TRUE_STRINGS
    return value is True or (isinstance(value, int) and not isinstance(value, bool) and value != 0)


def dtype_name(value) -> str | None:
    """Normalise ``torch.bfloat16`` / ``"bf16"`` / ``"bfloat16"`` to a canonical name."""
    if value is None:
        return None
    text = str(value).lower().removeprefix("torch.")
    return {
        "bf16": "bfloat16",
        "bfloat16": "bfloat16",
        "fp16": "float16",
        "float16": "float16",
        "half": "float16",
        "fp32": "float32",
        "float32": "float32",
        "float": "float32",
        "auto": "auto",
    }.get(text, text)


@record(slots=True)
class Precision:
    """The mixed precision the run will actually use, and why."""

    mode: str | None  # "fp16", "bf16", "no", or None when nothing says or it cannot be resolved
    fact: Fact | None
    why: str
    requests: list[tuple[str, Fact]] = field(default_factory=list)  # every source that asks for a mode
    unknown: bool = False  # a flag that decides it could not be resolved statically
    decided_by: str | None = None  # the framework that overrode the files ("Unsloth 2025.3.19")


@record(slots=True)
class CacheSetting:
    """The use_cache the language model reads during evaluation."""

    value: bool | None  # None: cannot be resolved statically
    fact: Fact | None  # the setting that decides it (None: the library default)
    why: str
    config_target: tuple | None  # the key path in the run's config.json to fix (None: no config.json)
    unless: str | None = None  # a framework whose unknown version may turn it off ("TRL >= 0.22 ...")


@record(slots=True)
class WeightsDtype:
    dtype: str | None  # "bfloat16", "float16", "float32", or None when unknown
    fact: Fact | None
    why: str


class Setup:
    """The effective setup of one run. ``notes`` say how the run was assembled."""

    def __init__(
        self,
        facts: list[Fact],
        versions: list[VersionFact],
        gpu: Gpu | None = None,
        env_facts: list[Fact] | None = None,
        notes: list[str] | None = None,
    ) -> None:
        self.gpu = gpu
        self.notes = list(notes or [])
        self._raw_facts = list(facts)
        self._env_facts = list(env_facts or [])
        self.machine_expressions: dict[int, str] = {}
        self.facts = [self._resolve_machine(fact) for fact in facts] + self._env_facts
        self.versions = tuple(versions)  # fixed, so the version that will run is worked out once per package
        self._version_of: dict[str, VersionFact | None] = {}
        self._by_name: dict[str, list[Fact]] = defaultdict(list)
        for fact in self.facts:
            self._by_name[fact.name].append(fact)
        if STRICT:  # the tests: a source that emits an undeclared name is a typo
            undeclared = sorted(set(self._by_name) - set(FACTS))
            if undeclared:
                raise KeyError(f"facts {undeclared} are not declared in gemma_doctor/vocabulary.py")

    def with_gpu(self, gpu: Gpu) -> Setup:
        """The same run judged on a given GPU."""
        return Setup(self._raw_facts, list(self.versions), gpu, self._env_facts, self.notes)

    def _resolve_machine(self, fact: Fact) -> Fact:
        """GPU-dependent values become plain values once the target GPU is known, or when
        they are the same on every GPU (``torch.cuda.is_available()``); otherwise they stay
        GPU-dependent and the engine judges both kinds of GPU."""
        value = fact.value
        if not isinstance(value, MachineValue):
            return fact
        if self.gpu is not None:
            resolved = replace(fact, value=value.resolve(self.gpu.supports_bf16))
            where = f"the {self.gpu.describe()}"
        elif value.same_on_every_gpu:
            resolved = replace(fact, value=value.on_bf16_gpu)
            where = "every GPU"
        else:
            return fact
        self.machine_expressions[id(resolved)] = f"{value.expression}, which is {resolved.value!r} on {where}"
        return resolved

    def describe_value(self, fact: Fact) -> str:
        return self.machine_expressions.get(id(fact)) or repr(fact.value)

    @property
    def machine_facts(self) -> list[Fact]:
        """Facts whose value depends on, or was resolved for, the GPU."""
        return [
            fact for fact in self.facts if isinstance(fact.value, MachineValue) or id(fact) in self.machine_expressions
        ]

    @property
    def depends_on_gpu(self) -> bool:
        """With no target GPU, does what runs depend on the kind of GPU? (a value the files
        compute from the GPU, or Unsloth, which picks the precision from the GPU)."""
        return self.gpu is None and (bool(self.machine_facts) or self.unsloth_decides)

    @property
    def unsloth_decides(self) -> bool:
        """Unsloth's trainer patch runs: it patches TRL's trainers, and its loader is in the run."""
        return (
            self.uses_unsloth is not None
            and self.flavour != "axolotl"
            and (self.flavour == "trl" or self.first("unsloth_loader") is not None)
        )

    # --- raw access -------------------------------------------------------
    def all(self, name: str) -> list[Fact]:
        if STRICT and name not in FACTS:
            raise KeyError(f"fact {name!r} is not declared in gemma_doctor/vocabulary.py")
        return self._by_name.get(name, [])

    def first(self, name: str) -> Fact | None:
        facts = self.all(name)
        return facts[0] if facts else None

    def truthy(self, name: str) -> Fact | None:
        return next((fact for fact in self.all(name) if is_true(fact.value)), None)

    # --- model ------------------------------------------------------------
    @cached_property
    def family(self) -> tuple[str | None, Fact | None]:
        """The model family and the fact that says so: the run's model config first, then
        the ids its entry point loads (a run holds only a config of the family it loads)."""
        model_type = self.first("model_type")
        if model_type is not None:
            text_type = self.first("text_model_type")
            return family_of_model_type(model_type.value, text_type.value if text_type else None), model_type
        for name in ("model_load", "model_id"):
            for fact in self.all(name):
                if isinstance(fact.value, str):
                    family = family_of_model_id(fact.value)
                    if family:
                        return family, fact
        return None, None

    @property
    def family_name(self) -> str | None:
        return self.family[0]

    @property
    def is_gemma3(self) -> bool:
        return self.family_name in GEMMA3_FAMILY

    @property
    def multimodal(self) -> bool:
        """Multimodal Gemma 3 reads use_cache (and its dtype) from text_config."""
        return self.family_name == "gemma3"

    @property
    def config_path(self) -> str | None:
        fact = self.first("model_config")
        return fact.location.path if fact else None

    @cached_property
    def is_training(self) -> bool:
        return (
            any(fact.origin == "training-args" for fact in self.facts)
            or bool(self.all("trainer_call"))
            or bool(self.all("training_arguments_call"))
        )

    @cached_property
    def flavour(self) -> str | None:
        fact = self.first("trainer_flavour")
        return str(fact.value) if fact else None

    @cached_property
    def uses_unsloth(self) -> Fact | VersionFact | None:
        return self.first("unsloth_import") or self.first("unsloth_loader") or self.project_version("unsloth")

    @cached_property
    def uses_deepspeed(self) -> Fact | None:
        """DeepSpeed owns the precision: accelerate installs no fp32-output wrapper (audit row 9)."""
        named = next((f for f in self.all("deepspeed") if isinstance(f.value, (str, dict)) and f.value), None)
        if named is not None:
            return named
        return next((f for f in self.all("distributed_type") if str(f.value).upper() == "DEEPSPEED"), None)

    @cached_property
    def trl_trainer(self) -> str | None:
        """The TRL trainer class that runs (SFTTrainer, ...), or "sft" for a TRL CLI recipe."""
        call = next(
            (
                f
                for f in self.all("trainer_call")
                if f.value
                in (
                    "SFTTrainer",
                    "DPOTrainer",
                    "GRPOTrainer",
                    "ORPOTrainer",
                    "KTOTrainer",
                    "RewardTrainer",
                    "CPOTrainer",
                    "RLOOTrainer",
                    "OnlineDPOTrainer",
                )
            ),
            None,
        )
        if call is not None:
            return str(call.value)
        if self.flavour == "trl" and any(f.origin == "training-args" for f in self.all("trainer_flavour")):
            return "SFTTrainer"
        return None

    # --- versions ---------------------------------------------------------
    def project_version(self, package: str) -> VersionFact | None:
        declared = [v for v in self.versions if v.package == package and v.origin != "installed"]
        return declared[0] if declared else None

    def version(self, package: str) -> VersionFact | None:
        """The version that will run: the entry's own pins (a notebook's ``!pip install``), then
        an exact project pin (lock files first), else the installed one when it fits the
        project's requirement, else the requirement alone."""
        if package not in self._version_of:  # the rules ask ~27 times per run
            self._version_of[package] = self._version(package)
        return self._version_of[package]

    def _version(self, package: str) -> VersionFact | None:
        candidates = [v for v in self.versions if v.package == package]
        own = [v for v in candidates if v.origin == "notebook"]
        if own:
            candidates = own
        exact = sorted(
            (v for v in candidates if v.version and v.origin != "installed"),
            key=lambda v: v.origin not in ("notebook", "uv.lock", "poetry.lock"),
        )
        if exact:
            return exact[0]
        installed = next((v for v in self.versions if v.package == package and v.origin == "installed"), None)
        declared = next((v for v in candidates if v.origin != "installed"), None)
        if declared is not None:
            if installed is not None and declared.spec and fits(installed.version, declared.spec):
                return installed
            return declared
        return installed

    def exact_version(self, package: str) -> str | None:
        fact = self.version(package)
        return fact.version if fact else None

    def holds(self, package: str, name: str) -> bool | None:
        """Does the entry ``name`` of rules/data/versions.json hold for the ``package`` this run uses?
        None when that version is unknown (unless the entry assumes the current release)."""
        return versioned(package, name).holds(self.exact_version(package))

    # --- precision ----------------------------------------------------------
    def _flag(self, name: str) -> tuple[Fact | None, Fact | None]:
        """(the fact that turns ``name`` on, an unresolved fact for it) from the training arguments."""
        unresolved = None
        for fact in self.all(name):
            if fact.value == "auto":
                if name == "bf16" and self.flavour == "axolotl":
                    return fact, None  # Axolotl: is_torch_bf16_gpu_available(), True on any current GPU
                continue
            if not is_resolved(fact.value):
                unresolved = unresolved or fact
                continue
            if is_true(fact.value):
                return fact, None
        return None, unresolved

    def _argument_flag(self, name: str) -> Fact | None:
        return self._flag(name)[0]

    @cached_property
    def precision(self) -> Precision:
        requests: list[tuple[str, Fact]] = []
        for mode in ("fp16", "bf16"):
            for name in (mode, f"{mode}_full_eval"):
                requests.extend(
                    (mode, fact)
                    for fact in self.all(name)
                    if is_true(fact.value) or (fact.value == "auto" and mode == "bf16" and self.flavour == "axolotl")
                )
        for fact in self.all("accelerate_mixed_precision") + self.all("env_mixed_precision"):
            mode = str(fact.value).lower()
            if mode in ("fp16", "bf16"):
                requests.append((mode, fact))
        for mode in ("fp16", "bf16"):
            for fact in self.all(f"deepspeed_{mode}"):
                if fact.value is True:
                    requests.append((mode, fact))
        default = self.trl_bf16_default
        if default is not None:
            requests.append(("bf16", default))
        unsloth = self.unsloth_precision(requests)
        if unsloth is not None:
            return unsloth

        fp16, fp16_unknown = self._flag("fp16")
        bf16, bf16_unknown = self._flag("bf16")
        if fp16 is not None and bf16 is not None:
            if self.flavour == "axolotl":  # resolve_dtype: bf16 wins, fp16 is turned off
                return Precision("bf16", bf16, "Axolotl turns fp16 off when bf16 is on", requests, decided_by="Axolotl")
            return Precision("bf16", bf16, "both fp16 and bf16 are set", requests)
        if fp16 is not None:
            return Precision("fp16", fp16, "training arguments set fp16", requests)
        if bf16 is not None:
            if bf16.value == "auto":
                return Precision(
                    "bf16", bf16, versioned("axolotl", "bf16_auto").provenance, requests, decided_by="Axolotl"
                )
            return Precision("bf16", bf16, "training arguments set bf16", requests)
        unresolved = fp16_unknown or bf16_unknown
        if unresolved is not None:
            return Precision(
                None,
                unresolved,
                f"{unresolved.raw_key or unresolved.name} = {unresolved.value!r} cannot be resolved statically",
                requests,
                unknown=True,
            )
        if default is not None:
            return Precision("bf16", default, "TRL >= 0.19 configs default bf16 to True", requests, decided_by="TRL")
        # TrainingArguments override ACCELERATE_MIXED_PRECISION only when fp16 or bf16 is
        # True; otherwise the accelerate config / env var wins (facts.md P10).
        for name in ("accelerate_mixed_precision", "env_mixed_precision"):
            source = self.first(name)
            if source is not None and str(source.value).lower() in ("fp16", "bf16", "no"):
                fact = source
                mode = str(fact.value).lower()
                if name.startswith("accelerate"):
                    why = "the accelerate config sets mixed_precision"
                elif fact.origin == "launch":
                    why = f"accelerate launch --mixed_precision={mode} ({fact.location.display()})"
                else:
                    why = "ACCELERATE_MIXED_PRECISION is set"
                return Precision(mode, fact, why, requests)
        for mode in ("fp16", "bf16"):
            enabling = next((f for f in self.all(f"deepspeed_{mode}") if f.value is True), None)
            if enabling is not None:
                return Precision(mode, enabling, f"the DeepSpeed config enables {mode}", requests)
        if any(f.name in ("fp16", "bf16") for f in self.facts):
            return Precision("no", self.first("fp16") or self.first("bf16"), "fp16 and bf16 are off", requests)
        return Precision(None, None, "no source sets a precision", requests)

    def unsloth_precision(self, requests: list[tuple[str, Fact]]) -> Precision | None:
        """Unsloth's trainer patch picks the precision itself (versions.json unsloth.precision_patch)."""
        if not self.unsloth_decides:
            return None
        version = self.exact_version("unsloth")
        if versioned("unsloth", "precision_patch").holds(version) is False:
            return None
        who = f"Unsloth {version}" if version else "Unsloth"
        if self.gpu is None:
            return Precision(
                None, None, f"{who} picks the precision from the GPU", requests, unknown=True, decided_by=who
            )
        load = self.first("load_dtype")
        load_fp16 = load is not None and dtype_name(load.value) == "float16"
        forced = (
            self.is_gemma3
            and (load_fp16 or not self.gpu.supports_bf16)
            and versioned("unsloth", "gemma3_forced_float32").holds(version) is not False
        )
        fp16, _ = self._flag("fp16")
        bf16, _ = self._flag("bf16")
        if forced:
            return Precision(
                "no",
                fp16 or bf16,
                f"{who} switches Gemma 3 to float32 training on this GPU ('Unsloth: "
                "Switching to float32 training since model cannot work with float16')",
                requests,
                decided_by=who,
            )
        if fp16 is None and bf16 is None:
            mode = "fp16" if load_fp16 or not self.gpu.supports_bf16 else "bf16"
            return Precision(
                mode,
                None,
                f"{who} turns on {mode} when neither flag is set ({versioned('unsloth', 'precision_patch').cite})",
                requests,
                decided_by=who,
            )
        return None  # the flags stand; a mismatch with the model dtype is GD101/GD103's to judge

    @cached_property
    def trl_bf16_default(self) -> Fact | None:
        """TRL >= 0.19: every config's bf16 defaults to ``not fp16`` when unset (audit rows 21-22).
        Unsloth replaces it and picks the precision itself."""
        trl_config = next((f for f in self.all("trainer_flavour") if f.value in ("trl", "trl-sft")), None)
        if trl_config is None or self.all("bf16") or self._argument_flag("fp16") or self.uses_unsloth:
            return None
        if self.flavour != "trl":
            return None
        if not all(is_resolved(f.value) for f in self.all("fp16")):
            return None
        if self.holds("trl", "bf16_default") is False:
            return None
        edit = (trl_config.edit[0], ("bf16",)) if trl_config.edit else None  # where bf16 would be written
        return Fact("bf16", True, trl_config.location, "trl-default", raw_key="bf16", edit=edit)

    @property
    def mixed_precision_active(self) -> bool:
        mode = self.precision.mode
        if mode == "fp16" and self.runs_on_cpu:
            return False  # accelerate ignores fp16 on the CPU (repro.md §4)
        return mode in ("fp16", "bf16")

    @property
    def runs_on_cpu(self) -> bool:
        return self.truthy("use_cpu") is not None

    # --- evaluation -----------------------------------------------------------
    @cached_property
    def evaluation(self) -> Fact | None:
        """The fact that makes an evaluation (or predict) step run, if any."""
        for fact in self.all("eval_strategy"):
            if str(fact.value).lower().rsplit(".", 1)[-1] in ("steps", "epoch"):
                return fact
        for name in ("do_eval", "load_best_model_at_end"):
            truthy = self.truthy(name)
            if truthy is not None:
                return truthy
        for fact in self.all("eval_split"):
            if isinstance(fact.value, (int, float)) and not isinstance(fact.value, bool) and fact.value > 0:
                return fact
        for fact in self.all("evals_per_epoch"):
            if (
                isinstance(fact.value, int)
                and not isinstance(fact.value, bool)
                and fact.value > 0
                and self.all("eval_split")
            ):
                return fact
        return self.first("eval_call")

    # --- cache ----------------------------------------------------------------
    @cached_property
    def use_cache(self) -> CacheSetting:
        setting = self._use_cache()
        if setting.value is True and self.trl_trainer == "SFTTrainer" and self.exact_version("trl") is None:
            setting.unless = (
                "unless the TRL that runs is >= 0.22, whose SFTTrainer passes use_cache=False "
                "(the project does not pin trl)"
            )
        return setting

    def _use_cache(self) -> CacheSetting:
        multimodal = self.multimodal
        config = self.first("model_config")
        target_key = ("text_config", "use_cache") if multimodal else ("use_cache",)
        target = target_key if config else None
        override = self._framework_cache_override()
        if override is not None:
            return CacheSetting(False, None, override, None)
        for name in ("code_text_use_cache", "code_use_cache"):
            if multimodal and name == "code_use_cache":
                continue  # the top-level switch is not what the language model reads (GD203)
            fact = self.first(name)
            if fact is not None:
                if not is_resolved(fact.value):
                    return CacheSetting(None, fact, "set in code to a value that cannot be resolved", target)
                return CacheSetting(is_true(fact.value), fact, "set in code", target)
        if not multimodal:
            for fact in self.all("use_cache"):
                if fact.origin in ("training-args", "python"):
                    if not is_resolved(fact.value):
                        return CacheSetting(None, fact, "set to a value that cannot be resolved", target)
                    return CacheSetting(is_true(fact.value), fact, "set in the training arguments", target)
            if self.is_training and self.holds("transformers", "major_5"):
                return CacheSetting(
                    False, None, versioned("transformers", "trainer_top_level_use_cache").provenance, target
                )
        name = "text_config_use_cache" if multimodal else "config_use_cache"
        fact = self.first(name)
        if fact is not None:
            return CacheSetting(is_true(fact.value), fact, f"config.json {fact.location.key}", target)
        where = "text_config.use_cache" if multimodal else "use_cache"
        why = f"{where} is not set, and transformers defaults it to true"
        if multimodal and self.is_training and self.holds("transformers", "major_5"):
            why += "; the transformers 5 Trainer turns off only the top-level use_cache (audit row 26)"
        return CacheSetting(True, None, why, target)

    def _framework_cache_override(self) -> str | None:
        """Why a framework turns the cache off at the level the model reads, if one does."""
        if not self.is_training:
            return None
        if self.flavour == "axolotl" and self.holds("axolotl", "use_cache_off"):
            return "set by Axolotl: " + versioned("axolotl", "use_cache_off").provenance
        if self.flavour == "llamafactory" and self.holds("llamafactory", "use_cache_off"):
            return "set by LLaMA-Factory: " + versioned("llamafactory", "use_cache_off").provenance
        if (
            self.uses_unsloth is not None
            and self.first("unsloth_loader") is not None
            and self.holds("unsloth", "use_cache_off")
        ):
            return "set by Unsloth: " + versioned("unsloth", "use_cache_off").provenance
        if self.trl_trainer == "SFTTrainer" and self.holds("trl", "sft_use_cache_off"):
            return "passed by TRL's SFTTrainer: " + versioned("trl", "sft_use_cache_off").provenance
        return None

    # --- weights ----------------------------------------------------------------
    @cached_property
    def weights_dtype(self) -> WeightsDtype:
        """The dtype the weights load in: it decides how fp16 fails and whether the
        HybridCache bug fires (README precision matrix)."""
        upcast = self.first("peft_kbit_prepare")
        if upcast is not None and self.holds("peft", "kbit_prepare_upcasts"):
            loaded = self.first("load_dtype")
            how = (
                f"loaded in {dtype_name(loaded.value)}, then "
                if loaded is not None and isinstance(loaded.value, str)
                else ""
            )
            return WeightsDtype(
                "float32",
                upcast,
                f"{how}PEFT's prepare_model_for_kbit_training casts the non-4-bit "
                "weights to float32 (" + versioned("peft", "kbit_prepare_upcasts").cite + ")",
            )
        explicit = next((f for f in self.all("load_dtype")), None)
        if explicit is not None:
            if not is_resolved(explicit.value):
                return WeightsDtype(None, explicit, f"loaded with {explicit.raw_key or 'dtype'}={explicit.value!r}")
            dtype = dtype_name(explicit.value)
            if dtype == "auto":
                dtype = self._checkpoint_dtype()
                return WeightsDtype(dtype, explicit, f"loaded with dtype 'auto' (the checkpoint's {dtype or 'dtype'})")
            if dtype in HALF or dtype == "float32":
                return WeightsDtype(dtype, explicit, f"loaded with {explicit.raw_key or 'dtype'}={dtype}")
        loader = self.first("unsloth_loader")
        if loader is not None:
            if self.gpu is None:
                return WeightsDtype(None, loader, "Unsloth loads bfloat16 on a GPU with bf16, float16 on older GPUs")
            dtype = "bfloat16" if self.gpu.supports_bf16 else "float16"
            return WeightsDtype(dtype, loader, f"Unsloth loads {dtype} on the {self.gpu.describe()}")
        if self.flavour == "axolotl":  # resolve_dtype: torch_dtype from bf16/fp16 (anchors.md §6)
            for mode, dtype in (("bf16", "bfloat16"), ("fp16", "float16")):
                fact = self._argument_flag(mode)
                if fact is not None:
                    return WeightsDtype(dtype, fact, f"Axolotl loads the weights in {dtype} when {mode} is on")
            return WeightsDtype("float32", None, "Axolotl loads float32 when neither bf16 nor fp16 is on")
        if self.flavour == "llamafactory":  # loads in its compute dtype (anchors.md §7)
            fact = self._argument_flag("bf16")
            return WeightsDtype("bfloat16" if fact else "float16", fact, "LLaMA-Factory loads in its compute dtype")
        string_load = next((f for f in self.all("model_load") if f.raw_key == "trl-string"), None)
        if string_load is not None:
            trl_dtype = (
                "float32"
                if self.holds("trl", "string_load_float32")
                else "auto"
                if self.holds("trl", "string_load_auto")
                else None
            )
            if trl_dtype == "float32":
                return WeightsDtype(
                    "float32",
                    string_load,
                    f"TRL {self.exact_version('trl')} loads a model named by a "
                    "string in float32 (" + versioned("trl", "string_load_float32").cite + ")",
                )
            if trl_dtype == "auto":
                dtype = self._checkpoint_dtype()
                return WeightsDtype(
                    dtype,
                    string_load,
                    f"TRL {self.exact_version('trl')} loads a model named by a string with dtype 'auto' ({dtype})",
                )
        if self.holds("transformers", "major_5"):
            dtype = self._checkpoint_dtype() or "bfloat16"
            return WeightsDtype(dtype, None, f"transformers >= 5 loads the checkpoint dtype ({dtype}) by default")
        plain = self.first("plain_from_pretrained")
        if plain is not None and self.exact_version("transformers"):
            return WeightsDtype("float32", plain, "transformers 4.x from_pretrained loads float32 without torch_dtype")
        return WeightsDtype(None, None, "the loading code does not say")

    def _checkpoint_dtype(self) -> str | None:
        for name in ("text_config_dtype", "config_dtype"):
            fact = self.first(name)
            if fact is not None:
                return dtype_name(fact.value)
        return "bfloat16" if self.is_gemma3 else None


def fits(version: str | None, spec: str) -> bool:
    """Does ``version`` meet ``spec``? False for no version or text that is not PEP 440 (a local build,
    2.13.0+cpu, meets ==2.13.0)."""
    if version is None:
        return False
    try:
        return satisfies(version, spec)
    except ValueError:
        return False


def environment_facts(environ: dict[str, str]) -> list[Fact]:
    value = environ.get("ACCELERATE_MIXED_PRECISION")
    if value is None:
        return []
    location = Location(None, key="ACCELERATE_MIXED_PRECISION")
    return [Fact("env_mixed_precision", value, location, "environment", raw_key="ACCELERATE_MIXED_PRECISION")]
