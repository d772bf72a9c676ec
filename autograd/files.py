"""Writing files all at once: a reader sees the old file or the new one, never half of it;
and text made safe to write into XML and HTML files."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` through a temporary file in the same folder, fsync it, ``os.replace``
    it over ``path``, then fsync the folder, so the new file survives a power cut once this
    returns. Any failure or interrupt (Ctrl-C included) removes the temporary file.

    The file keeps the mode of the one it replaces, else gets 0o644 (mkstemp makes 0o600).
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(fd, path.stat().st_mode & 0o777 if path.exists() else 0o644)
            f.write(data)
            f.flush()
            os.fsync(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if os.name == "posix":  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return path


def printable(text: str) -> str:
    """``text`` with the characters XML cannot carry (C0 controls, DEL, lone surrogates,
    U+FFFE, U+FFFF) written as escapes (``\\x00``, ``\\udc80``), so any label draws literally."""
    return "".join(c if _drawable(ord(c)) else f"\\x{ord(c):02x}" if ord(c) < 0x100
                   else f"\\u{ord(c):04x}" for c in text)


def _drawable(o: int) -> bool:
    return o >= 0x20 and o != 0x7F and not 0xD800 <= o <= 0xDFFF and o not in (0xFFFE, 0xFFFF)
