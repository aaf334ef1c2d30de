"""Reporters turn a Report into text for people or for machines."""

from __future__ import annotations

FORMATS = ("text", "json", "sarif", "github", "junit")


def _not_utf8_byte(code: int) -> str | None:
    """``\\xff`` for a surrogateescape'd byte (a non-UTF-8 file name), else None."""
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else None


def printable(text: str) -> str:
    """``text`` with control characters, lone surrogates (a non-UTF-8 file name) and other
    characters that would break a line-oriented or XML report escaped: a file named
    ``"a\\nx.py:1:1: GD999"`` cannot fake a finding line (fuzz D28, D15)."""
    if text.isprintable():
        return text
    out = []
    for char in text:
        code = ord(char)
        byte = _not_utf8_byte(code)
        if byte is not None:  # a byte that was not UTF-8, kept by surrogateescape
            out.append(byte)
        elif 0xD800 <= code <= 0xDFFF or (not char.isprintable() and char != " "):
            out.append(char.encode("unicode_escape").decode("ascii") if code < 0x10000 else char)
        else:
            out.append(char)
    return "".join(out)


def valid_unicode(text: str) -> str:
    """``text`` without lone surrogates, for formats whose readers demand valid Unicode (JSON, GitHub's
    commands): a byte that was not UTF-8 in a file name reads as ``\\xff``, any other lone surrogate as
    U+FFFD; everything else is left alone (fuzz N12)."""
    if not any(0xD800 <= ord(char) <= 0xDFFF for char in text):
        return text
    out = []
    for char in text:
        code = ord(char)
        byte = _not_utf8_byte(code)
        if byte is not None:
            out.append(byte)
        elif 0xD800 <= code <= 0xDFFF:
            out.append("\ufffd")
        else:
            out.append(char)
    return "".join(out)


def uri(path: str) -> str:
    """A path as a URI reference: percent-encoded bytes, so a non-UTF-8 name stays valid JSON/SARIF."""
    import os
    from urllib.parse import quote

    return quote(os.fsencode(path), safe="/._-~+@")


def render(report, fmt: str, color: bool = False, version: str = "", width: int | None = None) -> str:
    """``width`` wraps the text format for a terminal; machine formats never wrap."""
    if fmt == "json":
        from gemma_doctor.reporters.json_report import render as json_render

        return json_render(report)
    if fmt == "sarif":
        from gemma_doctor.reporters.sarif import render as sarif_render

        return sarif_render(report, version)
    if fmt == "github":
        from gemma_doctor.reporters.github import render as github_render

        return github_render(report)
    if fmt == "junit":
        from gemma_doctor.reporters.junit import render as junit_render

        return junit_render(report)
    from gemma_doctor.reporters.text import render as text_render

    return text_render(report, color, width=width)
