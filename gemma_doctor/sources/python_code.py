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

from gemma_doctor.facts import Fact, InputError, Location, MachineValue, SourceResult, Unknown, is_resolved
from gemma_doctor.modelids import family_of_model_id
from gemma_doctor.sources import project_modules, read_text
from gemma_doctor.sources.python_eval import (
    _MISSING,
    ABSENT,
    ArgumentParser,
    ClassRef,
    DataclassParser,
    DataclassRef,
    DictValue,
    Evaluator,
    FunctionRef,
    Invocation,
    ModuleValue,
    ParsedArguments,
    RenderedChat,
    Scope,
    combine,
    origin_of,
    text_of,
)
from gemma_doctor.sources.python_recovery import parse_recovering
from gemma_doctor.sources.training_args import ARGUMENT_KEYS, CHECKPOINTING_KWARGS, SWIFT_KEYS, swift_setting
from gemma_doctor.sources.versions import _TRACKED_SET, _fact, parse_requirement, pip_pins

# What the call walk skips: nested scopes and statements (walked on their own), and nodes that
# hold no call.
_NOT_WALKED = (
    ast.stmt,
    ast.Lambda,
    ast.Name,
    ast.Constant,
    ast.expr_context,
    ast.operator,
    ast.unaryop,
    ast.cmpop,
    ast.boolop,
)
ORIGIN = "python"
ARGUMENT_CLASSES = {
    "TrainingArguments": "transformers",
    "Seq2SeqTrainingArguments": "transformers",
    "SFTConfig": "trl",
    "DPOConfig": "trl",
    "GRPOConfig": "trl",
    "ORPOConfig": "trl",
    "KTOConfig": "trl",
    "RewardConfig": "trl",
    "CPOConfig": "trl",
    "RLOOConfig": "trl",
    "OnlineDPOConfig": "trl",
    # ms-swift 4.x (swift.arguments); 3.x's TrainArguments is read as SftArguments where imported from swift
    "SftArguments": "swift",
    "RLHFArguments": "swift",
    "PretrainArguments": "swift",
}
TRAINER_CLASSES = {
    "Trainer": "transformers",
    "Seq2SeqTrainer": "transformers",
    "SFTTrainer": "trl",
    "DPOTrainer": "trl",
    "GRPOTrainer": "trl",
    "ORPOTrainer": "trl",
    "KTOTrainer": "trl",
    "RewardTrainer": "trl",
    "CPOTrainer": "trl",
    "RLOOTrainer": "trl",
    "OnlineDPOTrainer": "trl",
    "SwiftSft": "swift",
    "SwiftRLHF": "swift",
    "SwiftPt": "swift",
    "SwiftPretrain": "swift",
}
# Names too generic to trust unless imported from ms-swift: what each one is there.
SWIFT_NAMES = {
    "TrainArguments": "SftArguments",
    "sft_main": "SwiftSft",
    "rlhf_main": "SwiftRLHF",
    "pt_main": "SwiftPt",
    "pretrain_main": "SwiftPretrain",
}
MODEL_CLASSES = {
    "AutoModelForCausalLM",
    "AutoModelForImageTextToText",
    "AutoModelForVision2Seq",
    "AutoModel",
    "Gemma3ForConditionalGeneration",
    "Gemma3ForCausalLM",
    "Gemma2ForCausalLM",
    "Gemma3nForConditionalGeneration",
    "Gemma3nForCausalLM",
    "Gemma4ForConditionalGeneration",
    "Gemma4ForCausalLM",
    "Gemma4UnifiedForConditionalGeneration",
    "PaliGemmaForConditionalGeneration",
    "AutoModelForSequenceClassification",
    "GemmaForCausalLM",
    "AutoModelForSeq2SeqLM",
    "AutoPeftModelForCausalLM",
}
UNSLOTH_CLASSES = {"FastModel", "FastLanguageModel", "FastVisionModel"}


class Analyzer:
    """Walks one module, or a notebook's cells in order with shared names.

    Statements are read in order and names are bound as they go, so a value is the one
    bound *before* its use (a notebook that reassigns ``model_id`` later is read right).
    A function's body is read in its own scope, with its parameters bound to their
    defaults. What cannot be resolved is Unknown (see python_eval).
    """

    def __init__(self, display: str, path: Path | None = None, depth: int = 0, invocation=None) -> None:
        self.display = display
        self.path = path  # where the file is, to follow its imports of the project's own modules
        self.depth = depth  # how many imports away from the file being checked
        self.aliases: dict[str, str] = {}  # local name -> imported class/function name
        self.evaluator = Evaluator(self.aliases, display)
        self.evaluator.invocation = invocation  # how a launch line runs it (python_eval.Invocation), or None
        self.evaluator.project_call = self._project_call
        self.scope = Scope()
        self.trainers: set[str] = set()  # variables bound to a Trainer
        # The facts each TrainingArguments / TRL config call emitted (by call ref), and the variables bound
        # to one: `args.fp16 = True` after construction replaces the call's fp16, as it does at run time.
        # keyed by the call node's id: a notebook's cells can repeat a line:column reference
        self.argument_facts: dict[int, tuple[list[Fact], dict[str, str]]] = {}  # call -> (facts, key -> fact name)
        self.argument_variables: dict[str, int] = {}
        self.result = SourceResult(kind="python")
        self.cell: int | None = None
        self.line_offset = 0
        # Functions of this file, read where they are called with their arguments bound (a call's
        # value is what the body returns), and at the end, with their defaults, if nothing called them.
        self.functions: dict[int, tuple[ast.AST, Scope, int | None, int]] = {}
        self.walked: set[int] = set()
        self.calls: dict[int, object] = {}  # call node -> the value it returned (read once per call)
        self.active: list[int] = []  # functions being read: recursion is not followed
        self.frame: _Frame | None = None
        self.budget = _MAX_FUNCTION_READINGS  # bodies read at call sites, per file
        # Chat data (GD801-GD805): where DataCollatorForLanguageModeling comes from (trl has its own, which
        # masks padding by position, not by id), functions returning rendered chat text, and the functions
        # a trainer takes as formatting_func (their rendered returns are the dataset's text).
        self.collator_module = "transformers"
        self.function_names: list[str] = []
        self.rendered_returns: list[
            tuple[str, tuple[ast.AST, int | None, int]]
        ] = []  # (function, (node, cell, offset))
        self.formatting_functions: set[str] = set()
        self.turn_tokens = False  # the file's text holds a Gemma 1-3 turn token: constants are looked at
        self.imported: list[Analyzer] = []  # the project modules this file imports (their data idioms are its own)
        self.imported_names: dict[str, tuple[Analyzer, str]] = {}  # from m import X as Y: Y -> (m's reader, X)
        # Module-level `from pkg.train import main`: name -> the file defining it (a console script `pkg:main`)
        self.reexports: dict[str, Path] = {}

    # --- locations ------------------------------------------------------------
    def location(self, node: ast.AST | _Elsewhere, key: str | None = None) -> Location:
        if isinstance(node, _Elsewhere):  # a value set in another module of the project
            return Location(node.display, node.lineno, node.col_offset + 1, key)
        line, column = getattr(node, "lineno", 1), getattr(node, "col_offset", 0)  # every node we locate has both
        return Location(self.display, line - self.line_offset, column + 1, key, self.cell)

    def add(self, name: str, value, node: ast.AST | _Elsewhere, raw_key: str | None = None, edit=None) -> None:
        self.result.facts.append(Fact(name, value, self.location(node, raw_key), ORIGIN, raw_key, edit))

    def call_ref(self, call: ast.Call) -> str:
        return f"{call.lineno - self.line_offset}:{call.col_offset}"

    def value(self, node: ast.AST, scope: Scope):
        return self.evaluator.value(node, scope)

    # --- walking -------------------------------------------------------------------
    def run(self, tree: ast.Module) -> None:
        self._block(tree.body, self.scope)

    def finish(self) -> None:
        """Read every function nothing called, with its parameters bound to their defaults."""
        for key, (node, scope, cell, offset) in list(self.functions.items()):
            if key not in self.walked:
                self.cell, self.line_offset = cell, offset
                self._walk_function(node, scope, None)
        # What an imported module does to the data happens in this run (prepare.py renders, train.py trains):
        # its data idioms join this file's facts, located in the module.
        have = {(f.name, f.location) for f in self.result.facts}
        for reader in self.imported:
            for fact in reader.result.facts:
                if fact.name in DATA_FACTS and (fact.name, fact.location) not in have:
                    have.add((fact.name, fact.location))
                    self.result.facts.append(fact)
        seen: set[int] = set()
        for function, (node, cell, offset) in self.rendered_returns:
            if function in self.formatting_functions and id(node) not in seen:
                seen.add(id(node))
                self.cell, self.line_offset = cell, offset
                self.add("chat_text_field", f"{function}() returns apply_chat_template(tokenize=False)", node)
        self.result.reads_invocation = self.evaluator.reads_invocation or any(
            reader.evaluator.reads_invocation for reader in self.imported
        )

    def _block(self, statements: list[ast.stmt], scope: Scope) -> None:
        for statement in statements:
            self._statement(statement, scope)
            if self.frame is not None and self.frame.returned:
                break  # the rest of this block does not run

    # --- the project's own functions --------------------------------------------------
    def _walk_function(self, node, scope: Scope, call: ast.Call | None, caller: Scope | None = None) -> object:
        """Read a function's body with its parameters bound (to the call's arguments, else their
        defaults): its facts are the file's, and what it returns is the call's value."""
        self.walked.add(id(node))
        inner = Scope(scope)
        arguments = node.args
        positional = arguments.posonlyargs + arguments.args
        defaults = dict(
            zip([p.arg for p in positional[len(positional) - len(arguments.defaults) :]], arguments.defaults)
        )
        defaults.update((p.arg, d) for p, d in zip(arguments.kwonlyargs, arguments.kw_defaults) if d is not None)
        given: dict[str, object] = {}
        if call is not None and caller is not None:
            for parameter, argument in zip(positional, call.args):
                if isinstance(argument, ast.Starred):
                    break
                given[parameter.arg] = self.value(argument, caller)
            for keyword in call.keywords:
                if keyword.arg is not None:
                    given[keyword.arg] = self.value(keyword.value, caller)
        for parameter in [*positional, *arguments.kwonlyargs]:
            if parameter.arg in given:
                inner.bind(parameter.arg, given[parameter.arg])
            elif parameter.arg in defaults:
                inner.bind(parameter.arg, self.value(defaults[parameter.arg], scope))
        outer, self.frame = self.frame, _Frame()
        self.active.append(id(node))
        self.function_names.append(node.name)
        try:
            self._block(node.body, inner)
            return self.frame.value()
        finally:
            self.active.pop()
            self.function_names.pop()
            self.frame = outer

    def _project_call(self, call: ast.Call, scope: Scope) -> object:
        """The value of a call to a function of the project, or _MISSING (not one, or not followed)."""
        loaded = self._loaded_settings(call, scope)
        if loaded is not _MISSING:
            return loaded
        parsed = self._parsed_file(call, scope)
        if parsed is not _MISSING:
            return parsed
        if id(call) in self.calls:
            return self.calls[id(call)]
        function = scope.lookup(call.func.id) if isinstance(call.func, ast.Name) else None
        if not isinstance(function, FunctionRef):
            return _MISSING
        if function.reader is not self:  # imported: read in its own module, its facts not this file's
            return function.reader.call_value(function, call, scope, self)
        if id(function.node) in self.active or len(self.active) >= _MAX_CALL_DEPTH or self.budget <= 0:
            return _MISSING
        self.budget -= 1  # each reading of a body costs one: calls that fan out cannot multiply without end
        cell, offset = self.cell, self.line_offset
        _node, _scope, self.cell, self.line_offset = self.functions[id(function.node)]
        try:
            value = self._walk_function(function.node, function.scope, call, scope)
        finally:
            self.cell, self.line_offset = cell, offset
        self.calls[id(call)] = value
        return value

    def call_value(self, function: FunctionRef, call: ast.Call, caller_scope: Scope, caller) -> object:
        """A call from another module to a function of this one: the value it returns, facts dropped."""
        if id(function.node) in self.active or len(self.active) >= _MAX_CALL_DEPTH or self.budget <= 0:
            return _MISSING
        self.budget -= 1
        arguments = [caller.value(argument, caller_scope) for argument in call.args]
        keywords = {k.arg: caller.value(k.value, caller_scope) for k in call.keywords if k.arg is not None}
        bound = Scope(function.scope)
        stand_in = ast.Call(func=call.func, args=[], keywords=[])  # the arguments, already evaluated
        node = function.node
        assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        positional = node.args.posonlyargs + node.args.args
        for parameter, value in zip(positional, arguments):
            bound.bind(parameter.arg, value)
        for name, value in keywords.items():
            bound.bind(name, value)
        facts = self.result.facts
        self.result.facts = []
        try:
            return self._walk_function(node, bound, stand_in, bound)
        finally:  # the walk's facts are the caller's business, except the data idioms, which are this module's
            kept = [fact for fact in self.result.facts if fact.name in DATA_FACTS]
            self.result.facts = facts + kept

    def _statement(self, statement: ast.stmt, scope: Scope) -> None:
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                if alias.name.split(".")[0] == "unsloth":
                    self.add("unsloth_import", True, statement, "unsloth")
                if alias.asname:
                    self.aliases[alias.asname] = alias.name.split(".")[-1]
                if self.path is not None and (alias.asname or "." not in alias.name):
                    module = project_modules.find(self.path, alias.name, 0)
                    reader = self._read_module(module)
                    if reader is not None:  # import config: config.MODEL_ID is followed
                        scope.bind(alias.asname or alias.name, ModuleValue(reader.scope, reader.display))
            return
        if isinstance(statement, ast.ImportFrom):
            if (statement.module or "").split(".")[0] == "unsloth":
                self.add("unsloth_import", True, statement, "unsloth")
            from_swift = (statement.module or "").split(".")[0] == "swift"
            for alias in statement.names:
                if alias.name == "DataCollatorForLanguageModeling":
                    self.collator_module = (statement.module or "").split(".")[0]
                if from_swift and alias.name in SWIFT_NAMES:
                    self.aliases[alias.asname or alias.name] = SWIFT_NAMES[alias.name]
                elif alias.asname:
                    self.aliases[alias.asname] = alias.name
            if self.path is not None:
                self._import_from(statement, scope)
            return
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            # Read where it is called (its arguments bound), or at the end with its defaults.
            self.functions[id(statement)] = (statement, scope, self.cell, self.line_offset)
            scope.bind(statement.name, FunctionRef(statement, scope, self))
            return
        if isinstance(statement, ast.Return):
            self._calls(statement, scope)
            if self.frame is not None:
                returned = self.value(statement.value, scope) if statement.value is not None else None
                self.frame.returns.append(returned)
                self.frame.returned = True
                self._rendered_return(returned, statement)
            return
        if isinstance(statement, ast.ClassDef):
            self._block(statement.body, Scope(scope))
            settings = self._settings_class(statement, scope)
            if settings is not None:
                scope.bind(statement.name, settings)
            return
        if isinstance(statement, ast.If):
            if self.depth and _is_main_guard(statement.test):
                return  # an imported module's `if __name__ == "__main__":` does not run on import
            self._calls(statement.test, scope)
            test = self.value(statement.test, scope)
            if test is True or test is False or (is_resolved(test) and isinstance(test, (int, str, type(None)))):
                self._block(statement.body if test else statement.orelse, scope)
                return
            if isinstance(test, MachineValue) and not statement.orelse and _stops(statement.body):
                # `if torch.cuda.get_device_capability()[0] < 8: raise SystemExit(...)`: on the GPU where the
                # test holds, nothing after it runs (setup drops what follows on that GPU)
                self.add("exits_on_gpu", test, statement, "if")
            self._branches(statement, test, scope)
            return
        # Calls first (their facts), then the bindings the statement makes.
        self._calls(statement, scope)
        if isinstance(statement, ast.Assign):
            for target in statement.targets:
                self._bind(target, statement.value, statement, scope)
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            self._bind(statement.target, statement.value, statement, scope)
        if isinstance(statement, ast.With):  # `with open("cfg.yaml") as f:` binds f to the file it opens
            for item in statement.items:
                if isinstance(item.optional_vars, ast.Name):
                    opened = self._opened(item.context_expr, scope)
                    if opened is not None:
                        scope.bind(item.optional_vars.id, OpenedFile(opened))
        frame = self.frame
        for field in ("body", "orelse", "finalbody"):
            block = getattr(statement, field, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                self._block(block, scope)
                if frame is not None:  # a return inside a loop, with, try or handler may not run:
                    frame.returned = False  # what follows is read all the same
        for handler in getattr(statement, "handlers", []) or []:
            self._block(handler.body, scope)
            if frame is not None:
                frame.returned = False

    # --- settings files the code loads ----------------------------------------------------
    def _loaded_settings(self, call: ast.Call, scope: Scope) -> object:
        """``json.load(f)`` / ``yaml.safe_load(f)`` of a file of the project (``open("cfg.yaml")``, directly
        or through ``with open(...) as f``): the file's values, each located at its key in that file, so a
        finding about one points there. _MISSING for any other call; unknown for a file not found."""
        func = call.func
        if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)) or len(call.args) != 1:
            return _MISSING
        module = self.aliases.get(func.value.id, func.value.id)
        if (module, func.attr) not in _LOADERS:
            return _MISSING
        argument = call.args[0]
        if isinstance(argument, ast.Call):
            opened = self._opened(argument, scope)
        else:
            handle = self.value(argument, scope)
            opened = handle.path if isinstance(handle, OpenedFile) else None
        if opened is None or self.path is None:
            return Unknown(ast.unparse(call))
        return settings_file_value(opened, self.path, self.display) or Unknown(ast.unparse(call))

    def _opened(self, node: ast.AST, scope: Scope) -> str | None:
        """The path ``open(path)`` (or ``Path(path).open()``) names, when it can be resolved to a string."""
        if not isinstance(node, ast.Call):
            return None
        callee = self.evaluator.callee(node.func, scope)
        if callee == "open" and node.args:
            target = node.args[0]
            if isinstance(target, ast.Call) and self.evaluator.callee(target.func, scope) == "Path" and target.args:
                target = target.args[0]
            value = self.value(target, scope)
            return value if isinstance(value, str) else None
        return None

    # --- the project's own modules ------------------------------------------------------
    def _read_module(self, module: Path | None):
        if module is None or self.path is None:
            return None
        reader = project_modules.read(
            module, self.display, self.path, self.depth + 1, type(self), self.evaluator.invocation
        )
        if reader is not None and reader not in self.imported:
            self.imported.append(reader)
        return reader

    def _imported_arguments(self, node: ast.AST, scope: Scope) -> None:
        """``args=config.TRAINING_ARGS`` or ``args=TRAINING_ARGS`` (``from config import ...``): a
        TrainingArguments / TRL config built in another module of the project is this trainer's, so its
        facts join this file's, located where that module sets them."""
        reader, name = None, None
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            module = scope.lookup(node.value.id)
            if isinstance(module, ModuleValue):
                reader = next((r for r in self.imported if r.display == module.display), None)
                name = node.attr
        elif isinstance(node, ast.Name) and node.id in self.imported_names:
            reader, name = self.imported_names[node.id]
        if reader is None or name not in reader.argument_variables:
            return
        have = {id(fact) for fact in self.result.facts}
        owned, _keys = reader.argument_facts[reader.argument_variables[name]]
        self.result.facts.extend(fact for fact in owned if id(fact) not in have)

    def _import_from(self, statement: ast.ImportFrom, scope: Scope) -> None:
        """``from config import MODEL_ID, BNB_CONFIG``: each name takes the value the project's module
        gives it, and remembers where that module sets it."""
        if self.path is None:
            return
        for alias in statement.names:
            module = project_modules.find(self.path, statement.module, statement.level, alias.name)
            if module is None:
                continue
            reader = self._read_module(module)
            if reader is None:
                continue
            if module.stem == alias.name or (module.name == "__init__.py" and module.parent.name == alias.name):
                scope.bind(alias.asname or alias.name, ModuleValue(reader.scope, reader.display))
                continue
            value = reader.scope.lookup(alias.name)
            self.imported_names[alias.asname or alias.name] = (reader, alias.name)
            if value is not _MISSING:
                scope.bind(alias.asname or alias.name, value, reader.scope.origin(alias.name))
            if isinstance(value, FunctionRef) and self.frame is None and value.reader.path is not None:
                self.reexports[alias.asname or alias.name] = Path(value.reader.path)

    def _branches(self, statement: ast.If, test, scope: Scope) -> None:
        """Both branches of an ``if`` whose test depends on the GPU (or is unknown): a name
        assigned in them takes, on each kind of GPU, the branch taken there (or is unknown)."""
        before = dict(scope.names)
        frame = self.frame
        start = len(frame.returns) if frame is not None else 0
        self._block(statement.body, scope)
        after_body = dict(scope.names)
        body_returned = frame is not None and frame.returned
        if frame is not None:
            frame.returned = False
        middle = len(frame.returns) if frame is not None else 0
        scope.names.clear()
        scope.names.update(before)
        self._block(statement.orelse, scope)
        after_else = dict(scope.names)
        if frame is not None:  # what each side returned, folded into one value per kind of GPU
            frame.branch(statement.test, test, start, middle, body_returned)
        for name in set(after_body) | set(after_else):
            in_body = after_body.get(name, before.get(name, _MISSING))
            in_else = after_else.get(name, before.get(name, _MISSING))
            if in_body is in_else:
                continue
            if in_body is _MISSING or in_else is _MISSING:
                scope.names[name] = Unknown(name)
            else:
                scope.names[name] = combine(statement.test, lambda t, b, o: b if t else o, test, in_body, in_else)

    def _calls(self, node: ast.AST, scope: Scope) -> None:
        """Every call in one statement (not in nested statements, functions or classes), in the
        order ``ast.iter_child_nodes`` would give them. Its loop written out, and leaves (names,
        constants, operators) never visited: this walk is most of the time a long script costs."""
        stack = [node]
        while stack:
            current = stack.pop()
            for field in current._fields:
                value = getattr(current, field, None)
                for child in value if isinstance(value, list) else (value,):
                    if self.turn_tokens and type(child) is ast.Constant and type(child.value) is str:
                        self._turn_token(child)
                    if not isinstance(child, ast.AST) or isinstance(child, _NOT_WALKED):
                        continue
                    if type(child) is ast.Call:
                        self._call(child, scope)
                    elif type(child) is ast.BinOp:
                        self._eos_appended(child, child.right)
                    elif type(child) is ast.FormattedValue:
                        self._eos_appended(child, child.value)
                    stack.append(child)
            if current is node and isinstance(node, ast.Call):
                self._call(node, scope)

    def _bind(self, target: ast.AST, value_node: ast.AST, statement: ast.stmt, scope: Scope) -> None:
        if isinstance(target, ast.Name):
            if isinstance(value_node, ast.Name) and self.aliases.get(
                value_node.id, value_node.id
            ) in MODEL_CLASSES | UNSLOTH_CLASSES | set(ARGUMENT_CLASSES) | set(TRAINER_CLASSES):
                scope.bind(target.id, ClassRef(self.aliases.get(value_node.id, value_node.id)))
                return
            value = self.value(value_node, scope)
            scope.bind(target.id, value, origin_of(value_node, scope, self.evaluator) or (self.display, value_node))
            if isinstance(value, DictValue) and isinstance(value_node, ast.Dict):
                self._prompt_completion(value, value_node)
            elif (  # rows = [{...}, ...]
                isinstance(value, list)
                and isinstance(value_node, ast.List)
                and value_node.elts
                and isinstance(value[0], DictValue)
                and isinstance(value_node.elts[0], ast.Dict)
            ):
                self._prompt_completion(value[0], value_node.elts[0])
            self.argument_variables.pop(target.id, None)
            if isinstance(value_node, ast.Call) and id(value_node) in self.argument_facts:
                self.argument_variables[target.id] = id(value_node)
            if isinstance(value_node, ast.Call):
                callee = self.evaluator.callee(value_node.func, scope)
                if callee in TRAINER_CLASSES:
                    self.trainers.add(target.id)
                self._model_variable(target, value_node, statement, scope)
            if isinstance(value, str) and "/" in value and family_of_model_id(value) and scope is self.scope:
                self.add("model_id", value, value_node, target.id)  # MODEL = "google/gemma-3-4b-it"
            return
        if isinstance(target, ast.Tuple) and target.elts and isinstance(value_node, ast.Call):
            first = target.elts[0]  # model, tokenizer = FastModel.from_pretrained(...)
            if isinstance(first, ast.Name):
                self._model_variable(first, value_node, statement, scope)
            # model_args, training_args = parser.parse_args_into_dataclasses(): each takes its item
            items = self.value(value_node, scope)
            spread = isinstance(items, tuple) and len(items) == len(target.elts)
            for index, element in enumerate(target.elts):
                if isinstance(element, ast.Name):
                    scope.bind(element.id, items[index] if spread else Unknown(element.id))
            return
        if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            container = scope.lookup(target.value.id)
            key = self.value(target.slice, scope)
            if isinstance(key, str):
                stored = self.value(value_node, scope)
                if isinstance(stored, RenderedChat) and not stored.stripped:  # example["text"] = rendered
                    self.add(
                        "chat_text_field",
                        f"{target.value.id}[{key!r}] = apply_chat_template(tokenize=False)",
                        statement,
                        key,
                    )
            if isinstance(container, DictValue) and isinstance(key, str):
                container.entries[key] = (self.value(value_node, scope), target, value_node)
            return
        chain = _attribute_chain(target)
        if (
            chain is not None
            and len(chain) == 2
            and chain[0] in self.argument_variables
            and chain[1] in self.argument_facts[self.argument_variables[chain[0]]][1]
        ):
            self._argument_assignment(chain, value_node, statement, scope)
            return
        if (
            chain is not None
            and len(chain) >= 2
            and chain[-1] in ("pad_token", "pad_token_id")
            and isinstance(value_node, ast.Attribute)
            and value_node.attr in ("eos_token", "eos_token_id")
        ):
            self.add("pad_is_eos", f"{'.'.join(chain)} = {text_of(value_node)}", statement, chain[-1])
            return
        if chain is not None and len(chain) >= 2 and chain[-1] == "padding_side":
            self.add("padding_side", self.value(value_node, scope), statement, ".".join(chain))
            return
        if (
            chain is None
            or len(chain) < 3
            or chain[-1] != "use_cache"
            or chain[-2] not in ("config", "text_config")
            or "config" not in chain[1:-1]
        ):
            return
        value = self.value(value_node, scope)
        ref = f"{statement.lineno - self.line_offset}:{statement.col_offset}"
        name = "code_text_use_cache" if chain[-2] == "text_config" else "code_use_cache"
        self.add(name, value, statement, ".".join(chain[1:]), ("python", (f"assign@{ref}",)))

    def _settings_class(self, statement: ast.ClassDef, scope: Scope) -> DataclassRef | None:
        """A dataclass (or a subclass of one, or of TrainingArguments): its fields as HfArgumentParser reads
        them, a field's default its ``= value`` or ``field(default=value)``; None for any other class."""
        bases: list[DataclassRef] = []
        extends = None
        for base in statement.bases:
            bound = self.value(base, scope) if isinstance(base, ast.Name) else None
            if isinstance(bound, DataclassRef):
                bases.append(bound)
                extends = extends or bound.extends
            else:
                name = base.attr if isinstance(base, ast.Attribute) else text_of(base)
                if self.aliases.get(name, name) in ARGUMENT_CLASSES:
                    extends = self.aliases.get(name, name)
        decorated = any(text_of(d).split("(")[0].rsplit(".", 1)[-1] == "dataclass" for d in statement.decorator_list)
        if not (decorated or bases or extends):
            return None
        settings = DataclassRef(statement.name, extends)
        for base_ref in bases:
            settings.fields.update(base_ref.fields)
        body_scope = Scope(scope)
        for item in statement.body:
            if not (isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)):
                continue
            given = item.value
            if isinstance(given, ast.Call) and self.evaluator.callee(given.func, body_scope) == "field":
                # default_factory, or no default (required): built at run time, unknown here
                given = next((k.value for k in given.keywords if k.arg == "default"), None)
            default = self.value(given, body_scope) if given is not None else Unknown(item.target.id)
            located = _Elsewhere(self.display, given) if given is not None else None  # a finding points there
            settings.fields[item.target.id] = (_annotation_kind(item.annotation), default, located)
        return settings

    def _parsed_file(self, call: ast.Call, scope: Scope) -> object:
        """``parser.parse_yaml_file(path)`` / ``parse_json_file(path)`` of an HfArgumentParser, and TrlParser's
        ``parse_args_and_config()`` (its ``--config`` file, the command line over it): the dataclasses filled
        from the file, each value located at its key there. _MISSING for any other call."""
        func = call.func
        if not isinstance(func, ast.Attribute) or func.attr not in _PARSER_FILE_METHODS:
            return _MISSING
        parser = self.value(func.value, scope)
        if not isinstance(parser, DataclassParser):
            return _MISSING
        invocation = None
        if func.attr == "parse_args_and_config":
            self.evaluator.reads_invocation = True
            invocation = self.evaluator.invocation
            named = invocation.last(("--config",)) if invocation is not None else None
        else:
            given = (
                call.args[0] if call.args else next((k.value for k in call.keywords if k.arg in _FILE_KEYWORDS), None)
            )
            named = self.value(given, scope) if given is not None else None
        if invocation is not None and named is ABSENT:
            settings: object = None  # no --config: the command line and the defaults
        elif isinstance(named, str) and self.path is not None:
            settings = settings_file_value(named, self.path, self.display)
            settings = settings if isinstance(settings, DictValue) else Unknown(named)
        else:
            settings = Unknown(ast.unparse(call))
        parsed: list[object] = [ParsedArguments(ref, invocation, settings) for ref in parser.classes]
        if any(k.arg == "return_remaining_strings" for k in call.keywords):
            parsed.append(Unknown(ast.unparse(call)))
        return tuple(parsed)

    def _parsed_argument_facts(self, parsed: ParsedArguments, keyword: ast.keyword) -> None:
        """``Trainer(args=training_args)`` where HfArgumentParser / TrlParser filled them: the training-argument
        facts of what the settings file and the project's dataclass say, each located where it is set. What
        the command line gives reaches the run from its launch line."""
        extends = parsed.ref.extends
        if extends not in ARGUMENT_CLASSES:
            return
        self.add("trainer_flavour", ARGUMENT_CLASSES[extends], keyword.value, extends)
        self.add("training_arguments_call", extends, keyword.value, extends)
        settings = parsed.settings if isinstance(parsed.settings, DictValue) else None
        for key, name in ARGUMENT_KEYS.items():
            declared = parsed.ref.fields.get(key)
            kind = declared[0] if declared else None
            default = declared[1] if declared else None
            if parsed.given(key, kind, default, keyword) is not ABSENT:
                continue
            where: object
            if settings is not None and key in settings.entries:
                value, where, _node = settings.entries[key]
            elif declared is not None and declared[2] is not None and not isinstance(parsed.settings, Unknown):
                value, where = declared[1], declared[2]
            else:
                continue
            if value is not None and is_resolved(value) and isinstance(where, (ast.AST, _Elsewhere)):
                self.add(name, value, where, key)

    def _model_variable(self, target: ast.Name, call: ast.Call, statement: ast.stmt, scope: Scope) -> None:
        if (
            self.evaluator.callee(call.func, scope) == "from_pretrained"
            and self.evaluator.owner(call.func, scope) in MODEL_CLASSES | UNSLOTH_CLASSES
        ):
            # where a fix can add `model.config...use_cache = False`
            ref = f"stmt@{statement.lineno - self.line_offset}:{statement.col_offset}"
            self.add("model_variable", target.id, statement, target.id, ("python", (ref,)))

    def _keywords(self, call: ast.Call, scope: Scope):
        """(name, value, key node, editable) for every keyword, following ``**dict`` values."""
        for keyword in call.keywords:
            if keyword.arg is not None:
                value = self.value(keyword.value, scope)
                origin = origin_of(keyword.value, scope, self.evaluator)
                if origin is not None and origin[0] != self.display:  # set in another module: point there
                    yield keyword.arg, value, _Elsewhere(*origin), origin[1], False
                else:
                    yield keyword.arg, value, keyword, keyword.value, True
                continue
            spread = self.value(keyword.value, scope)
            if isinstance(spread, DictValue):
                where = spread.display if spread.display not in (None, self.display) else None
                for key, (value, key_node, value_node) in spread.entries.items():
                    yield key, value, _Elsewhere(where, key_node) if where else key_node, value_node, False

    def _call(self, call: ast.Call, scope: Scope) -> None:
        if isinstance(call.func, ast.Name) and isinstance(scope.lookup(call.func.id), FunctionRef):
            self._project_call(call, scope)  # its body is read here, with this call's arguments
            return
        name = self.evaluator.callee(call.func, scope)
        if call.args or call.keywords:
            self._chat_tokenized(call, scope)
        if name in ARGUMENT_CLASSES:
            self._training_arguments(call, name, scope)
        elif name in TRAINER_CLASSES:
            self.add("trainer_call", name, call, name)
            self.add("trainer_flavour", TRAINER_CLASSES[name], call, name)
            for keyword in call.keywords:
                if keyword.arg == "args":  # Trainer(args=config.TRAINING_ARGS): the arguments another module built
                    self._imported_arguments(keyword.value, scope)
                    given = self.value(keyword.value, scope)
                    if isinstance(given, ParsedArguments):
                        self._parsed_argument_facts(given, keyword)
                if keyword.arg == "model":  # SFTTrainer(model="google/gemma-3-1b-it")
                    model_id = self.value(keyword.value, scope)
                    if isinstance(model_id, str):
                        self.add("model_id", model_id, keyword.value, "model")
                        self.add("model_load", model_id, keyword.value, "trl-string")
                if keyword.arg == "eval_dataset" and not (
                    isinstance(keyword.value, ast.Constant) and keyword.value.value is None
                ):
                    self.add("eval_dataset", True, keyword, "eval_dataset")
                if keyword.arg == "peft_config" and not (
                    isinstance(keyword.value, ast.Constant) and keyword.value.value is None
                ):
                    self.add("peft", "peft_config", keyword, "peft_config")
                if keyword.arg == "formatting_func" and isinstance(keyword.value, ast.Name):
                    self.formatting_functions.add(keyword.value.id)
        elif name == "from_pretrained" and isinstance(call.func, ast.Attribute):
            self._from_pretrained(call, scope)
        elif name == "BitsAndBytesConfig":
            self._bnb(call, scope)
        elif name in ("pip_install", "uv_pip_install") and isinstance(call.func, ast.Attribute):
            self._image_pins(call, scope)
        elif name in ("evaluate", "predict") and isinstance(call.func, ast.Attribute):
            owner = call.func.value
            owner_name = owner.id if isinstance(owner, ast.Name) else ""
            if owner_name in self.trainers or "trainer" in owner_name.lower():
                self.add("eval_call", f"{owner_name}.{name}()", call, name)
        elif name in ("backward", "step") and isinstance(call.func, ast.Attribute) and self._trains(call.func, name):
            self.add("training_loop", f"{ast.unparse(call.func)}()", call, name)  # a loop of its own: a run
        elif name == "DataCollatorForLanguageModeling":
            mlm = next((k.value for k in call.keywords if k.arg == "mlm"), None)
            module = self.collator_module
            if isinstance(call.func, ast.Attribute):
                module = text_of(call.func.value).split(".")[0]
            if module == "transformers" and mlm is not None and self.value(mlm, scope) is False:
                self.add("lm_collator", name, call, name)
        elif name == "generate" and isinstance(call.func, ast.Attribute):
            for keyword in call.keywords:
                if keyword.arg == "eos_token_id":
                    self.add("generate_eos_token_id", text_of(keyword.value), keyword.value, "eos_token_id")
        elif name == "apply_chat_template" and isinstance(call.func, ast.Attribute):
            tokenize = next((k.value for k in call.keywords if k.arg == "tokenize"), None)
            text = isinstance(tokenize, ast.Constant) and tokenize.value is False
            self.add("chat_rendered", "text" if text else "ids", call, name)
        elif name == "load_dataset":
            self._data_file_rows(call, scope)
        elif name in ("gradient_checkpointing_enable", "activation_checkpointing_enable"):  # renamed in 5.23
            self.add("code_gradient_checkpointing", True, call, name)
            self._checkpointing_kwargs(call, scope)
        elif name == "prepare_model_for_kbit_training":
            self.add("peft_kbit_prepare", True, call, name)
            self.add("peft", name, call, name)
            # It checkpoints a quantized model unless told not to, with the kwargs it is given (peft 0.22.0
            # other.py L165-275: use_gradient_checkpointing=True by default).
            given = next((k for k in call.keywords if k.arg == "use_gradient_checkpointing"), None)
            value = self.value(given.value, scope) if given is not None else True
            self.add("peft_kbit_checkpointing", value, given or call, "use_gradient_checkpointing")
            self._checkpointing_kwargs(call, scope)
        elif name in ("get_peft_model", "LoraConfig"):
            self.add("peft", name, call, name)
            # verify wraps its tiny model with the same adapter: LoraConfig(r=...), or Unsloth's
            # FastModel.get_peft_model(model, r=...), which takes the LoraConfig arguments itself
            if name == "LoraConfig" or call.keywords:
                for keyword, value, key_node, _value_node, _direct in self._keywords(call, scope):
                    if keyword in LORA_KEYS and value is not None:
                        self.add("lora_setting", value, key_node, keyword)
        elif name == "add_argument" and isinstance(call.func, ast.Attribute):
            parser = self.value(call.func.value, scope)
            if isinstance(parser, ArgumentParser):
                self._argument(parser, call, scope)

    # --- chat data ------------------------------------------------------------------------
    def _chat_tokenized(self, call: ast.Call, scope: Scope) -> None:
        """``tokenizer(text)`` / ``tokenizer.encode(text)`` of a chat rendered with ``tokenize=False``: the
        tokenizer adds its ``<bos>`` before the template's unless ``add_special_tokens=False``; a text
        stripped of ``<bos>`` and tokenized without special tokens has none."""
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in ("encode", "encode_plus", "batch_encode_plus", "__call__"):
            target = func.value
        elif isinstance(func, (ast.Name, ast.Attribute)):
            target = func
        else:
            return
        last = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if "tok" not in last.lower():  # a tokenizer by its name: tokenizer, tok, self.tokenizer
            return
        argument = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "text"), None)
        if argument is None or type(argument) not in (ast.Name, ast.Subscript, ast.Attribute, ast.Call, ast.BinOp):
            return
        if type(argument) is ast.Call and self.evaluator.callee(argument.func, scope) not in (
            "apply_chat_template",
            *_STRIP_CALLS,
        ):
            return  # another call is not re-evaluated here (a project function would be read twice)
        text = self.value(argument, scope)
        if not isinstance(text, RenderedChat):
            return
        special = next((k.value for k in call.keywords if k.arg == "add_special_tokens"), None)
        adds = True if special is None else self.value(special, scope)
        shown = text_of(argument)
        shown = shown if len(shown) <= 40 else "apply_chat_template(..., tokenize=False)"
        said = f"{text_of(func)}({shown})"
        if adds is True and not text.stripped:
            self.add("chat_tokenized_with_bos", said, call, text_of(func))
        elif adds is False and text.stripped:
            self.add("chat_tokenized_without_bos", said, call, "add_special_tokens")
        elif adds is True or adds is False:  # one <bos>: the template's, or the tokenizer's
            self.add("chat_tokenized_once", "stripped" if text.stripped else "no-special-tokens", call, text_of(func))

    def _rendered_return(self, returned: object, statement: ast.Return) -> None:
        """A function that returns rendered chat text: as a dataset row (``{"text": rendered}``, which TRL
        then tokenizes), or bare (a formatting_func, known once the trainer call is read)."""
        if isinstance(returned, RenderedChat) and not returned.stripped and self.function_names:
            self.rendered_returns.append((self.function_names[-1], (statement, self.cell, self.line_offset)))
        elif isinstance(returned, DictValue):
            for key, (value, key_node, _value_node) in returned.entries.items():
                if isinstance(value, RenderedChat) and not value.stripped:
                    self.add("chat_text_field", f"{{{key!r}: apply_chat_template(tokenize=False)}}", key_node, key)
            self._prompt_completion(returned, statement)

    def _prompt_completion(self, row: DictValue, node: ast.AST) -> None:
        """A conversational prompt-completion row: "prompt" and "completion" whose prompt is a list of messages."""
        if "prompt" in row.entries and "completion" in row.entries:
            _value, key_node, value_node = row.entries["prompt"]
            if isinstance(value_node, (ast.List, ast.ListComp)):
                self.add("prompt_completion_rows", "a row of prompt and completion messages", key_node, "prompt")

    def _data_file_rows(self, call: ast.Call, scope: Scope) -> None:
        """``load_dataset("json", data_files="train.jsonl")`` of a file of the project: its first row."""
        if self.path is None or not call.args or self.value(call.args[0], scope) not in ("json", "csv", "parquet"):
            return
        files = next((k.value for k in call.keywords if k.arg == "data_files"), None)
        name = self.value(files, scope) if files is not None else None
        if isinstance(name, dict):
            name = next(iter(name.values()), None)
        if isinstance(name, list) and name:
            name = name[0]
        if not isinstance(name, str):
            return
        found = find_data_file(name, self.path)
        if found is None:
            return
        self.add("data_file", str(found), call, "data_files")
        row = first_data_row(found)
        if isinstance(row, dict) and isinstance(row.get("prompt"), list) and "completion" in row:
            self.add("prompt_completion_rows", f"{name}: rows of prompt and completion messages", call, "data_files")

    def _eos_appended(self, node: ast.AST, added: ast.AST) -> None:
        if type(added) is ast.Attribute and added.attr == "eos_token":  # text + tokenizer.eos_token, f"{...eos_token}"
            self.add("eos_appended", text_of(node), node)

    def _turn_token(self, constant: ast.Constant) -> None:
        for token in ("<end_of_turn>", "<start_of_turn>"):
            if token in str(constant.value):
                self.add("turn_token_literal", token, constant, token)
                return

    @staticmethod
    def _trains(func: ast.Attribute, name: str) -> bool:
        """``loss.backward()`` or ``optimizer.step()`` / ``accelerator.backward(loss)``: a training loop."""
        owner = func.value.id if isinstance(func.value, ast.Name) else getattr(func.value, "attr", "")
        owner = owner.lower()
        if name == "backward":
            return "loss" in owner or owner in ("accelerator", "scaler")
        return "optim" in owner

    def _argument(self, parser: ArgumentParser, call: ast.Call, scope: Scope) -> None:
        flags = [arg.value for arg in call.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
        dest = next(
            (
                str(k.value.value)
                for k in call.keywords
                if k.arg == "dest" and isinstance(k.value, ast.Constant) and isinstance(k.value.value, str)
            ),
            None,
        )
        if dest is None and flags:
            long_flags = [flag for flag in flags if flag.startswith("--")] or flags
            dest = long_flags[0].lstrip("-").replace("-", "_")
        if not dest:
            return
        action = next(
            (k.value.value for k in call.keywords if k.arg == "action" and isinstance(k.value, ast.Constant)), None
        )
        kind = next((k.value for k in call.keywords if k.arg == "type"), None)
        type_name = kind.id if isinstance(kind, ast.Name) and kind.id in ("bool", "int", "float", "str") else None
        if kind is None and action is None:
            type_name = "str"  # argparse keeps the word as it is given
        parser.arguments[dest] = (tuple(flags), action if isinstance(action, str) else None, type_name)
        default_node = next((k.value for k in call.keywords if k.arg == "default"), None)
        if default_node is not None:
            parser.defaults[dest] = self.value(default_node, scope)
        elif action == "store_true":
            parser.defaults[dest] = False
        elif action == "store_false":
            parser.defaults[dest] = True
        else:
            parser.defaults[dest] = None

    def _argument_assignment(self, chain: list[str], value_node: ast.AST, statement: ast.stmt, scope: Scope) -> None:
        """``args.fp16 = True`` on a variable bound to a TrainingArguments call: the later value is the one
        the run reads, so it replaces what the call said (the fact moves to this line; no edit is offered)."""
        ref = self.argument_variables[chain[0]]
        owned, keys = self.argument_facts[ref]
        name = keys[chain[1]]
        replaced = [fact for fact in owned if fact.name == name]
        self.result.facts[:] = [fact for fact in self.result.facts if not any(fact is old for old in replaced)]
        owned[:] = [fact for fact in owned if fact.name != name]
        value = self.value(value_node, scope)
        if value is None:
            return
        self.add(name, value, statement, chain[1])
        owned.append(self.result.facts[-1])

    def _training_arguments(self, call: ast.Call, class_name: str, scope: Scope) -> None:
        first = len(self.result.facts)
        self._training_argument_facts(call, class_name, scope)
        self.argument_facts[id(call)] = (self.result.facts[first:], ARGUMENT_KEYS)

    def _training_argument_facts(self, call: ast.Call, class_name: str, scope: Scope) -> None:
        self.add("trainer_flavour", ARGUMENT_CLASSES[class_name], call, class_name)
        self.add("training_arguments_call", class_name, call, class_name)
        ref = self.call_ref(call)
        swift = ARGUMENT_CLASSES[class_name] == "swift"
        keys = SWIFT_KEYS if swift else ARGUMENT_KEYS
        for keyword, value, key_node, _value_node, direct in self._keywords(call, scope):
            name = keys.get(keyword)
            if swift and name is not None and name.startswith("swift_"):
                meant = swift_setting(name, value)
                if meant is not None:
                    self.add(meant[0], meant[1], key_node, keyword)
                continue
            if name is None:
                if keyword == "model_init_kwargs" and isinstance(value, DictValue):
                    self._model_kwargs(value)
                elif keyword in CHECKPOINTING_KWARGS:
                    self._reentrant(value)
                continue
            if value is None:
                continue
            edit = ("python", (ref, keyword)) if direct else None
            self.add(name, value, key_node, keyword, edit)

    def _checkpointing_kwargs(self, call: ast.Call, scope: Scope) -> None:
        """``gradient_checkpointing_kwargs={"use_reentrant": ...}`` (or ``activation_checkpointing_kwargs``)
        passed where checkpointing is turned on in code."""
        for keyword in call.keywords:
            if keyword.arg in CHECKPOINTING_KWARGS:
                self._reentrant(self.value(keyword.value, scope))

    def _reentrant(self, kwargs) -> None:
        """The ``use_reentrant`` of a checkpointing kwargs dict, located at its key."""
        if isinstance(kwargs, DictValue) and "use_reentrant" in kwargs.entries:
            reentrant, reentrant_key, _node = kwargs.entries["use_reentrant"]
            self.add("use_reentrant", reentrant, reentrant_key, "use_reentrant")

    def _model_kwargs(self, kwargs: DictValue) -> None:
        for key in ("torch_dtype", "dtype", "attn_implementation"):
            if key in kwargs.entries:
                value, key_node, _value_node = kwargs.entries[key]
                if value is not None:
                    self.add(ARGUMENT_KEYS[key], value, key_node, key)

    def _from_pretrained(self, call: ast.Call, scope: Scope) -> None:
        owner = self.evaluator.owner(call.func, scope)
        if owner == "PeftModel":  # PeftModel.from_pretrained(model, "outputs/adapter"): its adapter_config.json
            given = (
                call.args[1]
                if len(call.args) > 1
                else next((k.value for k in call.keywords if k.arg == "model_id"), None)
            )
            folder = self.value(given, scope) if given is not None else None
            if isinstance(folder, str) and given is not None:
                self.add("adapter_load", folder, given, "model_id")
            return
        if owner and owner.endswith(("Processor", "Tokenizer", "TokenizerFast")):
            if owner.endswith("Processor"):  # AutoProcessor: TRL then uses its vision collator
                self.add("processor_loaded", owner, call, owner)
            for keyword, value, key_node, _value_node, _direct in self._keywords(call, scope):
                if keyword == "padding_side":
                    self.add("padding_side", value, key_node, keyword)
            return
        if owner not in MODEL_CLASSES and owner not in UNSLOTH_CLASSES:
            return
        ref = self.call_ref(call)
        self.add("model_class", owner, call, owner)
        if owner in UNSLOTH_CLASSES:
            self.add("unsloth_loader", owner, call, owner)
        model_id = self.value(call.args[0], scope) if call.args else None
        has_dtype = False
        for keyword, value, key_node, _value_node, direct in self._keywords(call, scope):
            if (keyword == "model_name" and owner in UNSLOTH_CLASSES) or keyword == "pretrained_model_name_or_path":
                model_id = value
            elif keyword in ("torch_dtype", "dtype"):
                has_dtype = True
                if value is not None:
                    self.add("load_dtype", value, key_node, keyword, ("python", (ref, keyword)) if direct else None)
            elif keyword in ("attn_implementation", "load_in_4bit", "load_in_8bit", "use_cache"):
                name = "code_use_cache" if keyword == "use_cache" else ARGUMENT_KEYS[keyword]
                self.add(name, value, key_node, keyword, ("python", (ref, keyword)) if direct else None)
            elif keyword == "full_finetuning" and owner in UNSLOTH_CLASSES:
                self.add("unsloth_full_finetuning", value, key_node, keyword)
        if isinstance(model_id, str):
            self.add("model_id", model_id, call.args[0] if call.args else call, "model_id")
            self.add("model_load", model_id, call, owner)
        elif model_id is not None:
            self.add("model_load", model_id, call, owner)
        if owner in MODEL_CLASSES and not has_dtype:
            self.add("plain_from_pretrained", owner, call, owner)

    def _image_pins(self, call: ast.Call, scope: Scope) -> None:
        """A container image the code builds and runs in (Modal's ``Image....pip_install("transformers==4.35.0",
        ...)``): its pins are the versions the run really gets, whatever the local requirements say."""
        for node in call.args:
            items = node.elts if isinstance(node, (ast.List, ast.Tuple)) else [node]
            for item in items:
                text = self.value(item, scope)
                parsed = parse_requirement(text) if isinstance(text, str) else None
                if parsed is not None and parsed[0] in _TRACKED_SET:
                    location = self.location(item, parsed[0])
                    self.result.versions.append(_fact(parsed[0], parsed[1], location, "image"))

    def _bnb(self, call: ast.Call, scope: Scope) -> None:
        ref = self.call_ref(call)
        first = len(self.result.facts)
        self._bnb_facts(call, scope, ref)
        self.argument_facts[id(call)] = (self.result.facts[first:], _BNB_KEYS)

    def _bnb_facts(self, call: ast.Call, scope: Scope, ref: str) -> None:
        for keyword, value, key_node, _value_node, direct in self._keywords(call, scope):
            if keyword == "bnb_4bit_compute_dtype":
                if value is not None:
                    self.add(
                        "bnb_compute_dtype", value, key_node, keyword, ("python", (ref, keyword)) if direct else None
                    )
            elif keyword in ("load_in_4bit", "load_in_8bit"):
                self.add(keyword, value, key_node, keyword)


# BitsAndBytesConfig attributes a script may set after construction -> fact names.
_BNB_KEYS = {
    "bnb_4bit_compute_dtype": "bnb_compute_dtype",
    "load_in_4bit": "load_in_4bit",
    "load_in_8bit": "load_in_8bit",
}


def _stops(body: list[ast.stmt]) -> bool:
    """Does this block end the program: a ``raise``, or ``sys.exit()`` / ``exit()`` / ``quit()``?"""
    last = body[-1] if body else None
    if isinstance(last, ast.Raise):
        return True
    if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call):
        func = last.value.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        return name in ("exit", "quit", "_exit")
    return False


def _annotation_kind(annotation: ast.AST) -> str | None:
    """The type ("bool", "int", "float" or "str") of a field annotated so (``Optional[bool]`` and ``bool | None``
    too), else None: HfArgumentParser converts a command-line word by the field's type."""
    text = text_of(annotation).replace(" ", "").strip("'\"")
    for prefix, suffix in (("Optional[", "]"), ("typing.Optional[", "]")):
        if text.startswith(prefix) and text.endswith(suffix):
            text = text[len(prefix) : -len(suffix)]
    parts = [part for part in text.split("|") if part != "None"]
    return parts[0] if len(parts) == 1 and parts[0] in ("bool", "int", "float", "str") else None


class _Elsewhere:
    """Where a value was set in another module of the project: a finding about it points there."""

    __slots__ = ("col_offset", "display", "lineno")

    def __init__(self, display: str, node: ast.AST) -> None:
        self.display = display
        self.lineno, self.col_offset = getattr(node, "lineno", 1), getattr(node, "col_offset", 0)

    @classmethod
    def at(cls, location: Location) -> _Elsewhere:
        """A key of a settings file the code loads."""
        here = cls.__new__(cls)
        here.display, here.lineno, here.col_offset = location.path or "", location.line or 1, (location.column or 1) - 1
        return here


class OpenedFile:
    """A file ``open(...)`` names: what ``json.load`` / ``yaml.safe_load`` of it reads."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path


# (module, function) that parse a settings file from an open handle.
_PARSER_FILE_METHODS = ("parse_yaml_file", "parse_json_file", "parse_args_and_config")
_FILE_KEYWORDS = ("yaml_file", "json_file")
_LOADERS = {("json", "load"), ("yaml", "safe_load"), ("yaml", "load"), ("yaml", "full_load")}
_MAX_SETTINGS_BYTES = 1_000_000
_SEARCH_UP = 3  # a relative path is opened from the script's folder or, run from the project root, above it


def settings_file_value(name: str, script: Path, script_display: str):
    """The values of the settings file ``name`` that ``script`` opens: a relative name is looked up beside
    the script, then in up to three folders above it (where a project is usually run from). Dicts become
    DictValues whose keys point into the file; None when no such file is readable."""
    import os
    import posixpath

    from gemma_doctor.sources.document import parse_document

    relative = Path(name)
    bases = [Path("/")] if relative.is_absolute() else [script.parent, *list(script.parents)[1 : _SEARCH_UP + 1]]
    for base in bases:
        candidate = base / relative
        try:
            if not candidate.is_file() or candidate.stat().st_size > _MAX_SETTINGS_BYTES:
                continue
        except OSError:
            continue
        if candidate.suffix.lower() not in (".json", ".yaml", ".yml"):
            return None
        display = posixpath.normpath(
            posixpath.join(
                posixpath.dirname(script_display), os.path.relpath(candidate, script.parent).replace(os.sep, "/")
            )
        )
        try:
            document = parse_document(candidate, display)
        except (InputError, OSError, RecursionError):
            return None
        return _as_values(document, document.value, ())
    return None


def find_data_file(name: str, script: Path) -> Path | None:
    """A local dataset file the script names, looked up as a settings file is (beside it, then above)."""
    relative = Path(name)
    bases = [Path("/")] if relative.is_absolute() else [script.parent, *list(script.parents)[1 : _SEARCH_UP + 1]]
    for base in bases:
        candidate = base / relative
        if candidate.is_file():
            return candidate
    return None


def first_data_row(path: Path) -> object:
    """The first row of a local .jsonl / .json dataset; None when unreadable or of another format. Only the
    first 64 KB are read: a dataset can be gigabytes."""
    import json

    if path.suffix.lower() not in (".json", ".jsonl"):
        return None
    try:
        with open(path, "rb") as handle:
            head = handle.read(65536).decode("utf-8", errors="replace")
    except OSError:
        return None
    if path.suffix.lower() == ".jsonl":
        try:
            return json.loads(head.split("\n", 1)[0].strip())
        except ValueError:
            return None
    try:
        value = json.loads(head)  # a small .json list of rows
    except ValueError:
        return None
    return value[0] if isinstance(value, list) and value else None


def _as_values(document, value, key_path: tuple):
    if isinstance(value, dict):
        result = DictValue(document.display)
        for key, item in value.items():
            if isinstance(key, str):
                where = _Elsewhere.at(document.location((*key_path, key)))
                # located like an AST node (lineno, col_offset): what the entries' nodes are used for
                result.entries[key] = (_as_values(document, item, (*key_path, key)), where, where)  # type: ignore[assignment]
        return result
    if isinstance(value, list):
        return [_as_values(document, item, (*key_path, index)) for index, item in enumerate(value)]
    return value


# How deep calls to the project's own functions are followed, one inside another, and how many bodies one
# file may read at call sites in all (a file whose calls fan out at every level would otherwise read millions).
_MAX_CALL_DEPTH = 6
_MAX_FUNCTION_READINGS = 2_000


def _choose(t, b, o):
    return b if t else o


class _Frame:
    """What one reading of a function returns. An ``if`` that cannot be decided statically keeps both
    sides: ``if cap < 8: return fp16`` then ``return bf16`` is one value per kind of GPU."""

    __slots__ = ("pending", "returned", "returns")

    def __init__(self) -> None:
        self.returns: list[object] = []
        self.returned = False  # the statements read so far always return
        self.pending: list[tuple[ast.AST, object, object, bool]] = []  # (test node, test, value, on the true side)

    def branch(self, node: ast.AST, test: object, start: int, middle: int, body_returned: bool) -> None:
        body, other = self.returns[start:middle], self.returns[middle:]
        else_returned = self.returned
        if body_returned and else_returned and len(body) == 1 and len(other) == 1:
            del self.returns[start:]
            self.returns.append(combine(node, _choose, test, body[0], other[0]))
            self.returned = True
        elif body_returned != else_returned and len(body) + len(other) == 1:
            del self.returns[start:]  # one side returns here, the other goes on to what follows
            self.pending.append((node, test, (body or other)[0], body_returned))
            self.returned = False
        else:
            self.returned = body_returned and else_returned

    def value(self) -> object:
        distinct: list[object] = []
        for value in self.returns:
            if not any(value is seen or (type(value) is type(seen) and value == seen) for seen in distinct):
                distinct.append(value)
        if len(distinct) > 1:
            return Unknown("a function that returns several values")
        result = distinct[0] if distinct else None
        for node, test, value, on_true in reversed(self.pending):
            result = (
                combine(node, _choose, test, value, result) if on_true else combine(node, _choose, test, result, value)
            )
        return result


# The LoraConfig arguments that change what trains; verify passes them to its own LoraConfig.
LORA_KEYS = (
    "r",
    "lora_alpha",
    "lora_dropout",
    "target_modules",
    "target_parameters",
    "bias",
    "use_rslora",
    "use_dora",
    "modules_to_save",
    "ensure_weight_tying",
)
_STRIP_CALLS = ("removeprefix", "replace", "lstrip", "strip")
# What a project module does to the data, which the run importing it does too (GD801-GD805).
DATA_FACTS = frozenset(
    {
        "chat_rendered",
        "chat_tokenized_with_bos",
        "chat_tokenized_without_bos",
        "chat_tokenized_once",
        "chat_text_field",
        "pad_is_eos",
        "eos_appended",
        "lm_collator",
        "prompt_completion_rows",
        "data_file",
        "turn_token_literal",
        "generate_eos_token_id",
    }
)


def _is_main_guard(test: ast.AST) -> bool:
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.comparators) == 1
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


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
    ranges: dict[int, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and node.end_lineno is not None:
            start = node.lineno - offset
            ranges[start] = max(ranges.get(start, start), node.end_lineno - offset)
    return ranges


def parse(text: str, display: str, what: str = "") -> ast.Module:
    """Parse, or raise InputError naming what could not be read (see python_recovery)."""
    tree, skipped = parse_recovering(text, display, what)
    if tree is None:
        raise InputError(skipped[0] if skipped else f"{what}cannot parse")
    return tree


# A script that mentions none of these cannot hold a fact we read: skip parsing it.
_RELEVANT = (
    "Arguments",
    "Config",
    "from_pretrained",
    "Trainer",
    "use_cache",
    "gradient_checkpointing",
    "activation_checkpointing",
    "unsloth",
    "prepare_model_for_kbit_training",
    "padding_side",
    "peft",
    "gemma",
    "Gemma",
    "evaluate",
    "predict",
    "gemma-doctor",
    "apply_chat_template",
    "DataCollator",
)


# Python's parser costs ~10 us and ~2 KB a statement, so the 4 MB read cap alone lets a generated file of
# `x = 1` lines take 20 s and 1.5 GB (fuzz N14). A training script has a few thousand statements; past this
# many (lines and semicolons, counted without parsing) the file is one line of ours instead.
MAX_PYTHON_STATEMENTS = 50_000


def too_long(text: str) -> None:
    statements = text.count("\n") + text.count(";")
    if statements > MAX_PYTHON_STATEMENTS:
        raise InputError(
            f"Python file too long to be a training script (about {statements:,} statements; "
            f"the limit is {MAX_PYTHON_STATEMENTS:,})"
        )


def _shell_lines(text: str) -> tuple[str, list[tuple[int, str]]]:
    """A Colab ``.py`` export keeps its ``!pip install`` and ``%magic`` lines: they are blanked (line numbers
    kept) and returned, as a notebook cell's are, so the Python around them is read whole."""
    if not (text.startswith(("!", "%")) or "\n!" in text or "\n%" in text or "  !" in text):
        return text, []
    from gemma_doctor.notebookcells import python_lines

    code, shell = python_lines("\n" + text)  # a leading blank line: a `%%` first line is not a cell magic here
    return code[1:], [(number - 1, line) for number, line in shell]


def reexport_of(path: Path, name: str) -> Path | None:
    """The project file that defines the function ``name`` which the module at ``path`` imports
    (``from pkg.train import main`` in ``pkg/__init__.py``), or None. For a console script that names the
    package: a module of imports only holds no word ``load`` reads files for, so it is read here."""
    try:
        tree, _skipped = parse_recovering(read_text(path), str(path))
    except InputError:
        return None
    if tree is None:
        return None
    analyzer = Analyzer(str(path), path)
    analyzer.run(tree)
    return analyzer.reexports.get(name)


def load(path: Path, display: str, invocation: Invocation | None = None) -> SourceResult:
    """The file's facts; ``invocation``: how a launch line runs it, when it is read for that line's run."""
    from gemma_doctor.suppressions import python_comment_columns, scan_hash_comments

    text = read_text(path)
    if not any(word in text for word in _RELEVANT):
        return SourceResult(kind="python")
    too_long(text)
    text, shell = _shell_lines(text)
    tree, skipped = parse_recovering(text, display)
    if tree is None:
        raise InputError(skipped[0] if skipped else "cannot parse")
    analyzer = Analyzer(display, path, invocation=invocation)
    if shell:  # a Colab export's `!pip install ...` lines: its own pins, as a notebook's are
        for number, line in shell:
            for package, spec, column in pip_pins(line):
                analyzer.result.versions.append(
                    _fact(package, spec, Location(display, number, column, package), "notebook")
                )
    analyzer.turn_tokens = "<end_of_turn>" in text or "<start_of_turn>" in text
    analyzer.run(tree)
    analyzer.finish()
    if skipped:
        analyzer.result.skipped = "; ".join(skipped)
    if "gemma-doctor" in text:  # statement ranges cost a walk: only for files with suppression comments
        analyzer.result.suppressions = scan_hash_comments(
            text, display, None, statement_ranges(tree), python_comment_columns(text)
        )
    return analyzer.result
