"""Hugging Face model ids as arguments: ``gemma-doctor check google/gemma-3-4b-it``.

The id resolves to its snapshot in the local cache (``HF_HUB_CACHE``, else
``HF_HOME/hub``, else ``~/.cache/huggingface/hub``), following the cache's own
layout: ``models--ORG--NAME/refs/REVISION`` holds a commit hash and
``snapshots/HASH/`` holds the files, as links into ``blobs/``. Nothing touches
the network unless ``--online`` asks for config.json and generation_config.json.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from gemma_doctor.errors import UsageError
from gemma_doctor.filekinds import FILE_SUFFIXES as _FILE_SUFFIXES

_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$")

ONLINE_FILES = ("config.json", "generation_config.json")


def looks_like_repo_id(text: str) -> bool:
    return bool(_REPO_ID.match(text)) and not text.lower().endswith(_FILE_SUFFIXES)


def cache_dir() -> Path:
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HUGGINGFACE_HUB_CACHE"):
        return Path(os.environ["HUGGINGFACE_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME", "~/.cache"), "huggingface")
    return Path(os.path.expanduser(home)) / "hub"


def _plain_name(text: str) -> bool:
    """A revision, ref content or commit is one path component: no '/', no '..' (fuzz D30)."""
    return bool(text) and "/" not in text and "\\" not in text and text not in (".", "..") and "\x00" not in text


def snapshot_path(repo_id: str, revision: str | None = None, root: Path | None = None) -> Path | None:
    """The cached snapshot folder of ``repo_id``, never a folder outside the cache."""
    repo = (root or cache_dir()) / ("models--" + repo_id.replace("/", "--"))
    revision = revision or "main"
    if not _plain_name(revision) or ".." in repo_id:
        return None
    ref = repo / "refs" / revision
    try:
        commit = ref.read_text(errors="replace").strip()[:100] if os.path.isfile(ref) else revision
    except OSError:
        return None
    if not _plain_name(commit):
        return None
    snapshot = repo / "snapshots" / commit
    return snapshot if os.path.isdir(snapshot) else None


def resolve(repo_id: str, revision: str | None = None, online: bool = False) -> Path:
    snapshot = snapshot_path(repo_id, revision)
    if snapshot is not None:
        return snapshot
    if not online:
        raise UsageError(
            f"{repo_id}: not a local path, and not in the Hugging Face cache at {cache_dir()} "
            f"(revision {revision or 'main'}); pass --online to fetch its config.json"
        )
    return _download(repo_id, revision)


# How long --online waits to reach the Hub before it says so: huggingface_hub's own retries take ~25 s
# without a network, which reads as a hang.
REACH_TIMEOUT_S = 3.0


def _unreachable(endpoint: str, timeout: float = REACH_TIMEOUT_S) -> str | None:
    """Why the Hub endpoint cannot be reached within ``timeout`` seconds (name lookup included), or None."""
    import socket
    import threading
    from urllib.parse import urlsplit

    parts = urlsplit(endpoint)
    host, port = parts.hostname or "huggingface.co", parts.port or (80 if parts.scheme == "http" else 443)
    outcome: list[str | None] = []

    def connect() -> None:
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            outcome.append(None)
        except OSError as exc:
            outcome.append(f"{type(exc).__name__}: {exc}")

    probe = threading.Thread(target=connect, daemon=True)  # getaddrinfo has no timeout of its own
    probe.start()
    probe.join(timeout)
    if not outcome:
        return f"no answer from {host}:{port} in {timeout:g} s"
    return None if outcome[0] is None else f"cannot reach {host}:{port} ({outcome[0]})"


def _download(repo_id: str, revision: str | None) -> Path:
    try:
        from huggingface_hub import constants, hf_hub_download
    except ImportError:
        raise UsageError(
            "--online needs huggingface_hub: pip install huggingface_hub (or '.[hub]' in a gemma-doctor clone)"
        ) from None
    problem = _unreachable(constants.ENDPOINT)
    if problem is not None:
        raise UsageError(f"{repo_id}: could not fetch config.json: {problem}; is there a network?")
    folder = None
    for name in ONLINE_FILES:
        try:
            folder = Path(hf_hub_download(repo_id, name, revision=revision)).parent
        except Exception as exc:  # noqa: BLE001 - the hub raises many types; all mean "could not fetch"
            if name == "config.json":
                reason = " ".join(str(exc).split())[:200]
                raise UsageError(f"{repo_id}: could not fetch config.json ({type(exc).__name__}: {reason})") from None
    if folder is None:
        raise UsageError(f"{repo_id}: could not fetch config.json")
    return folder
