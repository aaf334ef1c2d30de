"""Resolved settings: command line over ``.gemma-doctor.toml`` / ``[tool.gemma-doctor]``
over defaults, each remembering where it came from (``check --show-settings``)."""

from __future__ import annotations

import os
from pathlib import Path

from gemma_doctor.engine import Options
from gemma_doctor.errors import UsageError
from gemma_doctor.findings import SEVERITIES
from gemma_doctor.knowledge import catalogue, find_gpu, gpu_from_capability, gpu_names
from gemma_doctor.records import field, record

KNOWN_KEYS = {
    "select",
    "ignore",
    "extend-select",
    "severity",
    "per-file-ignores",
    "target-gpu",
    "env",
    "exclude",
    "fail-on",
    "compute-capability",
}


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


def resolve(args, paths: list[Path]) -> Settings:
    options = Options()
    settings = Settings(options)
    origins = settings.origins
    for key in (
        "select",
        "ignore",
        "extend-select",
        "severity",
        "per-file-ignores",
        "exclude",
        "target-gpu",
        "env",
        "fail-on",
    ):
        origins[key] = "default"
    table: dict = {}
    if getattr(args, "config", None):
        path = Path(args.config)
        if not path.is_file():
            raise UsageError(f"{path}: no such config file")
        import tomllib

        table = _read_toml(path, tomllib)
        if path.name == "pyproject.toml":
            table = table.get("tool", {}).get("gemma-doctor", {})
        settings.config_file = path
    elif not getattr(args, "isolated", False):
        found = find_config(paths[0] if paths else Path("."))
        if found:
            settings.config_file, table = found
    where = str(settings.config_file) if settings.config_file else ""
    for key in table:
        if key not in KNOWN_KEYS:
            raise UsageError(f"{where}: unknown setting {key!r} (known: {', '.join(sorted(KNOWN_KEYS))})")
    if table:
        from gemma_doctor.shapes import problems  # rules/schemas/settings.schema.json

        shape = problems("settings", table)
        if shape:
            raise UsageError(f"{where}: {shape[0].message}")
    if "select" in table:
        options.select = _rule_ids(table["select"], f"{where}: select")
        origins["select"] = where
    if "ignore" in table:
        options.ignore = _rule_ids(table["ignore"], f"{where}: ignore")
        origins["ignore"] = where
    if "extend-select" in table:
        options.extend_select = _rule_ids(table["extend-select"], f"{where}: extend-select")
        origins["extend-select"] = where
    if "severity" in table:
        if not isinstance(table["severity"], dict):
            raise UsageError(f'{where}: severity must be a table of RULE = "error|warning|info"')
        for rule_id, level in table["severity"].items():
            _rule_ids([rule_id], f"{where}: severity")
            if level not in SEVERITIES:
                raise UsageError(f"{where}: severity.{rule_id} must be error, warning or info, not {level!r}")
            options.severity[rule_id.upper()] = level
        origins["severity"] = where
    if "per-file-ignores" in table:
        ignores = table["per-file-ignores"]
        if not isinstance(ignores, dict):
            raise UsageError(f'{where}: per-file-ignores must be a table of "glob" = [rule ids]')
        options.per_file_ignores = {
            pattern: _rule_ids(ids, f"{where}: per-file-ignores.{pattern}") for pattern, ids in ignores.items()
        }
        origins["per-file-ignores"] = where
    if "exclude" in table:
        exclude = table["exclude"]
        if not isinstance(exclude, list) or not all(isinstance(item, str) for item in exclude):
            raise UsageError(f"{where}: exclude must be a list of glob strings, not {type(exclude).__name__}")
        options.exclude = list(exclude)
        origins["exclude"] = where
    if "target-gpu" in table or "compute-capability" in table:
        options.gpu = _gpu(table.get("target-gpu"), table.get("compute-capability"), f"{where}: target-gpu")
        origins["target-gpu"] = where
    if "env" in table:
        if not isinstance(table["env"], str):
            raise UsageError(f"{where}: env must be a string (auto, none or a file)")
        options.env = table["env"]
        origins["env"] = where
    if "fail-on" in table:
        if table["fail-on"] not in SEVERITIES:
            raise UsageError(f"{where}: fail-on must be error, warning or info")
        settings.fail_on = table["fail-on"]
        origins["fail-on"] = where
    # The command line wins.
    for attribute, key in (("select", "select"), ("ignore", "ignore"), ("extend_select", "extend-select")):
        value = getattr(args, attribute, None)
        if value:
            setattr(options, attribute, _rule_ids(value, f"--{key}"))
            origins[key] = "command line"
    if getattr(args, "gpu", None) or getattr(args, "compute_capability", None):
        options.gpu = _gpu(args.gpu, args.compute_capability, "--gpu")
        origins["target-gpu"] = "command line"
    if getattr(args, "env", None):
        options.env = args.env
        origins["env"] = "command line"
    if getattr(args, "fail_on", None):
        settings.fail_on = args.fail_on
        origins["fail-on"] = "command line"
    if options.env not in ("auto", "none") and not Path(options.env).is_file():
        raise UsageError(f"--env {options.env}: no such file (use auto, none or a `pip freeze` file)")
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
