"""Resolved settings: command line over ``.gemma-doctor.toml`` / ``[tool.gemma-doctor]``
over defaults, each remembering where it came from (``check --show-settings``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from gemma_doctor.engine import Options
from gemma_doctor.errors import UsageError
from gemma_doctor.knowledge import catalogue, find_gpu, gpu_from_capability, gpu_names, rules_dir
from gemma_doctor.records import field, record


def known_keys() -> list[str]:
    """The settings a table may hold: the properties of rules/schemas/settings.schema.json, the one
    validator of their types and values."""
    schema = json.loads((rules_dir() / "schemas" / "settings.schema.json").read_text(encoding="utf-8"))
    return list(schema["properties"])


@record
class Settings:
    options: Options
    fail_on: str = "error"
    origins: dict[str, str] = field(default_factory=dict)
    config_file: Path | None = None


def find_config(start: Path) -> tuple[Path, dict] | None:
    """The nearest .gemma-doctor.toml, or pyproject.toml with [tool.gemma-doctor], walking up."""
    current = Path(os.path.abspath(start))  # not resolve(): a symlink loop must not raise here
    if not current.is_dir():
        current = current.parent
    while True:
        dedicated = current / ".gemma-doctor.toml"
        if dedicated.is_file():
            import tomllib

            return dedicated, _read_toml(dedicated, tomllib)
        pyproject = current / "pyproject.toml"
        if pyproject.is_file():
            text = pyproject.read_text(encoding="utf-8", errors="replace")
            if "tool.gemma-doctor" in text:  # cheap test first: tomllib costs more than a small check
                import tomllib

                table = _read_toml(pyproject, tomllib).get("tool", {}).get("gemma-doctor")
                if table is not None:
                    return pyproject, table
        if (current / ".git").exists() or current.parent == current:
            return None
        current = current.parent


def _read_toml(path: Path, tomllib) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{path}: invalid TOML: {exc}") from None
    except RecursionError:  # tomllib recurses into nested arrays (fuzz N05)
        raise UsageError(f"{path}: invalid TOML: nested too deeply") from None


def _rule_ids(values, where: str) -> list[str]:
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list):
        raise UsageError(f"{where}: expected a list of rule ids")
    ids = sorted(catalogue())
    result = []
    for value in values:
        text = str(value).strip().upper()
        if text != "ALL" and not any(rule_id.startswith(text) for rule_id in ids):
            raise UsageError(f"{where}: unknown rule id or prefix {value!r}")
        result.append(text)
    return result


def _gpu(name: str | None, capability: str | None, where: str):
    if capability:
        try:
            return gpu_from_capability(str(capability))
        except ValueError:
            raise UsageError(f"{where}: compute capability must look like 7.5, not {capability!r}") from None
    if name:
        try:
            gpu = find_gpu(str(name))
        except ValueError as exc:  # AmbiguousGpu
            raise UsageError(f"{where}: {exc} (or give --compute-capability X.Y)") from None
        if gpu is None:
            raise UsageError(
                f"{where}: unknown GPU {name!r}; known: {', '.join(gpu_names())} (or give --compute-capability X.Y)"
            )
        return gpu
    return None


def _severity(table: dict, where: str) -> dict[str, str]:
    _rule_ids(list(table), where)  # the schema checked the levels; the ids need the catalogue
    return {rule_id.upper(): level for rule_id, level in table.items()}


def _per_file_ignores(table: dict, where: str) -> dict[str, list[str]]:
    return {pattern: _rule_ids(ids, f"{where}.{pattern}") for pattern, ids in table.items()}


# setting -> (where it lands: an Options attribute, or "fail_on" on the Settings; how a value is read).
# The schema has already checked every type and value; what is left is what it cannot know (rule ids).
_APPLY = {
    "select": ("select", _rule_ids),
    "ignore": ("ignore", _rule_ids),
    "extend-select": ("extend_select", _rule_ids),
    "severity": ("severity", _severity),
    "per-file-ignores": ("per_file_ignores", _per_file_ignores),
    "exclude": ("exclude", lambda value, where: list(value)),
    "env": ("env", lambda value, where: value),
    "fail-on": ("fail_on", lambda value, where: value),
}
# The command line's spelling of each setting it can give.
_FLAGS = {"select": "select", "ignore": "ignore", "extend-select": "extend_select", "env": "env", "fail-on": "fail_on"}


def _set(settings: Settings, key: str, value, where: str) -> None:
    attribute, read = _APPLY[key]
    value = read(value, f"{where}: {key}" if not where.startswith("--") else where)
    setattr(settings if attribute == "fail_on" else settings.options, attribute, value)
    settings.origins[key] = "command line" if where.startswith("--") else where


def resolve(request, paths: list[Path]) -> Settings:
    """The settings of a check or fix request (requests.CheckRequest / FixRequest): its command line
    over the nearest settings file over the defaults."""
    cwd = getattr(request, "cwd", None) or Path.cwd()
    settings = Settings(Options(cwd=cwd, trace=bool(getattr(request, "trace", False))))
    settings.origins.update((key, "default") for key in (*_APPLY, "target-gpu"))
    table: dict = {}
    config = getattr(request, "config", None)
    if config:
        path = Path(config)
        if not path.is_file():
            raise UsageError(f"{path}: no such config file")
        import tomllib

        table = _read_toml(path, tomllib)
        if path.name == "pyproject.toml":
            table = table.get("tool", {}).get("gemma-doctor", {})
        settings.config_file = path
    elif not getattr(request, "isolated", False):
        found = find_config(paths[0] if paths else cwd)
        if found:
            settings.config_file, table = found
    where = str(settings.config_file) if settings.config_file else ""
    if table:
        known = known_keys()
        for key in table:
            if key not in known:
                raise UsageError(f"{where}: unknown setting {key!r} (known: {', '.join(sorted(known))})")
        from gemma_doctor.shapes import problems  # rules/schemas/settings.schema.json

        shape = problems("settings", table)
        if shape:
            raise UsageError(f"{where}: {shape[0].message}")
    for key, value in table.items():
        if key in _APPLY:
            _set(settings, key, value, where)
    if "target-gpu" in table or "compute-capability" in table:
        settings.options.gpu = _gpu(table.get("target-gpu"), table.get("compute-capability"), f"{where}: target-gpu")
        settings.origins["target-gpu"] = where
    # The command line wins.
    for key, attribute in _FLAGS.items():
        value = getattr(request, attribute, None)
        if value:
            _set(settings, key, value, f"--{key}")
    gpu, capability = getattr(request, "gpu", None), getattr(request, "compute_capability", None)
    if gpu or capability:
        settings.options.gpu = _gpu(gpu, capability, "--compute-capability" if capability else "--gpu")
        settings.origins["target-gpu"] = "command line"
    env = settings.options.env
    if env not in ("auto", "none") and not (cwd / env).is_file():
        raise UsageError(f"--env {env}: no such file (use auto, none or a `pip freeze` file)")
    return settings


def describe(settings: Settings) -> str:
    options = settings.options
    values = {
        "select": ",".join(options.select),
        "ignore": ",".join(options.ignore) or "-",
        "extend-select": ",".join(options.extend_select) or "-",
        "severity": ", ".join(f"{k}={v}" for k, v in sorted(options.severity.items())) or "-",
        "per-file-ignores": "; ".join(f"{k}: {','.join(v)}" for k, v in options.per_file_ignores.items()) or "-",
        "exclude": ",".join(options.exclude) or "-",
        "target-gpu": options.gpu.describe() if options.gpu else "unknown",
        "env": options.env,
        "fail-on": settings.fail_on,
    }
    lines = [f"config file: {settings.config_file or 'none'}"]
    lines += [f"{key} = {values[key]}    # from {settings.origins.get(key, 'default')}" for key in values]
    return "\n".join(lines) + "\n"
