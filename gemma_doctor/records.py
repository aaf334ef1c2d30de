"""``@record``: the part of ``dataclasses`` that gemma-doctor uses, without its import cost.

``import dataclasses`` pulls in ``inspect`` (and with it ``ast``, ``dis``, ``tokenize``...),
which costs more than the rest of a static check of a small project. This generates the
same ``__init__``/``__repr__``/``__eq__`` (and ``__hash__`` for frozen records) from the
class annotations, in declaration order, with defaults and ``field(default_factory=...)``.
It does not enforce immutability: ``frozen`` only makes a record hashable. Compiling each generated
``__init__`` costs ~0.15 ms (~3 ms a check for all of them), which a table of prebuilt code objects
once saved; the review of 0.2.2 judged that not worth a second generated file, and so do we.
"""

from __future__ import annotations

_MISSING = object()


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
        namespace = {"_MISSING": _MISSING, "_defaults": defaults, "_factories": factories}
        exec(f"def __init__(self, {', '.join(params)}):\n" + ("\n".join(lines) or " pass"), namespace)
        cls.__init__ = namespace["__init__"]
        cls.__init__.__qualname__ = f"{cls.__qualname__}.__init__"
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
