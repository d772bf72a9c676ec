"""Writing files all at once: a reader sees the old file or the new one, never half of it;
and text made safe to write into XML and HTML files."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

_KINDS = {stat.S_IFDIR: "folder", stat.S_IFIFO: "FIFO", stat.S_IFCHR: "character device",
          stat.S_IFBLK: "block device", stat.S_IFSOCK: "socket"}


def special_kind(mode: int) -> str | None:
    """None for a regular file, else what an ``st_mode`` says the file is (``"FIFO"``, ...)."""
    return None if stat.S_ISREG(mode) else _KINDS.get(stat.S_IFMT(mode), "special file")


def not_regular(path: str | os.PathLike[str], kind: str, doing: str) -> OSError:
    """The error for refusing to ``doing`` (write, load) ``path``, which is a ``kind``:
    IsADirectoryError for a folder, else OSError; one line naming the path."""
    error = IsADirectoryError if kind == "folder" else OSError
    return error(f"cannot {doing} {os.fspath(path)!r}: it is a {kind}, not a regular file")


def write_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to the regular file ``path`` names: through a temporary file in its
    folder, fsync it, ``os.replace`` it over the file, then fsync the folder, so the new file
    survives a power cut once this returns. Any failure or interrupt (Ctrl-C included)
    removes the temporary file. Returns ``Path(path)``.

    A symbolic link (or a chain of them) is written through: its final target is replaced
    (or created, for a dangling link) and the link stays a link. A path that exists and is
    not a regular file (folder, FIFO, device, socket) is refused with OSError before anything
    is written: a device is never replaced. The file keeps the mode of the one it replaces,
    else gets 0o644 (mkstemp makes 0o600).
    """
    target = Path(os.path.realpath(path))
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = stat.S_IFREG | 0o644
    kind = special_kind(mode)
    if kind is not None:
        raise not_regular(path, kind, "write")
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(fd, mode & 0o777)
            f.write(data)
            f.flush()
            os.fsync(fd)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if os.name == "posix":  # make the rename itself durable
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return Path(path)


def printable(text: str) -> str:
    """``text`` with the characters XML cannot carry (C0 controls, DEL, lone surrogates,
    U+FFFE, U+FFFF) written as escapes (``\\x00``, ``\\udc80``), so any label draws literally."""
    return "".join(c if _drawable(ord(c)) else f"\\x{ord(c):02x}" if ord(c) < 0x100
                   else f"\\u{ord(c):04x}" for c in text)


def _drawable(o: int) -> bool:
    return o >= 0x20 and o != 0x7F and not 0xD800 <= o <= 0xDFFF and o not in (0xFFFE, 0xFFFF)
