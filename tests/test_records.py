"""``@record``: the generated ``__init__`` behaves as dataclasses' does, whether its code came from
the prebuilt table (gemma_doctor/_record_inits.py) or was compiled in this process, and the table
covers every record of the package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gemma_doctor import records
from gemma_doctor.facts import Location, SourceResult
from gemma_doctor.records import field, record

ROOT = Path(__file__).resolve().parent.parent


def test_the_prebuilt_table_is_fresh():
    done = subprocess.run(
        [sys.executable, "scripts/compile_records.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_every_record_of_the_package_takes_its_code_from_the_table():
    program = (
        "import importlib, pkgutil, gemma_doctor\n"
        "from gemma_doctor import records\n"
        "for m in pkgutil.walk_packages(gemma_doctor.__path__, 'gemma_doctor.'):\n"
        "    if m.name != 'gemma_doctor.__main__': importlib.import_module(m.name)\n"
        "print(len(records.BUILT), records.COMPILED_HERE)\n"
    )
    done = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=True)
    built, compiled_here = done.stdout.split(" ", 1)
    assert int(built) >= 20
    assert compiled_here.strip() == "[]"
    assert Location.__init__.__code__.co_filename.endswith("_record_inits.py")
    assert Location.__init__.__qualname__ == "Location.__init__"


@record
class _NotInTheTable:
    name: str
    count: int = 3
    tags: list = field(default_factory=list)
    cached: object = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.count < 0:
            raise ValueError("count must not be negative")


def test_a_record_missing_from_the_table_is_compiled_here_and_behaves_the_same():
    assert f"{__name__}._NotInTheTable" in records.COMPILED_HERE
    one, two = _NotInTheTable("a"), _NotInTheTable("a", cached=object())
    assert (one.count, one.tags) == (3, [])
    assert one.tags is not two.tags  # a fresh list for each
    assert one == two  # `cached` is not compared
    assert repr(one) == "_NotInTheTable(name='a', count=3, tags=[], cached=None)"
    with pytest.raises(ValueError, match="negative"):
        _NotInTheTable("a", -1)
    with pytest.raises(TypeError):
        _NotInTheTable()  # type: ignore[call-arg]


def test_a_record_from_the_table_keeps_its_defaults_factories_and_equality():
    first, second = SourceResult(), SourceResult()
    assert first.facts == [] and first.facts is not second.facts
    assert first == second
    location = Location("train.yaml", 3)
    assert (location.line, location.column) == (3, None)
    assert location == Location("train.yaml", 3) and hash(location) == hash(Location("train.yaml", 3))
    with pytest.raises(TypeError):
        Location()  # type: ignore[call-arg]
