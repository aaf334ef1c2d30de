"""Files as gemma-doctor reads and writes them: only regular files, never through a link, byte
for byte.

Reading: a file must be a regular file (a FIFO, a device, a socket or a ``/proc`` link is skipped:
reading one hangs or never ends), under a size cap that is checked before reading. While ``fix``
verifies a candidate, an *overlay* supplies the candidate's bytes in place of the file's, so the
whole check runs on what would be written before anything touches the disk.

Writing: ``FileText`` splits a file into its BOM, its line ending and a ``\\n`` text for the
writers, and puts them back, so a CRLF or CR file keeps its line endings and a BOM file keeps its
BOM. ``write_atomically`` writes a temporary file beside the original (recognisable prefix),
fsyncs it, gives it the original's mode, owner and group, and renames it over the original, only
if the original still holds the bytes that were read. Symbolic links and files with more than one
hard link are refused.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

TEMP_PREFIX = ".gemma-doctor-"
TEMP_SUFFIX = ".tmp"
BOM = b"\xef\xbb\xbf"  # UTF-8's byte order mark
_OVERLAY: dict[str, bytes] = {}


class WriteRefused(Exception):
    """A file ``fix`` will not write, with a one-line reason."""


def overlay_key(path: Path) -> str:
    return os.path.abspath(path)


class overlaid:  # a class, not @contextmanager: importing contextlib costs every check ~1 ms
    """Within the block, reading any of these absolute paths gives the bytes given here."""

    def __init__(self, contents: dict[str, bytes]) -> None:
        self.contents = contents
        self.saved: dict[str, bytes] = {}

    def __enter__(self) -> None:
        self.saved = dict(_OVERLAY)
        _OVERLAY.update(self.contents)

    def __exit__(self, *exc_info: object) -> None:
        _OVERLAY.clear()
        _OVERLAY.update(self.saved)


def read_bytes(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes. Raises OSError or ValueError
    (with a one-line reason) otherwise."""
    key = overlay_key(path)
    if key in _OVERLAY:
        return _OVERLAY[key]
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        kind = (
            "a FIFO"
            if stat.S_ISFIFO(info.st_mode)
            else "a device"
            if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
            else "a socket"
            if stat.S_ISSOCK(info.st_mode)
            else "not a regular file"
        )
        raise ValueError(f"{kind}, not a regular file; skipped")
    if info.st_size > limit:
        raise ValueError(f"file too large ({info.st_size:,} bytes; the limit is {limit:,})")
    # O_NONBLOCK: should the file have been swapped for a FIFO since the stat, open does not block.
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(descriptor, "rb") as handle:
        # Sized by the stat, not the limit: a buffer of the limit (4 MB) for every 1 KB config cost
        # ~0.13 ms a file, 160 ms on 1,000 files.
        data = handle.read(info.st_size + 1)
        if len(data) > info.st_size:  # it grew since the stat, or is a /proc-style file of size 0
            data += handle.read(limit + 1 - len(data))
    if len(data) > limit:
        raise ValueError(f"file too large (more than {limit:,} bytes)")
    return data


class FileText:
    """A file's text for the writers (no BOM, ``\\n`` line endings) and how to restore its bytes."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.bom = raw.startswith(BOM)
        body = raw[len(BOM) :] if self.bom else raw
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise WriteRefused("is not UTF-8; not changed") from None
        crlf = text.count("\r\n")
        lone_cr = text.count("\r") - crlf
        lone_lf = text.count("\n") - crlf
        kinds = [kind for kind, count in (("\r\n", crlf), ("\r", lone_cr), ("\n", lone_lf)) if count]
        if len(kinds) > 1:
            raise WriteRefused("has mixed line endings; not changed (a fix would have to pick one)")
        self.newline = kinds[0] if kinds else "\n"
        self.text = text.replace(self.newline, "\n") if self.newline != "\n" else text

    def encode(self, text: str) -> bytes:
        if self.newline != "\n":
            text = text.replace("\n", self.newline)
        return (BOM if self.bom else b"") + text.encode("utf-8")


def check_writable(path: Path) -> None:
    """Raise WriteRefused when ``fix`` must not write ``path``."""
    if path.is_symlink():
        # Lexically normalised, never resolved: resolving would name the blob, not the snapshot folder.
        from shlex import quote

        folder = os.path.abspath(path.parent)
        source = quote(os.path.join(folder, path.name))
        raise WriteRefused(
            f"is a symbolic link; in the Hugging Face cache it points at a blob that other revisions share. Make "
            f"a local copy that links the weights instead of copying them (GNU cp): cp -rs {quote(folder)} ./model "
            f"&& cp --remove-destination -L {source} ./model/{quote(path.name)}; then load ./model instead of "
            "the Hub id and run fix again"
        )
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise WriteRefused("is not a regular file; not changed")
    if info.st_nlink > 1:
        raise WriteRefused(f"has {info.st_nlink} hard links; writing would split them. Not changed")
    # The mode bits, not just access(2): root may write anywhere, but a 0444 file says "leave me".
    if not info.st_mode & 0o222 or not os.access(path, os.W_OK):
        raise WriteRefused("is read-only; not changed")


def write_atomically(path: Path, old: bytes, new: bytes) -> None:
    """Replace ``path``'s bytes with ``new`` if it still holds ``old``; never through a link."""
    check_writable(path)
    info = path.stat()
    import tempfile  # only a write needs it; a check never writes (and tempfile imports random)

    # The writer's process id is in the name, so another fix running beside this one never takes this
    # file for a stale one (fuzz N10).
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f"{TEMP_PREFIX}{os.getpid()}-{path.name}.", suffix=TEMP_SUFFIX
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(new)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, stat.S_IMODE(info.st_mode))
        if (info.st_uid, info.st_gid) != (os.getuid(), os.getgid()):
            try:
                os.chown(temporary, info.st_uid, info.st_gid)
            except PermissionError:
                raise WriteRefused("is owned by another user, and its owner could not be kept; not changed") from None
        with open(path, "rb") as handle:
            if handle.read() != old:
                raise WriteRefused("changed on disk since it was read; not written")
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _left_by_a_dead_fix(name: str) -> bool:
    """``.gemma-doctor-<pid>-<file>.<random>.tmp`` whose process is gone. A live process's file (another fix
    writing beside this one), or a file of that shape without a process id, is not ours to remove."""
    if not (name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX)):
        return False
    pid, dash, _rest = name[len(TEMP_PREFIX) :].partition("-")
    if not dash or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return True  # this process's own, from an earlier pass that failed
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError, OSError):
        return False  # alive under another user, or not a process id at all
    return False


def remove_stale_temporaries(directories: set[Path]) -> int:
    """Temporary files a killed ``fix`` left behind: our own prefix, suffix and a process id that is gone."""
    removed = 0
    for directory in directories:
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in names:
            if _left_by_a_dead_fix(name):
                try:
                    os.unlink(directory / name)
                    removed += 1
                except OSError:
                    pass
    return removed
