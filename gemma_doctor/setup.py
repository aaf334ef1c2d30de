"""The Setup: the effective training setup, merged from every source, with provenance.

Rules ask the Setup questions ("which precision is effective, and who set
it?", "does evaluation run?", "what does the language model read for
use_cache?") instead of reading files. Where sources disagree the Setup keeps
all of them, so a rule can say which one wins and why.
"""

from __future__ import annotations

import re
from collections import defaultdict
from gemma_doctor.records import field, record
from functools import cached_property

from gemma_doctor.records import replace

from gemma_doctor.facts import Fact, Location, MachineValue, VersionFact
from gemma_doctor.knowledge import Gpu
from gemma_doctor.pep440 import compare, in_range, satisfies

GEMMA3_FAMILY = ("gemma3", "gemma3_text", "gemma3n")
HYBRID_CACHE_FAMILY = ("gemma2", "gemma3", "gemma3_text", "paligemma")

_MODEL_TYPES = {
    "gemma3": "gemma3", "gemma3_text": "gemma3_text", "gemma3n": "gemma3n", "gemma3n_text": "gemma3n",
    "gemma2": "gemma2", "paligemma": "paligemma", "gemma": "gemma",
}
# Model ids -> family, for projects with no config.json. Text-only Gemma 3 sizes
# are 270m and 1b; 4b/12b/27b checkpoints are multimodal (facts.md §5).
_ID_PATTERNS = [
    (re.compile(r"gemma-?3n", re.I), "gemma3n"),
    (re.compile(r"paligemma", re.I), "paligemma"),
    (re.compile(r"gemma-?3[-_](?:270m|1b)(?![0-9])", re.I), "gemma3_text"),
    (re.compile(r"(?:embeddinggemma|functiongemma)", re.I), "gemma3_text"),
    (re.compile(r"gemma-?3[-_](?:4b|12b|27b)|medgemma-(?:4b|27b)", re.I), "gemma3"),
    (re.compile(r"gemma-?3(?![0-9n])", re.I), "gemma3"),
    (re.compile(r"gemma-?2(?![0-9])", re.I), "gemma2"),
]
_TRUE_STRINGS = {"true", "yes", "1", "on"}
HALF = ("bfloat16", "float16")


def family_of_model_id(model_id: str) -> str | None:
    for pattern, family in _ID_PATTERNS:
        if pattern.search(model_id):
            return family
    return None


def is_true(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in _TRUE_STRINGS
    return value is True or (isinstance(value, int) and not isinstance(value, bool) and value != 0)


def dtype_name(value) -> str | None:
    """Normalise ``torch.bfloat16`` / ``"bf16"`` / ``"bfloat16"`` to a canonical name."""
    if value is None:
        return None
    text = str(value).lower().removeprefix("torch.")
    return {"bf16": "bfloat16", "bfloat16": "bfloat16", "fp16": "float16", "float16": "float16", "half": "float16",
            "fp32": "float32", "float32": "float32", "float": "float32", "auto": "auto"}.get(text, text)


@record(slots=True)
class Precision:
    """The mixed precision the run will actually use, and why."""

    mode: str | None  # "fp16", "bf16", "no", or None when nothing says
    fact: Fact | None
    why: str
    requests: list[tuple[str, Fact]] = field(default_factory=list)  # every source that asks for a mode


@record(slots=True)
class CacheSetting:
    """The use_cache the language model reads during evaluation."""

    value: bool
    fact: Fact | None  # the setting that decides it (None: the library default)
    why: str
    config_target: tuple[str, tuple] | None  # (config.json display path, key path) to fix


@record(slots=True)
class WeightsDtype:
    dtype: str | None  # "bfloat16", "float16", "float32", or None when unknown
    fact: Fact | None
    why: str


class Setup:
    def __init__(self, facts: list[Fact], versions: list[VersionFact], gpu: Gpu | None = None,
                 env_facts: list[Fact] | None = None) -> None:
        self.gpu = gpu
        self.machine_expressions: dict[int, str] = {}
        self.facts = [self._resolve_machine(fact) for fact in facts] + list(env_facts or [])
        self.versions = versions
        self._by_name: dict[str, list[Fact]] = defaultdict(list)
        for fact in self.facts:
            self._by_name[fact.name].append(fact)

    def _resolve_machine(self, fact: Fact) -> Fact:
        """GPU-dependent values become plain booleans once the target GPU is known;
        with no GPU they stay unknown (the engine then tries both kinds of GPU)."""
        if not isinstance(fact.value, MachineValue) or self.gpu is None:
            return fact
        resolved = replace(fact, value=fact.value.resolve(self.gpu.supports_bf16))
        self.machine_expressions[id(resolved)] = fact.value.expression
        return resolved

    def describe_value(self, fact: Fact) -> str:
        expression = self.machine_expressions.get(id(fact))
        if expression is None:
            return repr(fact.value)
        return f"{expression}, which is {fact.value} on the {self.gpu.describe()}"

    @property
    def machine_facts(self) -> list[Fact]:
        return [fact for fact in self.facts if isinstance(fact.value, MachineValue) or id(fact) in self.machine_expressions]

    # --- raw access -------------------------------------------------------
    def all(self, name: str) -> list[Fact]:
        return self._by_name.get(name, [])

    def first(self, name: str) -> Fact | None:
        facts = self._by_name.get(name)
        return facts[0] if facts else None

    def truthy(self, name: str) -> Fact | None:
        return next((fact for fact in self.all(name) if is_true(fact.value)), None)

    # --- model ------------------------------------------------------------
    @cached_property
    def family(self) -> tuple[str | None, Fact | None]:
        """The model family and the fact that says so (config.json first, then model ids)."""
        for name in ("model_type", "text_model_type"):
            for fact in self.all(name):
                family = _MODEL_TYPES.get(str(fact.value))
                if family or fact.value:
                    if name == "text_model_type" and family == "gemma3_text":
                        family = "gemma3"
                    return family or "other", fact
        for fact in self.all("model_id"):
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
        return any(fact.origin == "training-args" for fact in self.facts) or bool(self.all("trainer_call"))

    @cached_property
    def flavour(self) -> str | None:
        fact = self.first("trainer_flavour")
        return str(fact.value) if fact else None

    @cached_property
    def uses_unsloth(self) -> Fact | VersionFact | None:
        return self.first("unsloth_import") or self.first("unsloth_loader") or self.project_version("unsloth")

    # --- versions ---------------------------------------------------------
    def project_version(self, package: str) -> VersionFact | None:
        declared = [v for v in self.versions if v.package == package and v.origin != "installed"]
        return declared[0] if declared else None

    def version(self, package: str) -> VersionFact | None:
        """The version that will run: an exact project pin (lock files first), else the
        installed one when it fits the project's requirement, else the requirement alone."""
        candidates = [v for v in self.versions if v.package == package]
        exact = sorted((v for v in candidates if v.version and v.origin != "installed"),
                       key=lambda v: v.origin not in ("uv.lock", "poetry.lock"))
        if exact:
            return exact[0]
        installed = next((v for v in candidates if v.origin == "installed"), None)
        declared = next((v for v in candidates if v.origin != "installed"), None)
        if declared is not None:
            if installed is not None and declared.spec and _fits(installed.version, declared.spec):
                return installed
            return declared
        return installed

    def exact_version(self, package: str) -> str | None:
        fact = self.version(package)
        return fact.version if fact else None

    def version_in(self, package: str, low: str | None = None, high: str | None = None) -> bool | None:
        version = self.exact_version(package)
        if version is None:
            return None
        try:
            return in_range(version, low, high)
        except ValueError:
            return None

    # --- precision ----------------------------------------------------------
    def _argument_flag(self, name: str) -> Fact | None:
        """A True fp16/bf16 from training arguments (YAML/JSON or code). Axolotl's
        ``bf16: auto`` counts as True on a bf16-capable target GPU."""
        for fact in self.all(name):
            if fact.value == "auto":
                if self.gpu is not None and self.gpu.supports_bf16 and name == "bf16":
                    return fact
                continue
            if is_true(fact.value) and not fact.origin.startswith("python-machine"):
                return fact
        return None

    @cached_property
    def precision(self) -> Precision:
        requests: list[tuple[str, Fact]] = []
        for mode in ("fp16", "bf16"):
            for name in (mode, f"{mode}_full_eval"):
                requests.extend((mode, fact) for fact in self.all(name) if is_true(fact.value) or
                                (fact.value == "auto" and mode == "bf16"))
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

        fp16 = self._argument_flag("fp16")
        bf16 = self._argument_flag("bf16")
        # Transformers: TrainingArguments override ACCELERATE_MIXED_PRECISION only when
        # fp16 or bf16 is True; otherwise the accelerate config / env var wins (facts.md P10).
        if fp16 is not None and bf16 is not None:
            return Precision("bf16", bf16, "both fp16 and bf16 are set", requests)
        if fp16 is not None:
            return Precision("fp16", fp16, "training arguments set fp16", requests)
        if bf16 is not None:
            return Precision("bf16", bf16, "training arguments set bf16", requests)
        if default is not None:
            return Precision("bf16", default, "TRL >= 0.19 SFTConfig defaults bf16 to True", requests)
        for name in ("accelerate_mixed_precision", "env_mixed_precision"):
            fact = self.first(name)
            if fact is not None and str(fact.value).lower() in ("fp16", "bf16", "no"):
                mode = str(fact.value).lower()
                why = ("the accelerate config sets mixed_precision" if name.startswith("accelerate")
                       else "ACCELERATE_MIXED_PRECISION is set")
                return Precision(mode, fact, why, requests)
        for mode in ("fp16", "bf16"):
            fact = next((f for f in self.all(f"deepspeed_{mode}") if f.value is True), None)
            if fact is not None:
                return Precision(mode, fact, f"the DeepSpeed config enables {mode}", requests)
        if any(fact.name in ("fp16", "bf16") for fact in self.facts):
            fact = self.first("fp16") or self.first("bf16")
            return Precision("no", fact, "fp16 and bf16 are off", requests)
        return Precision(None, None, "no source sets a precision", requests)

    @cached_property
    def trl_bf16_default(self) -> Fact | None:
        """TRL >= 0.19: SFTConfig's bf16 defaults to ``not fp16`` when unset (facts.md §4.5)."""
        sft = next((f for f in self.all("trainer_flavour") if f.value in ("trl", "trl-sft")), None)
        if sft is None or self.all("bf16") or self._argument_flag("fp16"):
            return None
        if sft.origin == "training-args" and self.flavour != "trl":
            return None
        trl = self.exact_version("trl")
        if trl is not None and compare(trl, "0.19.0") < 0:
            return None
        return Fact("bf16", True, sft.location, "trl-default", raw_key="bf16")

    @property
    def mixed_precision_active(self) -> bool:
        mode = self.precision.mode
        if mode == "fp16" and self.runs_on_cpu:
            return False  # accelerate ignores fp16 on the CPU (repro.md §4)
        if mode == "fp16" and self.is_gemma3 and self.uses_unsloth:
            return False  # Unsloth resets fp16 to fp32 training for Gemma 3 (facts.md P21)
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
            fact = self.truthy(name)
            if fact is not None:
                return fact
        for fact in self.all("eval_split"):
            if isinstance(fact.value, (int, float)) and not isinstance(fact.value, bool) and fact.value > 0:
                return fact
        return self.first("eval_call")

    # --- cache ----------------------------------------------------------------
    @cached_property
    def use_cache(self) -> CacheSetting:
        multimodal = self.multimodal
        config = self.first("model_config")
        target_key = ("text_config", "use_cache") if multimodal else ("use_cache",)
        target = (config.location.path, target_key) if config else None
        for name in ("code_text_use_cache", "code_use_cache"):
            if multimodal and name == "code_use_cache":
                continue  # the top-level switch is not what the language model reads (GD203)
            fact = self.first(name)
            if fact is not None:
                return CacheSetting(is_true(fact.value), fact, "set in code", target)
        for fact in self.all("use_cache"):
            if fact.origin in ("training-args", "python"):
                return CacheSetting(is_true(fact.value), fact, "set in the training arguments", target)
        transformers = self.exact_version("transformers")
        if transformers and compare(transformers, "5.0.0") >= 0 and self.is_training:
            return CacheSetting(False, None, "transformers >= 5 Trainer sets use_cache from TrainingArguments.use_cache "
                                "(default False)", target)
        trl = self.exact_version("trl")
        if trl and compare(trl, "0.22.0") >= 0 and self.flavour in ("trl", "trl-sft"):
            return CacheSetting(False, None, "TRL >= 0.22 SFTTrainer passes use_cache=False", target)
        name = "text_config_use_cache" if multimodal else "config_use_cache"
        fact = self.first(name)
        if fact is not None:
            return CacheSetting(is_true(fact.value), fact, f"config.json {fact.location.key}", target)
        where = "text_config.use_cache" if multimodal else "use_cache"
        return CacheSetting(True, None, f"{where} is not set, and transformers defaults it to true", target)

    # --- weights ----------------------------------------------------------------
    @cached_property
    def weights_dtype(self) -> WeightsDtype:
        """The dtype the weights load in: it decides how fp16 fails and whether the
        HybridCache bug fires (README precision matrix)."""
        explicit = self.first("load_dtype")
        if explicit is not None:
            dtype = dtype_name(explicit.value)
            if dtype == "auto":
                dtype = self._checkpoint_dtype()
                return WeightsDtype(dtype, explicit, f"loaded with dtype 'auto' (the checkpoint's {dtype or 'dtype'})")
            if dtype in HALF or dtype == "float32":
                return WeightsDtype(dtype, explicit, f"loaded with {explicit.raw_key or 'dtype'}={dtype}")
        if self.first("unsloth_loader") is not None:
            return WeightsDtype("bfloat16", self.first("unsloth_loader"), "Unsloth loads Gemma 3 weights in bfloat16")
        if self.flavour == "axolotl":  # Axolotl derives torch_dtype from bf16/fp16 (anchors.md §6)
            for mode, dtype in (("bf16", "bfloat16"), ("fp16", "float16")):
                fact = self._argument_flag(mode)
                if fact is not None:
                    return WeightsDtype(dtype, fact, f"Axolotl loads the weights in {dtype} when {mode} is on")
            return WeightsDtype("float32", None, "Axolotl loads float32 when neither bf16 nor fp16 is on")
        if self.flavour == "llamafactory":  # loads in its compute dtype (anchors.md §7)
            fact = self._argument_flag("bf16")
            return WeightsDtype("bfloat16" if fact else "float16", fact, "LLaMA-Factory loads in its compute dtype")
        transformers = self.exact_version("transformers")
        if transformers and compare(transformers, "5.0.0") >= 0:
            dtype = self._checkpoint_dtype() or "bfloat16"
            return WeightsDtype(dtype, None, f"transformers >= 5 loads the checkpoint dtype ({dtype}) by default")
        plain = self.first("plain_from_pretrained")
        if plain is not None and transformers:
            return WeightsDtype("float32", plain, "transformers 4.x from_pretrained loads float32 without torch_dtype")
        return WeightsDtype(None, None, "the loading code does not say")

    def _checkpoint_dtype(self) -> str | None:
        for name in ("text_config_dtype", "config_dtype"):
            fact = self.first(name)
            if fact is not None:
                return dtype_name(fact.value)
        return "bfloat16" if self.is_gemma3 else None


def _fits(version: str | None, spec: str) -> bool:
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
