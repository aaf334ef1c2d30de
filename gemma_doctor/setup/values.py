"""How gemma-doctor reads the values it is given: truth, dtype names, and whether a version meets a
specifier. Shared by the Setup and the rules."""

from __future__ import annotations

from gemma_doctor.pep440 import satisfies

_TRUE_STRINGS = {"true", "yes", "1", "on"}
HALF = ("bfloat16", "float16")


def is_true(value) -> bool:
    """True only for a value known to be true: an Unknown or GPU-dependent value is not."""
    if isinstance(value, str):
        return value.strip().lower() in _TRUE_STRINGS
    return value is True or (isinstance(value, int) and not isinstance(value, bool) and value != 0)


def dtype_name(value) -> str | None:
    """Normalise ``torch.bfloat16`` / ``"bf16"`` / ``"bfloat16"`` to a canonical name."""
    if value is None:
        return None
    text = str(value).lower().removeprefix("torch.")
    return {
        "bf16": "bfloat16",
        "bfloat16": "bfloat16",
        "fp16": "float16",
        "float16": "float16",
        "half": "float16",
        "fp32": "float32",
        "float32": "float32",
        "float": "float32",
        "auto": "auto",
    }.get(text, text)


def fits(version: str | None, spec: str) -> bool:
    """Does ``version`` meet ``spec``? False for no version or text that is not PEP 440 (a local build,
    2.13.0+cpu, meets ==2.13.0)."""
    if version is None:
        return False
    try:
        return satisfies(version, spec)
    except ValueError:
        return False
