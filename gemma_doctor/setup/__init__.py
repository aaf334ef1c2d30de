"""The Setup: the effective training setup of one run, merged from every source, with provenance.

Rules ask the Setup questions ("which precision is effective, and who set it?", "does evaluation
run?", "what does the language model read for use_cache?") instead of reading files. Where sources
disagree the Setup keeps all of them, so a rule can say which one wins and why.

The Setup is the fact index (its facts by name, the versions the run uses, ``holds``) plus the
run's model and trainer; the effective precision, cache and weights dtype are functions of it, each
in its own module (``precision``, ``cache``, ``weights``), worked out once per Setup.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cached_property

from gemma_doctor.facts import Fact, MachineValue, VersionFact
from gemma_doctor.knowledge import Gpu, data, release_range, versioned
from gemma_doctor.modelids import family_of_model_id, family_of_model_type
from gemma_doctor.records import replace
from gemma_doctor.setup import architecture, cache, precision, weights
from gemma_doctor.setup.architecture import Architecture
from gemma_doctor.setup.cache import CacheSetting
from gemma_doctor.setup.precision import Precision
from gemma_doctor.setup.values import HALF, dtype_name, fits, is_true
from gemma_doctor.setup.weights import Trained, WeightsDtype
from gemma_doctor.vocabulary import FACTS, STRICT

__all__ = [
    "GEMMA3_FAMILY",
    "HALF",
    "HYBRID_CACHE_FAMILY",
    "Architecture",
    "CacheSetting",
    "Precision",
    "Setup",
    "WeightsDtype",
    "dtype_name",
    "fits",
    "is_true",
]

GEMMA3_FAMILY = ("gemma3", "gemma3_text", "gemma3n")
# Families whose language model builds a HybridCache in evaluation. PaliGemma 1 has a Gemma 1
# backbone and a DynamicCache with no .dtype, so only PaliGemma 2 is here (docs/evidence/audit.md).
HYBRID_CACHE_FAMILY = ("gemma2", "gemma3", "gemma3_text", "paligemma2")


def _before_exit(facts: list[Fact]) -> list[Fact]:
    """What runs: on a GPU where a guard ends the script (``exits_on_gpu`` resolved True), the facts its file sets
    after the guard are not part of the run."""
    stops = [f for f in facts if f.name == "exits_on_gpu" and f.value is True]
    if not stops:
        return facts

    def after(fact: Fact, stop: Fact) -> bool:
        here, there = fact.location, stop.location
        if here.path != there.path:
            return False
        return ((here.cell or 0), here.line or 0) > ((there.cell or 0), there.line or 0)

    return [fact for fact in facts if not any(after(fact, stop) for stop in stops)]


# The frameworks whose every release's Requires-Dist is generated data (scripts/update_knowledge.py).
REQUIRES_TABLES = {"trl": "trl_requires", "llamafactory": "llamafactory_requires"}


def requires_of(package: str, version: str) -> dict | None:
    """What release ``version`` of ``package`` requires of the packages beside it, or None where the data does not
    know that release."""
    table = data(REQUIRES_TABLES[package])
    return release_range(table["ranges"], version, table["releases"])


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
        self.facts = _before_exit([self._resolve_machine(fact) for fact in facts]) + self._env_facts
        self.versions = tuple(versions)  # fixed, so the version that will run is worked out once per package
        self._version_of: dict[str, VersionFact | None] = {}
        self._possible: dict[str, list[str]] = {}
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
            where = "on this GPU"  # the message or its "On a ...:" prefix names the GPU once
        elif value.same_on_every_gpu:
            resolved = replace(fact, value=value.on_bf16_gpu)
            where = "on every GPU"
        else:
            return fact
        self.machine_expressions[id(resolved)] = f"{value.expression}, which is {resolved.value!r} {where}"
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
            or bool(self.all("training_loop"))
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
        """DeepSpeed owns the precision: accelerate installs no fp32-output wrapper (docs/evidence/audit.md)."""
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
            found = self._version(package)
            if package in REQUIRES_TABLES and found is not None and self.uninstallable_with(package, found):
                found = None  # a framework pip cannot install beside these pins: its semantics are not reasoned from
            self._version_of[package] = found
        return self._version_of[package]

    def uninstallable_with(self, package: str, pin: VersionFact) -> list[tuple[str, str, VersionFact]]:
        """(dependency, what ``pin`` requires of it, the project's pin of it) for each exact project pin
        that ``pin``'s Requires-Dist excludes (rules/data/trl_requires.json and llamafactory_requires.json,
        generated): a stack pip cannot install (GD306)."""
        if package not in REQUIRES_TABLES or pin.version is None or pin.origin == "installed":
            return []
        row = requires_of(package, pin.version)
        if row is None:
            return []
        found = []
        for dependency in ("transformers", "accelerate", "peft", "datasets", "trl"):
            if dependency == package:
                continue
            spec = row.get(dependency) or ""
            other = self._version(dependency)
            if not spec or other is None or other.version is None or other.origin == "installed":
                continue
            if not fits(other.version, spec):
                found.append((dependency, spec, other))
        return found

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
        Unpinned, a framework is any release pip could install beside the project's pins (its Requires-Dist
        fits them): the answer is theirs where they agree, None where the range straddles the boundary.
        None when that version is unknown (unless the entry assumes the current release)."""
        entry = versioned(package, name)
        version = self.exact_version(package)
        if version is None:
            possible = self.possible_versions(package)
            if possible:
                answers = {entry.holds(candidate) for candidate in possible}
                return answers.pop() if len(answers) == 1 else None
        return entry.holds(version)

    def possible_versions(self, package: str) -> list[str]:
        """The releases of an unpinned framework (TRL, LLaMA-Factory) whose Requires-Dist admits the project's
        exact transformers pin and that fit the project's own requirement on the framework; [] where nothing
        narrows it (no exact transformers pin, or a framework whose metadata is not generated)."""
        if package not in REQUIRES_TABLES:
            return []
        if package not in self._possible:
            transformers = self.version("transformers")
            found: list[str] = []
            if transformers is not None and transformers.version is not None:
                asked = self._version(package)
                own = asked.spec if asked is not None and asked.spec else ""
                table = data(REQUIRES_TABLES[package])
                for release in table["releases"]:
                    row = release_range(table["ranges"], release, table["releases"])
                    spec = (row or {}).get("transformers") or ""
                    if (not spec or fits(transformers.version, spec)) and (not own or fits(release, own)):
                        found.append(release)
            self._possible[package] = found
        return self._possible[package]

    # --- precision ----------------------------------------------------------
    # --- precision, cache and weights: functions of the index, worked out once ------------------
    @cached_property
    def precision(self) -> Precision:
        return precision.effective(self)

    @cached_property
    def trl_bf16_default(self) -> Fact | None:
        return precision.trl_bf16_default(self)

    @property
    def mixed_precision_active(self) -> bool:
        return precision.mixed_precision_active(self)

    @property
    def runs_on_cpu(self) -> bool:
        return precision.runs_on_cpu(self)

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
        setting = cache.effective(self)
        if setting.value is True and self.trl_trainer == "SFTTrainer" and self.exact_version("trl") is None:
            setting.unless = (
                "unless the TRL that runs is >= 0.22, whose SFTTrainer passes use_cache=False "
                "(the project does not pin trl)"
            )
        return setting

    @cached_property
    def architecture(self) -> Architecture:
        """What the Gemma 4 checkpoint is built of: shared K/V layers, experts, towers, head dims."""
        return architecture.effective(self)

    @cached_property
    def weights_dtype(self) -> WeightsDtype:
        """The dtype the weights load in: it decides how fp16 fails and whether the HybridCache bug fires."""
        return weights.effective(self)

    @cached_property
    def trained(self) -> Trained:
        """What the optimizer steps (the weights, or the LoRA adapters) and its dtype: how fp16 fails."""
        return weights.trained(self)
