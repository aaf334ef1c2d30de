"""A small evaluator for the expressions training scripts use to pick their settings.

It never runs user code. It folds literals, names bound in the script (flow by flow,
statement by statement), ``not``/``and``/``or``, comparisons, conditional expressions,
``dict(...)``/``{...}`` literals and their subscripts, argparse ``add_argument(default=...)``,
``os.environ.get(key, default)`` and the GPU idioms:

- ``torch.cuda.is_available()``: True on the GPU a training run targets;
- ``torch.cuda.is_bf16_supported()`` and transformers' ``is_torch_bf16_gpu_available()``:
  True on every GPU with recent torch, which counts emulation (docs/evidence/README.md, docs/evidence/audit.md);
- Unsloth's ``is_bfloat16_supported()``: compute capability >= 8.0 (docs/evidence/README.md);
- ``torch.cuda.get_device_capability()``: (8, 0) on a bf16 GPU, (7, 5) on a T4.

A GPU-dependent result is a ``MachineValue`` (one value per kind of GPU); anything else it
cannot resolve is ``Unknown``, never False.
"""

from __future__ import annotations

import ast
import operator
import posixpath
from collections.abc import Callable

from gemma_doctor.facts import MachineValue, Unknown

# name of the GPU probe -> (value on compute capability >= 8.0, value on a T4/V100)
MACHINE_CALLS: dict[str, tuple[object, object]] = {
    "is_bfloat16_supported": (True, False),
    "is_bf16_supported": (True, True),
    "is_torch_bf16_gpu_available": (True, True),
    "is_available": (True, True),
    "get_device_capability": ((8, 0), (7, 5)),
}
_DTYPE_ATTRS = {
    "float16": "float16",
    "bfloat16": "bfloat16",
    "float32": "float32",
    "half": "float16",
    "float": "float32",
    "bfloat": "bfloat16",
}
_COMPARE = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}


class ClassRef:
    """A name bound to a class (``model_class = AutoModelForCausalLM``)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class DictValue:
    """A dict literal or ``dict(...)`` call: key -> (value, key node, value node), built in the file
    ``display`` (another module of the project, when it was imported)."""

    __slots__ = ("display", "entries")

    def __init__(self, display: str | None = None) -> None:
        self.entries: dict[str, tuple[object, ast.AST, ast.AST]] = {}
        self.display = display


class ModuleValue:
    """A module of the project, imported (``import config``): its names as its own reading left them."""

    __slots__ = ("display", "scope")

    def __init__(self, scope: Scope, display: str) -> None:
        self.scope, self.display = scope, display


class FunctionRef:
    """A function of the project: where it is defined, and the reader that can evaluate a call to it."""

    __slots__ = ("node", "reader", "scope")

    def __init__(self, node: ast.AST, scope: Scope, reader) -> None:
        self.node, self.scope, self.reader = node, scope, reader


class RenderedChat:
    """What ``apply_chat_template(..., tokenize=False)`` returns: text that begins with the template's
    ``<bos>`` (every stock Gemma template writes one), unless the code strips it (``stripped``)."""

    __slots__ = ("node", "owner", "stripped")

    def __init__(self, node: ast.AST, owner: str, stripped: bool = False) -> None:
        self.node, self.owner, self.stripped = node, owner, stripped


# str methods that take a leading "<bos>" off
_STRIPS = ("removeprefix", "replace", "lstrip", "strip")


class ArgumentParser:
    """``argparse.ArgumentParser()``: the arguments added to it, by dest."""

    __slots__ = ("arguments", "defaults")

    def __init__(self) -> None:
        self.defaults: dict[str, object] = {}
        self.arguments: dict[str, tuple[tuple[str, ...], str | None, str | None]] = {}  # dest -> (flags, action, type)


class Namespace:
    """What ``parser.parse_args()`` returns: an argument the command line gives, else its default."""

    __slots__ = ("invocation", "parser")

    def __init__(self, parser: ArgumentParser, invocation: Invocation | None) -> None:
        self.parser, self.invocation = parser, invocation

    def attribute(self, name: str, node: ast.AST) -> object:
        if self.invocation is not None and name in self.parser.arguments:
            flags, action, kind = self.parser.arguments[name]
            given = self.invocation.last(flags)
            if given is not ABSENT:
                if action in ("store_true", "store_false"):
                    return action == "store_true"
                return command_line_value(given, kind, node, argparse_bool=True)
        return self.parser.defaults.get(name, unknown(node))


ABSENT = object()  # a flag the command line does not pass, a variable the shell does not export


class Invocation:
    """How a launch line runs the script: the words it passes (its ``sys.argv[1:]``), read as argparse reads
    them, the last ``--name value`` or ``--name=value`` winning, and the variables the shell script exports
    before it (``export MODEL=...``, ``MODEL=... python train.py``). A word the shell expands (``$LR``,
    ``"$@"``) is unknown, and so is a variable set to one (None): what they hold is not in the files."""

    __slots__ = ("environment", "words")

    def __init__(self, words: list[str] | tuple[str, ...], environment: dict[str, str | None] | None = None) -> None:
        self.words = tuple(words)
        self.environment = dict(environment or {})

    @property
    def key(self) -> tuple:
        return self.words, tuple(sorted(self.environment.items(), key=lambda item: item[0]))

    def last(self, flags: tuple[str, ...]) -> object:
        """The value the last of ``flags`` is given (None for a flag with no value), or ABSENT."""
        found: object = ABSENT
        for index, word in enumerate(self.words):
            name, equals, value = word.partition("=")
            if name not in flags:
                continue
            if equals:
                found = value
            elif index + 1 < len(self.words) and _is_value(self.words[index + 1]):
                found = self.words[index + 1]
            else:
                found = None
        return found

    def position(self, flags: tuple[str, ...]) -> int:
        """Where the last of ``flags`` is (-1 where none is)."""
        return max((i for i, word in enumerate(self.words) if word.partition("=")[0] in flags), default=-1)


def _is_value(word: str) -> bool:
    return not word.startswith("-") or word[1:2].isdigit() or word[1:2] == "."  # --max_steps -1


def _textual(node: ast.BinOp) -> bool:
    """Is either operand of this ``+`` or ``/`` text written in the code (a string, an f-string, ``Path(...)``,
    ``str(...)``), or such an operation? Two names alone are not followed: most are numbers."""
    for side in (node.left, node.right):
        if (isinstance(side, ast.Constant) and isinstance(side.value, str)) or isinstance(side, ast.JoinedStr):
            return True
        if isinstance(side, ast.BinOp) and isinstance(side.op, (ast.Add, ast.Div)) and _textual(side):
            return True
        if isinstance(side, ast.Call) and isinstance(side.func, ast.Name) and side.func.id in ("Path", "str"):
            return True
    return False


def _concatenated(left: object, right: object) -> object:
    if isinstance(left, str) and isinstance(right, str):
        return left + right
    raise TypeError("not text")  # numbers and the rest: combine() makes it unknown


def _text_only(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("not text")
    return value


def _formatted(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise TypeError("not formatted here")  # an object's __format__ is not known here
    return str(value)


def _is_os_path(func: ast.AST) -> bool:
    """``os.path.join`` / ``path.join`` (``from os import path``) / ``posixpath.join``."""
    if not isinstance(func, ast.Attribute):
        return False
    owner = func.value
    return (isinstance(owner, ast.Attribute) and owner.attr == "path") or (
        isinstance(owner, ast.Name) and owner.id in ("path", "posixpath", "osp")
    )


_STR_METHODS = ("endswith", "startswith", "lower", "upper", "strip")
_TRUE_WORDS, _FALSE_WORDS = ("true", "yes", "t", "y", "1"), ("false", "no", "f", "n", "0")


def command_line_value(given: object, kind: str | None, node: ast.AST, argparse_bool: bool = False) -> object:
    """A command-line word as the parser converts it to ``kind`` ("bool", "int", "float", "str", or None
    for a type the checker does not know). HfArgumentParser reads a bool field with ``string_to_bool``;
    argparse's ``type=bool`` is ``bool(word)``, True for any word but the empty one."""
    if given is None:
        return True if kind == "bool" and not argparse_bool else unknown(node)
    if not isinstance(given, str) or "$" in given or "`" in given:
        return unknown(node)
    if kind == "bool":
        if argparse_bool:
            return bool(given)
        lowered = given.lower()
        return True if lowered in _TRUE_WORDS else False if lowered in _FALSE_WORDS else unknown(node)
    if kind in ("int", "float"):
        try:
            return int(given) if kind == "int" else float(given)
        except ValueError:
            return unknown(node)
    return given if kind == "str" else unknown(node)


class DataclassRef:
    """A settings dataclass of the project (``@dataclass class ModelArguments``, or a subclass of
    TrainingArguments), as HfArgumentParser reads it: each field's type and default, its bases' first.
    ``extends`` is the transformers / TRL arguments class it derives from, if any."""

    __slots__ = ("extends", "fields", "name")

    def __init__(self, name: str, extends: str | None = None) -> None:
        self.name, self.extends = name, extends
        # name -> (type, default, where it is set: a location in the file that defines the class)
        self.fields: dict[str, tuple[str | None, object, object]] = {}


# The defaults of transformers' TrainingArguments that a subclass inherits and a script branches on:
# fp16 and bf16 are False in every release (4.50.0 and 5.25.0 training_args.py, `field(default=False)`).
TRANSFORMERS_ARGUMENT_DEFAULTS: dict[str, tuple[str, object]] = {"fp16": ("bool", False), "bf16": ("bool", False)}
TRANSFORMERS_ARGUMENT_CLASSES = ("TrainingArguments", "Seq2SeqTrainingArguments")


class ParsedArguments:
    """One dataclass that HfArgumentParser / TrlParser fills: a field the command line gives (``--fp16 true``),
    else the one the settings file gives (``parse_yaml_file``, TRL's ``--config``), else the field's default.
    A bool field defaulting to True also takes ``--no_<name>``; a field with underscores also answers to its
    dashed name. ``settings``: the file's DictValue, None for no file, Unknown for a file not found."""

    __slots__ = ("invocation", "ref", "settings")

    def __init__(self, ref: DataclassRef, invocation: Invocation | None, settings: object = None) -> None:
        self.ref, self.invocation, self.settings = ref, invocation, settings

    def attribute(self, name: str, node: ast.AST) -> object:
        declared = self.ref.fields.get(name)
        inherited = (
            TRANSFORMERS_ARGUMENT_DEFAULTS.get(name) if self.ref.extends in TRANSFORMERS_ARGUMENT_CLASSES else None
        )
        kind, default = (declared[0], declared[1]) if declared else inherited or (None, unknown(node))
        given = self.given(name, kind, default, node)
        if given is not ABSENT:
            return given
        if isinstance(self.settings, Unknown):
            return unknown(node)
        if isinstance(self.settings, DictValue) and name in self.settings.entries:
            return self.settings.entries[name][0]
        return default

    def given(self, name: str, kind: str | None, default: object, node: ast.AST) -> object:
        """What the command line gives the field ``name``, or ABSENT."""
        if self.invocation is None:
            return ABSENT
        flags = (f"--{name}", f"--{name.replace('_', '-')}")
        negated = self.invocation.position((f"--no_{name}", f"--no-{name.replace('_', '-')}"))
        if kind == "bool" and default is True and negated > self.invocation.position(flags):
            return False
        given = self.invocation.last(flags)
        return ABSENT if given is ABSENT else command_line_value(given, kind, node)


class DataclassParser:
    """``HfArgumentParser((ModelArguments, TrainingArguments))``: the dataclasses it fills, in order."""

    __slots__ = ("classes",)

    def __init__(self, classes: list[DataclassRef]) -> None:
        self.classes = classes


class Scope:
    """Names bound so far, in a module or a function (which sees its module's names)."""

    def __init__(self, parent: Scope | None = None) -> None:
        self.names: dict[str, object] = {}
        self.parent = parent
        # name -> (file, node) where its value was set, for a value set in another file of the project
        self.origins: dict[str, tuple[str, ast.AST]] = {}

    def lookup(self, name: str) -> object:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.names:
                return scope.names[name]
            scope = scope.parent
        return _MISSING

    def origin(self, name: str) -> tuple[str, ast.AST] | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.names:
                return scope.origins.get(name)
            scope = scope.parent
        return None

    def bind(self, name: str, value: object, origin: tuple[str, ast.AST] | None = None) -> None:
        self.names[name] = value
        if origin is None:
            self.origins.pop(name, None)
        else:
            self.origins[name] = origin


_MISSING = object()


def text_of(node: ast.AST) -> str:
    try:
        text = ast.unparse(node)
    except (ValueError, RecursionError):
        return "<expression>"
    return text if len(text) <= 80 else text[:77] + "..."


def unknown(node: ast.AST) -> Unknown:
    """The Unknown value of ``node``, its text written only if someone reads it: most never are,
    and ``ast.unparse`` was a tenth of the time of reading 200 scripts."""
    return Unknown(describe=lambda: text_of(node))


def combine(node: ast.AST, function, *values: object) -> object:
    """Apply ``function`` to values, any of which may be GPU-dependent or unknown (then the result
    is too, named by the expression ``node``)."""
    if any(isinstance(value, Unknown) for value in values):
        return unknown(node)
    if any(isinstance(value, MachineValue) for value in values):
        sides = []
        for pick in (0, 1):
            args = [
                (value.on_bf16_gpu, value.on_older_gpu)[pick] if isinstance(value, MachineValue) else value
                for value in values
            ]
            sides.append(combine(node, function, *args))
        return MachineValue(text_of(node), sides[0], sides[1])
    try:
        return function(*values)
    except Exception:  # noqa: BLE001 - comparing a dtype with a tuple, and the like: not knowable here
        return unknown(node)


class Evaluator:
    def __init__(self, aliases: dict[str, str], display: str | None = None) -> None:
        self.aliases = aliases  # local name -> imported name
        self.display = display  # the file being read
        # Evaluates a call to a function of the project (set by the reader); returns _MISSING when it cannot.
        self.project_call: Callable[[ast.Call, Scope], object] | None = None
        # How a launch line runs the script (its words and exports), when the file is read for that line's run;
        # None when it is read on its own (then its parsers give their defaults, as a bare `python train.py`).
        self.invocation: Invocation | None = None
        self.reads_invocation = False  # it reads its command line or environment: a launch line changes its values

    def callee(self, func: ast.AST, scope: Scope) -> str | None:
        """The name a call goes to: ``SFTConfig``, ``from_pretrained``, a bound class's name."""
        if isinstance(func, ast.Name):
            bound = scope.lookup(func.id)
            if isinstance(bound, ClassRef):
                return bound.name
            return self.aliases.get(func.id, func.id)
        if isinstance(func, ast.Attribute):
            return func.attr
        return None

    def owner(self, func: ast.AST, scope: Scope) -> str | None:
        """For ``X.from_pretrained``: the class X names (through aliases and bindings)."""
        if isinstance(func, ast.Attribute):
            return self.callee(func.value, scope)
        return None

    def value(self, node: ast.AST, scope: Scope) -> object:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            bound = scope.lookup(node.id)
            if bound is not _MISSING:
                return bound
            return Unknown(node.id)
        if isinstance(node, ast.Attribute):
            return self._attribute(node, scope)
        if isinstance(node, ast.Call):
            return self._call(node, scope)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return combine(node, lambda a: not a, self.value(node.operand, scope))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return combine(node, operator.neg, self.value(node.operand, scope))
        if isinstance(node, ast.BoolOp):
            return self._boolean(node, scope)
        if isinstance(node, ast.Compare):
            return self._compare(node, scope)
        if isinstance(node, ast.IfExp):
            test = self.value(node.test, scope)
            body, orelse = self.value(node.body, scope), self.value(node.orelse, scope)
            return combine(node, lambda t, b, o: b if t else o, test, body, orelse)
        if isinstance(node, ast.Subscript):
            return self._subscript(node, scope)
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [self.value(item, scope) for item in node.elts]
            if any(isinstance(item, (Unknown, MachineValue)) for item in items):
                return unknown(node)
            return items if isinstance(node, ast.List) else tuple(items)
        if isinstance(node, ast.Dict):
            return self.dict_literal(node, scope)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and self._may_be_rendered(node.left, scope):
            left = self.value(node.left, scope)
            if isinstance(left, RenderedChat):  # rendered + tokenizer.eos_token still starts with <bos>
                return left
        if isinstance(node, ast.JoinedStr):  # f"google/gemma-3-{size}-it"
            return self._joined(node, scope)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Div)) and _textual(node):
            # "google/" + name, Path(base) / "merged": only where an operand is text, since most `+` in a long
            # script is arithmetic whose operands cost a walk
            join = _concatenated if isinstance(node.op, ast.Add) else posixpath.join
            return combine(node, join, self.value(node.left, scope), self.value(node.right, scope))
        if isinstance(node, (ast.ListComp, ast.GeneratorExp)):
            element = self.value(node.elt, Scope(scope))  # [apply_chat_template(c, tokenize=False) for c in ...]
            return element if isinstance(element, RenderedChat) else unknown(node)
        return unknown(node)

    def _exported(self, name_node: ast.AST, scope: Scope, node: ast.AST) -> object:
        """The value the launch line's shell gives the variable ``name_node`` names, or ABSENT."""
        name = self.value(name_node, scope)
        if not isinstance(name, str):
            return unknown(node)
        if self.invocation is None or name not in self.invocation.environment:
            return ABSENT
        value = self.invocation.environment[name]
        return unknown(node) if value is None else value

    def _dataclass_parser(self, node: ast.AST, scope: Scope) -> object:
        names = node.elts if isinstance(node, (ast.Tuple, ast.List)) else [node]
        classes = []
        for item in names:
            bound = self.value(item, scope) if isinstance(item, ast.Name) else None
            if isinstance(bound, DataclassRef):
                classes.append(bound)
            else:  # a class of a library (TrainingArguments, TRL's ModelConfig): only the defaults known here
                name = item.attr if isinstance(item, ast.Attribute) else text_of(item)
                classes.append(DataclassRef(name, self.aliases.get(name, name)))
        return DataclassParser(classes)

    def _joined(self, node: ast.JoinedStr, scope: Scope) -> object:
        parts: list[object] = []
        for part in node.values:
            if isinstance(part, ast.Constant):
                parts.append(str(part.value))
            elif isinstance(part, ast.FormattedValue) and part.format_spec is None and part.conversion in (-1, 115):
                parts.append(self.value(part.value, scope))
            else:
                return unknown(node)
        return combine(node, lambda *items: "".join(map(_formatted, items)), *parts)

    def _may_be_rendered(self, node: ast.AST, scope: Scope) -> bool:
        """Cheaply: could this operand be rendered chat text (a name bound to one, or the call itself)? Other
        operands of ``+`` are not evaluated: arithmetic is most of a long script's expressions."""
        if isinstance(node, ast.Name):
            return isinstance(scope.lookup(node.id), RenderedChat)
        return isinstance(node, ast.Call) and self.callee(node.func, scope) in ("apply_chat_template", *_STRIPS)

    def _attribute(self, node: ast.Attribute, scope: Scope) -> object:
        if (
            node.attr in _DTYPE_ATTRS
            and isinstance(node.value, ast.Name)
            and self.aliases.get(node.value.id, node.value.id) in ("torch", "th")
        ):
            return _DTYPE_ATTRS[node.attr]
        if isinstance(node.value, ast.Name):
            owner = scope.lookup(node.value.id)
            if isinstance(owner, (Namespace, ParsedArguments)):
                return owner.attribute(node.attr, node)
            if isinstance(owner, ModuleValue):  # config.MODEL_ID, from another module of the project
                found = owner.scope.lookup(node.attr)
                return unknown(node) if found is _MISSING else found
        if (
            node.attr == "argv"
            and isinstance(node.value, ast.Name)
            and self.aliases.get(node.value.id, node.value.id) == "sys"
        ):
            self.reads_invocation = True
            # Read on its own, the script runs bare (`python train.py`), as its parsers' defaults say
            words = self.invocation.words if self.invocation is not None else ()
            if any("$" in word or "`" in word for word in words):
                return unknown(node)  # the shell adds words: not known here
            return ["<script>", *words]
        if node.attr in _DTYPE_ATTRS:  # torch imported under another name
            return _DTYPE_ATTRS[node.attr]
        return unknown(node)

    def _call(self, node: ast.Call, scope: Scope) -> object:
        name = self.callee(node.func, scope)
        if name == "apply_chat_template" and isinstance(node.func, ast.Attribute):
            tokenize = next((k.value for k in node.keywords if k.arg == "tokenize"), None)
            if isinstance(tokenize, ast.Constant) and tokenize.value is False:
                return RenderedChat(node, text_of(node.func.value))
            return unknown(node)
        if name in _STRIPS and isinstance(node.func, ast.Attribute) and self._may_be_rendered(node.func.value, scope):
            text = self.value(node.func.value, scope)
            if isinstance(text, RenderedChat):
                taken = self.value(node.args[0], scope) if node.args else None  # .strip(): whitespace only
                if isinstance(taken, str) and "<bos>" in taken:
                    return RenderedChat(text.node, text.owner, stripped=True)
                return text
        if name in MACHINE_CALLS and not node.args and not node.keywords:
            on_bf16, on_older = MACHINE_CALLS[name]
            return MachineValue(text_of(node), on_bf16, on_older)
        if name == "dict" and not node.args:
            return self.dict_call(node, scope)
        if name == "ArgumentParser":
            return ArgumentParser()
        if name in ("parse_args", "parse_known_args") and isinstance(node.func, ast.Attribute):
            parser = self.value(node.func.value, scope)
            if isinstance(parser, ArgumentParser):
                self.reads_invocation = True
                namespace = Namespace(parser, self.invocation)
                return namespace if name == "parse_args" else (namespace, unknown(node))
        if name in ("HfArgumentParser", "TrlParser") and node.args:
            return self._dataclass_parser(node.args[0], scope)
        if name == "parse_args_into_dataclasses" and isinstance(node.func, ast.Attribute):
            parser = self.value(node.func.value, scope)
            if isinstance(parser, DataclassParser):
                self.reads_invocation = True
                parsed: list[object] = [ParsedArguments(ref, self.invocation) for ref in parser.classes]
                if any(k.arg == "return_remaining_strings" for k in node.keywords):
                    parsed.append(unknown(node))
                return tuple(parsed)
        if name in ("get", "getenv") and 1 <= len(node.args) <= 2 and _is_environ(node.func):
            # os.environ.get("X", default): what the launch line's shell exports, else the default
            self.reads_invocation = True
            exported = self._exported(node.args[0], scope, node)
            if exported is not ABSENT:
                return exported
            return self.value(node.args[1], scope) if len(node.args) == 2 else unknown(node)
        if name == "getattr" and len(node.args) >= 2 and isinstance(node.args[0], ast.Name):
            # getattr(torch, "float16"), getattr(torch, config["dtype"])
            owner = self.aliases.get(node.args[0].id, node.args[0].id)
            attribute = self.value(node.args[1], scope)
            if owner in ("torch", "th"):  # a GPU-dependent name gives a GPU-dependent dtype; anything else, unknown
                return combine(node, lambda name: _DTYPE_ATTRS[name], attribute)
            return unknown(node)
        if name == "get" and isinstance(node.func, ast.Attribute) and 1 <= len(node.args) <= 2:
            container = self.value(node.func.value, scope)
            key = self.value(node.args[0], scope)
            if isinstance(container, DictValue) and isinstance(key, str):  # settings.get("fp16", False)
                entry = container.entries.get(key)
                if entry is not None:
                    return entry[0]
                return self.value(node.args[1], scope) if len(node.args) == 2 else None  # dict.get(missing): None
        if self.project_call is not None:
            result = self.project_call(node, scope)
            if result is not _MISSING:
                return result
        if name in _STR_METHODS and isinstance(node.func, ast.Attribute) and len(node.args) <= 1:
            text = self.value(node.func.value, scope)  # sys.argv[1].endswith(".yaml")
            if isinstance(text, str):
                arguments = [self.value(argument, scope) for argument in node.args]
                return combine(node, lambda *a: getattr(text, name)(*a), *arguments)
        if name == "len" and len(node.args) == 1 and isinstance(node.func, ast.Name):
            return combine(node, len, self.value(node.args[0], scope))
        if name == "join" and _is_os_path(node.func) and node.args and not node.keywords:
            return combine(node, posixpath.join, *(self.value(argument, scope) for argument in node.args))
        if name in ("Path", "PurePath", "PosixPath") and len(node.args) == 1 and not node.keywords:
            return combine(node, _text_only, self.value(node.args[0], scope))  # a path, as the text it names
        if name == "format" and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Constant):
            template = node.func.value.value
            if isinstance(template, str) and not node.keywords:
                arguments = [self.value(argument, scope) for argument in node.args]
                return combine(node, lambda *a: template.format(*map(_formatted, a)), *arguments)
        if name in ("abspath", "expanduser", "normpath") and len(node.args) == 1:
            return self.value(node.args[0], scope)  # the path stays the one named, found as a settings file is
        if name in ("bool", "str", "int", "float") and len(node.args) == 1 and not node.keywords:
            converter = {"bool": bool, "str": str, "int": int, "float": float}[name]
            return combine(node, converter, self.value(node.args[0], scope))
        return unknown(node)

    def _boolean(self, node: ast.BoolOp, scope: Scope) -> object:
        values = []
        for item in node.values:  # as Python reads it: `len(sys.argv) == 2 and sys.argv[1]...` stops at False
            value = self.value(item, scope)
            values.append(value)
            if isinstance(value, (Unknown, MachineValue)):
                continue
            if isinstance(node.op, ast.And) and not value:
                break
            if isinstance(node.op, ast.Or) and value:
                break
        if isinstance(node.op, ast.And):
            return combine(node, lambda *items: _and(items), *values)
        return combine(node, lambda *items: _or(items), *values)

    def _compare(self, node: ast.Compare, scope: Scope) -> object:
        left = self.value(node.left, scope)
        result: object = True
        for op, right_node in zip(node.ops, node.comparators):
            right = self.value(right_node, scope)
            function = _COMPARE.get(type(op))
            if function is None:
                return unknown(node)
            step = combine(node, function, left, right)
            result = combine(node, lambda a, b: bool(a and b), result, step)
            left = right
        return result

    def _subscript(self, node: ast.Subscript, scope: Scope) -> object:
        if _names_environ(node.value):  # os.environ["MODEL"]
            self.reads_invocation = True
            exported = self._exported(node.slice, scope, node)
            return unknown(node) if exported is ABSENT else exported
        if isinstance(node.slice, ast.Slice) and node.slice.lower is not None:
            text = self.value(node.value, scope)
            if isinstance(text, RenderedChat):  # rendered[len("<bos>"):]
                return RenderedChat(text.node, text.owner, stripped=True)
        container = self.value(node.value, scope)
        key = self.value(node.slice, scope)
        if isinstance(container, DictValue) and isinstance(key, str):
            entry = container.entries.get(key)
            return entry[0] if entry else unknown(node)
        return combine(node, lambda c, k: c[k], container, key)

    def dict_literal(self, node: ast.Dict, scope: Scope) -> DictValue:
        result = DictValue(self.display)
        for key, item in zip(node.keys, node.values):
            if key is None:  # {**other}
                spread = self.value(item, scope)
                if isinstance(spread, DictValue):
                    result.entries.update(spread.entries)
                continue
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                result.entries[key.value] = (self.value(item, scope), key, item)
        return result

    def dict_call(self, node: ast.Call, scope: Scope) -> DictValue:
        result = DictValue(self.display)
        for keyword in node.keywords:
            if keyword.arg is None:
                spread = self.value(keyword.value, scope)
                if isinstance(spread, DictValue):
                    result.entries.update(spread.entries)
            else:
                result.entries[keyword.arg] = (self.value(keyword.value, scope), keyword, keyword.value)
        return result


def origin_of(node: ast.AST, scope: Scope, evaluator: Evaluator) -> tuple[str, ast.AST] | None:
    """The file and node where the value of ``node`` was set, when that is another file of the project
    (``from config import BNB_CONFIG`` ... ``getattr(torch, BNB_CONFIG.get("bnb_4bit_compute_dtype"))``
    is set in config.py), so a finding points at the line that really sets it. None: this file."""
    if isinstance(node, ast.Name):
        return scope.origin(node.id)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        owner = scope.lookup(node.value.id)
        if isinstance(owner, ModuleValue):
            return owner.scope.origin(node.attr)
        return None
    if isinstance(node, ast.Call):
        name = evaluator.callee(node.func, scope)
        if name == "getattr" and len(node.args) >= 2:
            return origin_of(node.args[1], scope, evaluator)
        if name in ("bool", "str", "int", "float") and len(node.args) == 1:
            return origin_of(node.args[0], scope, evaluator)
        if name == "get" and isinstance(node.func, ast.Attribute) and node.args:
            return _entry_origin(
                evaluator.value(node.func.value, scope), evaluator.value(node.args[0], scope), evaluator
            )
        return None
    if isinstance(node, ast.Subscript):
        return _entry_origin(evaluator.value(node.value, scope), evaluator.value(node.slice, scope), evaluator)
    return None


def _entry_origin(container: object, key: object, evaluator: Evaluator) -> tuple[str, ast.AST] | None:
    if (
        not isinstance(container, DictValue)
        or not isinstance(key, str)
        or container.display in (None, evaluator.display)
    ):
        return None
    entry = container.entries.get(key)
    return (container.display, entry[2]) if entry is not None else None


def _is_environ(func: ast.AST) -> bool:
    """``os.environ.get`` / ``os.getenv`` / ``environ.get``."""
    if not isinstance(func, ast.Attribute):
        return False
    return func.attr == "getenv" or _names_environ(func.value)


def _names_environ(node: ast.AST) -> bool:
    """``os.environ`` or ``environ`` (``from os import environ``)."""
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
        isinstance(node, ast.Name) and node.id == "environ"
    )


def _and(items: tuple) -> object:
    result: object = True
    for item in items:
        result = item
        if not item:
            return item
    return result


def _or(items: tuple) -> object:
    result: object = False
    for item in items:
        result = item
        if item:
            return item
    return result
