"""Animated GIF from one-image GIFs, in pure Python: the images are not re-encoded.

``animate([gif0, gif1, ...], delay)`` writes a looping GIF89a whose frames are the given
images (as ``dot -Tgif`` writes them), each keeping its own colour table, shown ``delay``
hundredths of a second, the canvas cleared between frames.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from .drawing import RenderError


def _skip_blocks(data: bytes, pos: int) -> int:
    while data[pos]:
        pos += data[pos] + 1
    return pos + 1


def _gif_frame(data: bytes) -> tuple[int, int, bytes, bytes]:
    """(width, height, graphic control extension, image block) of a one-image GIF, its
    global colour table moved into the image block as a local one."""
    if data[:6] not in (b"GIF87a", b"GIF89a"):
        raise RenderError("not a GIF image")
    width, height, packed = struct.unpack_from("<HHB", data, 6)
    pos, table = 13, b""
    if packed & 0x80:
        table = data[pos : pos + 3 * (2 << (packed & 7))]
        pos += len(table)
    transparent = b"\x00\x00"  # flags, index
    while data[pos] == 0x21:
        if data[pos + 1] == 0xF9 and data[pos + 3] & 1:  # keep a transparent colour
            transparent = bytes([1, data[pos + 6]])
        pos = _skip_blocks(data, pos + 2)
    if data[pos] != 0x2C:
        raise RenderError("GIF without an image")
    desc = bytearray(data[pos : pos + 10])
    pos += 10
    if not desc[9] & 0x80:
        desc[9] = (desc[9] & 0x60) | 0x80 | (packed & 7)
        desc += table
    end = _skip_blocks(data, pos + 1)
    return width, height, transparent, bytes(desc) + data[pos:end]


def animate(gifs: Iterable[bytes], delay: int = 100) -> bytes:
    """One looping animated GIF from one-image GIFs (as ``dot -Tgif`` writes them), each
    shown ``delay`` hundredths of a second (0 to 65535); pure Python, the images are not
    re-encoded. A bad image or delay is refused before anything is written."""
    if isinstance(delay, bool) or not isinstance(delay, int) or not 0 <= delay <= 0xFFFF:
        raise ValueError(f"animate: delay must be an int from 0 to 65535 (hundredths of a "
                         f"second), got {delay!r}")
    frames = []
    for i, gif in enumerate(gifs):
        try:
            frames.append(_gif_frame(gif))
        except (RenderError, IndexError, struct.error) as err:
            raise RenderError(f"animate: image {i} is not a whole GIF ({err})") from None
    if not frames:
        raise ValueError("animate: no images")
    width = max(f[0] for f in frames)
    height = max(f[1] for f in frames)
    out = [b"GIF89a", struct.pack("<HHBBB", width, height, 0, 0, 0),
           b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"]
    for _, _, transparent, block in frames:  # disposal 2: clear before the next frame
        out.append(b"\x21\xf9\x04" + bytes([8 | transparent[0]]) + struct.pack("<H", delay)
                   + transparent[1:] + b"\x00")
        out.append(block)
    out.append(b"\x3b")
    return b"".join(out)
