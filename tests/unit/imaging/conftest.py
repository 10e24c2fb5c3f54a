"""Helpers shared by the imaging tests (inspection of rendered files)."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image

# Keys Pillow itself derives from the JPEG/PNG structure (not metadata carried over).
STRUCTURAL_INFO_KEYS = {
    "jfif",
    "jfif_version",
    "jfif_unit",
    "jfif_density",
    "progressive",
    "progression",
}


def jpeg_segments(data: bytes) -> list[int]:
    """Marker codes of the JPEG segments before the first scan (SOS)."""
    assert data[:2] == b"\xff\xd8"
    pos, markers = 2, []
    while pos < len(data):
        assert data[pos] == 0xFF, f"bad marker at {pos}"
        marker = data[pos + 1]
        if marker == 0xDA:  # SOS: entropy-coded data follows
            markers.append(marker)
            break
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        markers.append(marker)
        pos += 2 + length
    return markers


def png_chunks(data: bytes) -> list[bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(data):
        length = struct.unpack(">I", data[pos : pos + 4])[0]
        chunks.append(data[pos + 4 : pos + 8])
        pos += 12 + length
    return chunks


def assert_no_metadata(data: bytes, *secrets: bytes) -> None:
    """No EXIF/GPS/XMP/ICC/comment in a rendition, checked structurally and via Pillow."""
    im = Image.open(io.BytesIO(data))
    assert len(im.getexif()) == 0
    assert set(im.info) <= STRUCTURAL_INFO_KEYS, im.info.keys()
    if im.format == "JPEG":
        markers = jpeg_segments(data)
        # Only SOI-following JFIF APP0, tables, frame header and scan: no APP1 (EXIF/XMP),
        # APP2 (ICC), APP13 (IPTC) or COM (0xFE) segments.
        assert not [m for m in markers if 0xE1 <= m <= 0xEF or m == 0xFE], [hex(m) for m in markers]
    else:
        assert im.format == "PNG"
        assert set(png_chunks(data)) <= {b"IHDR", b"IDAT", b"IEND", b"PLTE"}, png_chunks(data)
    for secret in (b"Exif", b"ICC_PROFILE", b"adobe:ns:meta", b"GPS", *secrets):
        assert secret not in data


def pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB") if im.mode not in ("L", "RGB") else im)


@pytest.fixture
def options():
    from chalicelib.imaging.render import RenderOptions

    return RenderOptions()
