"""Python training scripts, read with ``ast``: never imported, never executed.

Extracts, with exact line and column: keyword arguments of TrainingArguments and
TRL configs (however imported or aliased, including ``**dict`` literals), model
loading (``from_pretrained`` on HF and Unsloth classes, dtype, attention,
quantisation), ``model.config[.text_config].use_cache = ...``, gradient
checkpointing, ``trainer.evaluate()/predict()``, simple module constants, and
GPU-dependent expressions such as ``not is_bfloat16_supported()``.
"""

from __future__ import annotations

import ast
from pathlib import Path

from gemma_doctor.facts import Fact, InputError, Location, MachineValue, SourceResult
from gemma_doctor.setup import family_of_model_id
from gemma_doctor.sources import read_text
from gemma_doctor.sources.training_args import _COMMON

ORIGIN = "python"
ARGUMENT_CLASSES = {
    "TrainingArguments": "transformers", "Seq2SeqTrainingArguments": "transformers", "SFTConfig": "trl",
    "DPOConfig": "trl", "GRPOConfig": "trl", "ORPOConfig": "trl", "KTOConfig": "trl", "RewardConfig": "trl",
}
TRAINER_CLASSES = {
    "Trainer": "transformers", "Seq2SeqTrainer": "transformers", "SFTTrainer": "trl", "DPOTrainer": "trl",
    "GRPOTrainer": "trl", "ORPOTrainer": "trl", "KTOTrainer": "trl", "RewardTrainer": "trl",
}
MODEL_CLASSES = {
    "AutoModelForCausalLM", "AutoModelForImageTextToText", "AutoModelForVision2Seq", "AutoModel",
    "Gemma3ForConditionalGeneration", "Gemma3ForCausalLM", "Gemma2ForCausalLM", "Gemma3nForConditionalGeneration",
    "Gemma3nForCausalLM", "PaliGemmaForConditionalGeneration", "AutoModelForSequenceClassification",
}
UNSLOTH_CLASSES = {"FastModel", "FastLanguageModel", "FastVisionModel"}
# name of the GPU probe -> (value on compute capability >= 8.0, value on a T4/V100)
MACHINE_CALLS = {
    "is_bfloat16_supported": (True, False),  # Unsloth: capability >= 8 (facts.md §2.1)
    "is_bf16_supported": (True, True),  # torch.cuda: counts emulation, True on a T4 (facts.md P3)
    "is_torch_bf16_gpu_available": (True, True),
}
_DTYPE_ATTRS = {"float16", "bfloat16", "float32", "half", "float", "bfloat"}
_UNSET = object()


class Analyzer:
    """Walks one module, or a notebook's cells in order with shared names."""

    def __init__(self, display: str) -> None:
        self.display = display
        self.aliases: dict[str, str] = {}  # local name -> imported class/function name
        self.constants: dict[str, tuple[object, ast.AST]] = {}  # module constants and dict literals
        self.bindings: dict[str, str] = {}  # variable -> what it was bound to ("trainer", "bnb", ...)
        self.bnb_configs: dict[str, ast.Call] = {}
        self.result = SourceResult(kind="python")
        self.cell: int | None = None
        self.line_offset = 0

    # --- locations ------------------------------------------------------------
    def location(self, node: ast.AST, key: str | None = None) -> Location:
        return Location(self.display, node.lineno - self.line_offset, node.col_offset + 1, key, self.cell)

    def add(self, name: str, value, node: ast.AST, raw_key: str | None = None, edit=None) -> None:
        self.result.facts.append(Fact(name, value, self.location(node, raw_key), ORIGIN, raw_key, edit))

    def call_ref(self, call: ast.Call) -> str:
        return f"{call.lineno - self.line_offset}:{call.col_offset}"

    # --- values -----------------------------------------------------------------
    def name_of(self, func: ast.AST) -> str | None:
        if isinstance(func, ast.Name):
            return self.aliases.get(func.id, func.id)
        if isinstance(func, ast.Attribute):
            return func.attr
        return None

    def value(self, node: ast.AST):
        """A literal, a resolved constant, a dtype name, a MachineValue, or _UNSET."""
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in self.constants:
                return self.constants[node.id][0]
            return _UNSET
        if isinstance(node, ast.Attribute) and node.attr in _DTYPE_ATTRS:
            return {"half": "float16", "float": "float32", "bfloat": "bfloat16"}.get(node.attr, node.attr)
        if isinstance(node, ast.Call) and not node.args and not node.keywords:
            name = self.name_of(node.func)
            if name in MACHINE_CALLS:
                on_bf16, on_older = MACHINE_CALLS[name]
                return MachineValue(ast.unparse(node), on_bf16, on_older)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self.value(node.operand)
            if isinstance(inner, MachineValue):
                return MachineValue(ast.unparse(node), not inner.on_bf16_gpu, not inner.on_older_gpu)
            if isinstance(inner, bool):
                return not inner
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [self.value(item) for item in node.elts]
            return _UNSET if any(item is _UNSET for item in items) else items
        return _UNSET

    # --- walking -------------------------------------------------------------------
    def run(self, tree: ast.Module) -> None:
        # One walk (ast.walk is the slow part of reading a big script); imports first, so that
        # aliases are known, then module constants in order, then calls and assignments.
        calls: list[ast.AST] = []
        for node in ast.walk(tree):
            kind = type(node)
            if kind is ast.Call or kind is ast.Assign:
                calls.append(node)
            elif kind is ast.ImportFrom:
                self._import_from(node)
            elif kind is ast.Import:
                for alias in node.names:
                    if alias.name.split(".")[0] == "unsloth":
                        self.add("unsloth_import", True, node, "unsloth")
        for statement in tree.body:
            self._constant(statement)
        for node in calls:
            if type(node) is ast.Call:
                self._call(node)
            else:
                self._assign(node)

    def _import_from(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if module.split(".")[0] == "unsloth":
            self.add("unsloth_import", True, node, "unsloth")
        for alias in node.names:
            if alias.asname:
                self.aliases[alias.asname] = alias.name

    def _constant(self, statement: ast.stmt) -> None:
        if not isinstance(statement, ast.Assign) or len(statement.targets) != 1:
            return
        target = statement.targets[0]
        if not isinstance(target, ast.Name):
            return
        value = statement.value
        if isinstance(value, ast.Dict) or (isinstance(value, ast.Call) and self.name_of(value.func) == "dict"):
            self.constants[target.id] = (value, value)
            return
        if isinstance(value, ast.Call) and self.name_of(value.func) == "BitsAndBytesConfig":
            self.bnb_configs[target.id] = value
            return
        resolved = self.value(value)
        if resolved is not _UNSET:
            self.constants[target.id] = (resolved, value)
            if isinstance(resolved, str) and "/" in resolved and family_of_model_id(resolved):
                self.add("model_id", resolved, value, target.id)  # MODEL = "google/gemma-3-4b-it"

    def _keywords(self, call: ast.Call):
        """(name, value node, key node) for every keyword, following ``**dict`` literals."""
        for keyword in call.keywords:
            if keyword.arg is not None:
                yield keyword.arg, keyword.value, keyword, True
                continue
            source = keyword.value
            if isinstance(source, ast.Name) and source.id in self.constants:
                source = self.constants[source.id][1]
            if isinstance(source, ast.Dict):
                for key, item in zip(source.keys, source.values):
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        yield key.value, item, key, False
            elif isinstance(source, ast.Call) and self.name_of(source.func) == "dict":
                for inner in source.keywords:
                    if inner.arg:
                        yield inner.arg, inner.value, inner, False

    def _call(self, call: ast.Call) -> None:
        name = self.name_of(call.func)
        if name in ARGUMENT_CLASSES:
            self._training_arguments(call, name)
        elif name in TRAINER_CLASSES:
            self.add("trainer_call", name, call, name)
            self.add("trainer_flavour", TRAINER_CLASSES[name], call, name)
            for keyword in call.keywords:
                if keyword.arg == "model":  # SFTTrainer(model="google/gemma-3-1b-it")
                    model_id = self.value(keyword.value)
                    if isinstance(model_id, str):
                        self.add("model_id", model_id, keyword.value, "model")
                if keyword.arg == "eval_dataset" and not (isinstance(keyword.value, ast.Constant) and keyword.value.value is None):
                    self.add("eval_dataset", True, keyword, "eval_dataset")
        elif name == "from_pretrained" and isinstance(call.func, ast.Attribute):
            self._from_pretrained(call)
        elif name == "BitsAndBytesConfig":
            self._bnb(call)
        elif name in ("evaluate", "predict") and isinstance(call.func, ast.Attribute):
            owner = call.func.value
            owner_name = owner.id if isinstance(owner, ast.Name) else ""
            if self.bindings.get(owner_name) == "trainer" or "trainer" in owner_name.lower():
                self.add("eval_call", f"{owner_name}.{name}()", call, name)
        elif name == "gradient_checkpointing_enable":
            self.add("code_gradient_checkpointing", True, call, "gradient_checkpointing_enable")

    def _training_arguments(self, call: ast.Call, class_name: str) -> None:
        self.add("trainer_flavour", ARGUMENT_CLASSES[class_name], call, class_name)
        self.add("training_arguments_call", class_name, call, class_name)
        ref = self.call_ref(call)
        for keyword, value_node, key_node, direct in self._keywords(call):
            name = _COMMON.get(keyword)
            if name is None:
                if keyword == "model_init_kwargs" and isinstance(value_node, ast.Dict):
                    self._model_kwargs(value_node)
                continue
            value = self.value(value_node)
            if value is _UNSET or value is None:
                continue
            edit = ("python", (ref, keyword)) if direct else None
            self.add(name, value, key_node, keyword, edit)

    def _model_kwargs(self, node: ast.Dict) -> None:
        for key, item in zip(node.keys, node.values):
            if isinstance(key, ast.Constant) and key.value in ("torch_dtype", "dtype", "attn_implementation"):
                value = self.value(item)
                if value is not _UNSET and value is not None:
                    self.add(_COMMON[key.value], value, key, key.value)

    def _from_pretrained(self, call: ast.Call) -> None:
        owner = self.name_of(call.func.value)
        if owner not in MODEL_CLASSES and owner not in UNSLOTH_CLASSES:
            return
        ref = self.call_ref(call)
        self.add("model_class", owner, call, owner)
        if owner in UNSLOTH_CLASSES:
            self.add("unsloth_loader", owner, call, owner)
        model_id = None
        if call.args:
            model_id = self.value(call.args[0])
        has_dtype = False
        for keyword, value_node, key_node, direct in self._keywords(call):
            if keyword == "model_name" and owner in UNSLOTH_CLASSES:
                model_id = self.value(value_node)
            elif keyword == "pretrained_model_name_or_path":
                model_id = self.value(value_node)
            elif keyword in ("torch_dtype", "dtype"):
                has_dtype = True
                value = self.value(value_node)
                if value is not _UNSET and value is not None:
                    self.add("load_dtype", value, key_node, keyword, ("python", (ref, keyword)) if direct else None)
            elif keyword in ("attn_implementation", "load_in_4bit", "load_in_8bit", "use_cache"):
                value = self.value(value_node)
                if value is not _UNSET:
                    name = "code_use_cache" if keyword == "use_cache" else _COMMON[keyword]
                    self.add(name, value, key_node, keyword, ("python", (ref, keyword)) if direct else None)
            elif keyword == "quantization_config":
                if isinstance(value_node, ast.Call) and self.name_of(value_node.func) == "BitsAndBytesConfig":
                    pass  # visited on its own by the walk
        if isinstance(model_id, str):
            self.add("model_id", model_id, call.args[0] if call.args else call, "model_id")
        if owner in MODEL_CLASSES and not has_dtype:
            self.add("plain_from_pretrained", owner, call, owner)

    def _bnb(self, call: ast.Call) -> None:
        ref = self.call_ref(call)
        for keyword, value_node, key_node, direct in self._keywords(call):
            if keyword == "bnb_4bit_compute_dtype":
                value = self.value(value_node)
                if value is not _UNSET and value is not None:
                    self.add("bnb_compute_dtype", value, key_node, keyword, ("python", (ref, keyword)) if direct else None)
            elif keyword in ("load_in_4bit", "load_in_8bit"):
                value = self.value(value_node)
                if value is not _UNSET:
                    self.add(keyword, value, key_node, keyword)

    def _assign(self, node: ast.Assign) -> None:
        value_node = node.value
        if isinstance(value_node, ast.Call):
            callee = self.name_of(value_node.func)
            for target in node.targets:
                if isinstance(target, ast.Name) and callee in TRAINER_CLASSES:
                    self.bindings[target.id] = "trainer"
            if callee == "from_pretrained" and isinstance(value_node.func, ast.Attribute) and \
                    self.name_of(value_node.func.value) in MODEL_CLASSES | UNSLOTH_CLASSES:
                target = node.targets[0]
                if isinstance(target, ast.Tuple) and target.elts:  # model, tokenizer = FastModel.from_pretrained(...)
                    target = target.elts[0]
                if isinstance(target, ast.Name):  # where a fix can add `model.config...use_cache = False`
                    ref = f"stmt@{node.lineno - self.line_offset}:{node.col_offset}"
                    self.add("model_variable", target.id, node, target.id, ("python", (ref,)))
        for target in node.targets:
            chain = _attribute_chain(target)
            if chain is None or len(chain) < 3 or chain[-1] != "use_cache" or "config" not in chain[1:-1]:
                continue
            value = self.value(value_node)
            if value is _UNSET:
                continue
            ref = f"{node.lineno - self.line_offset}:{node.col_offset}"
            name = "code_text_use_cache" if chain[-2] == "text_config" else "code_use_cache"
            if chain[-2] not in ("config", "text_config"):
                continue
            self.add(name, value, node, ".".join(chain[1:]), ("python", (f"assign@{ref}",)))


def _attribute_chain(node: ast.AST) -> list[str] | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return list(reversed(parts))


def statement_ranges(tree: ast.Module, offset: int = 0) -> dict[int, int]:
    ranges = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and node.end_lineno is not None:
            start = node.lineno - offset
            ranges[start] = max(ranges.get(start, start), node.end_lineno - offset)
    return ranges


def parse(text: str, display: str, what: str = "") -> ast.Module:
    try:
        return ast.parse(text, filename=display)
    except SyntaxError as exc:
        raise InputError(f"{what}syntax error: {exc.msg} at line {exc.lineno}") from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise InputError(f"{what}cannot parse: {type(exc).__name__}") from None


# A script that mentions none of these cannot hold a fact we read: skip parsing it.
_RELEVANT = ("Arguments", "Config", "from_pretrained", "Trainer", "use_cache", "gradient_checkpointing", "unsloth",
             "gemma", "Gemma", "evaluate", "predict", "gemma-doctor")


def load(path: Path, display: str) -> SourceResult:
    from gemma_doctor.suppressions import scan_hash_comments

    text = read_text(path)
    if not any(word in text for word in _RELEVANT):
        return SourceResult(kind="python")
    tree = parse(text, display)
    analyzer = Analyzer(display)
    analyzer.run(tree)
    if "gemma-doctor" in text:  # statement ranges cost a walk: only for files with suppression comments
        analyzer.result.suppressions = scan_hash_comments(text, display, None, statement_ranges(tree))
    return analyzer.result
