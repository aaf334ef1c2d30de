"""``@record``: the part of ``dataclasses`` that gemma-doctor uses, without its import cost.

``import dataclasses`` pulls in ``inspect`` (and with it ``ast``, ``dis``, ``tokenize``...),
which costs more than the rest of a static check of a small project. This generates the
same ``__init__``/``__repr__``/``__eq__`` (and ``__hash__`` for frozen records) from the
class annotations, in declaration order, with defaults and ``field(default_factory=...)``.
It does not enforce immutability: ``frozen`` only makes a record hashable.

Compiling each generated ``__init__`` cost ~0.15 ms, ~4 ms a check for all of them. So the
compiled bodies ship in ``gemma_doctor/_record_inits.py`` (written by
``scripts/compile_records.py``, and cached as bytecode like any module), looked up by their exact
source text: a record whose fields changed since that file was written is compiled here as
before, so a stale table costs time, never correctness. ``tests/test_records.py`` keeps it fresh.
"""

from __future__ import annotations

from types import FunctionType

from gemma_doctor._record_inits import CODE as _PREBUILT

_MISSING = object()
# The __init__ source of every record built in this process, for scripts/compile_records.py; and
# those that were not in the prebuilt table.
BUILT: dict[str, str] = {}
COMPILED_HERE: list[str] = []


class _Field:
    __slots__ = ("compare", "default", "factory")

    def __init__(self, default=_MISSING, factory=_MISSING, compare=True) -> None:
        self.default, self.factory, self.compare = default, factory, compare


def field(*, default=_MISSING, default_factory=_MISSING, compare: bool = True):
    return _Field(default, default_factory, compare)


def record(cls=None, *, frozen: bool = False, slots: bool = False):
    def build(cls):
        specs = []
        for name in cls.__dict__.get("__annotations__", {}):  # noqa: RUF063 - inspect costs more than all of this
            value = cls.__dict__.get(name, _MISSING)
            specs.append((name, value if isinstance(value, _Field) else _Field(default=value)))
            if name in cls.__dict__:
                delattr(cls, name)
        defaults = {name: spec.default for name, spec in specs if spec.default is not _MISSING}
        factories = {name: spec.factory for name, spec in specs if spec.factory is not _MISSING}
        params, lines = [], []
        for name, _spec in specs:
            if name in factories:
                params.append(f"{name}=_MISSING")
                lines.append(f" self.{name} = _factories[{name!r}]() if {name} is _MISSING else {name}")
            else:
                params.append(f"{name}=_defaults[{name!r}]" if name in defaults else name)
                lines.append(f" self.{name} = {name}")
        if "__post_init__" in cls.__dict__:  # validation, as dataclasses call it
            lines.append(" self.__post_init__()")
        signature = ", ".join(name for name, _spec in specs)
        source = f"def __init__(self{', ' if specs else ''}{signature}):\n" + ("\n".join(lines) or " pass")
        namespace = {"_MISSING": _MISSING, "_defaults": defaults, "_factories": factories}
        BUILT[f"{cls.__module__}.{cls.__qualname__}"] = source
        code = _PREBUILT.get(source)
        defaulted = [name for name, _spec in specs if name in defaults or name in factories]
        if code is not None and [name for name, _spec in specs[len(specs) - len(defaulted) :]] == defaulted:
            # The same code object a compile would give; the defaults are the function's, not the code's.
            values = tuple(defaults.get(name, _MISSING) for name in defaulted)
            code = code.replace(co_name="__init__", co_qualname=f"{cls.__qualname__}.__init__")
            cls.__init__ = FunctionType(code, namespace, "__init__", values or None)
        else:
            COMPILED_HERE.append(f"{cls.__module__}.{cls.__qualname__}")
            exec(f"def __init__(self, {', '.join(params)}):\n" + ("\n".join(lines) or " pass"), namespace)
            cls.__init__ = namespace["__init__"]
        names = tuple(name for name, _spec in specs)
        compared = tuple(name for name, spec in specs if spec.compare)
        cls.__record_fields__ = names

        def __repr__(self):
            return f"{type(self).__name__}(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in names) + ")"

        def __eq__(self, other):
            if other.__class__ is not self.__class__:
                return NotImplemented
            return all(getattr(self, n) == getattr(other, n) for n in compared)

        cls.__repr__, cls.__eq__ = __repr__, __eq__
        cls.__hash__ = (lambda self: hash(tuple(getattr(self, n) for n in compared))) if frozen else None
        return cls

    return build if cls is None else build(cls)


def replace(obj, **changes):
    values = {name: getattr(obj, name) for name in obj.__record_fields__}
    values.update(changes)
    return type(obj)(**values)
