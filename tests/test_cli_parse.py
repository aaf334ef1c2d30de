"""cli.parse_plainly reads a command line exactly as argparse does, or leaves it to argparse: held to
argparse on generated command lines of every command (options, abbreviations, short options, ``=``
forms, bad choices and values, positionals before, between and after options)."""

from __future__ import annotations

import contextlib
import io
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gemma_doctor.cli import COMMANDS, build_parser, main, parse_plainly

PARSER = build_parser()


def _argparse(argv: list[str]) -> dict | None:
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        try:
            return vars(PARSER.parse_args(argv))
        except SystemExit:
            return None


def _words(command: str) -> list[str]:
    words = ["a", "b.json", "./x y", "", "-", "--", "-1", "-h", "--help", "none", "auto", "text", "json", "GD101,gd2"]
    for option in COMMANDS[command][1]:
        words += [flag for flag in option.flags if flag.startswith("-")]
        long = next((flag for flag in option.flags if flag.startswith("--")), None)
        if long:
            words += [long[:-1], long + "=v", long + "=", f"{long}={(option.choices or ('x',))[0]}"]
        words += list(option.choices or ())
        if option.type is int:
            words += ["3", "x"]
    return words


@st.composite
def command_lines(draw):
    command = draw(st.sampled_from([*COMMANDS, "frob"]))
    words = _words(command if command in COMMANDS else "check")
    return [command, *draw(st.lists(st.sampled_from(words), max_size=6))]


@settings(max_examples=3000, deadline=None)
@given(command_lines())
def test_a_plain_reading_is_argparse_s_reading(argv):
    plain = parse_plainly(argv)
    if plain is not None:
        assert vars(plain) == _argparse(argv), argv


def test_seeded_lines_agree_and_many_are_read_plainly():
    """The same comparison on a fixed set of 3,000 lines, which also shows it is not vacuous: a
    share of them (about 8%: most random lines are errors) is read without argparse."""
    generator = random.Random(13)
    plainly = 0
    for _ in range(3000):
        command = generator.choice([*COMMANDS, "frob"])
        words = _words(command if command in COMMANDS else "check")
        argv = [command, *generator.choices(words, k=generator.randint(0, 6))]
        plain = parse_plainly(argv)
        if plain is not None:
            plainly += 1
            assert vars(plain) == _argparse(argv), argv
    assert plainly >= 150


def test_the_common_spellings_are_read_plainly():
    for argv, expected in [
        (["check"], {"paths": [], "env": None, "format": None, "exit_zero": False}),
        (["check", "proj", "--env", "none", "--format=json"], {"paths": ["proj"], "env": "none", "format": "json"}),
        (["check", "--select", "gd1,GD202", "a", "b"], {"select": ["GD1", "GD202"], "paths": ["a", "b"]}),
        (["fix", "--write", "."], {"write": True, "paths": ["."]}),
        (["env", "--format", "json"], {"env": "auto", "format": "json", "paths": []}),
        (["rule", "GD202"], {"rule_id": "GD202", "format": "text"}),
        (["verify", "--steps", "3"], {"path": ".", "steps": 3, "stack": "installed"}),
    ]:
        plain = parse_plainly(argv)
        assert plain is not None, argv
        assert {key: getattr(plain, key) for key in expected} == expected
        assert vars(plain) == _argparse(argv)
    first, second = parse_plainly(["check"]), parse_plainly(["check"])
    assert first is not None and second is not None and first.paths is not second.paths  # no shared default


def test_what_is_not_plain_goes_to_argparse_with_its_messages():
    for argv in (
        ["check", "-o", "out.txt"],
        ["check", "--form", "json"],
        ["check", "a", "--env", "none", "b"],
        ["check", "--add-ignore"],
        ["check", "--fail-on", "bad"],
        ["rule"],
        ["--version"],
        ["check", "--help"],
    ):
        assert parse_plainly(argv) is None, argv
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), pytest.raises(SystemExit) as exited:
        main(["check", "--fail-on", "bad"])
    assert exited.value.code == 2
    assert "argument --fail-on: invalid choice: 'bad'" in stderr.getvalue()
