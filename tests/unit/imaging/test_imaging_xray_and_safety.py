"""Raster X-rays (16-bit windowing) and safety: bombs, corrupt, truncated, mislabelled."""

from __future__ import annotations

import io
import random

import numpy as np
import pytest
from conftest import pixels
from imaging_samples import (
    PDF,
    base_dataset,
    bomb_png,
    compressed_dicom,
    dicom_bytes,
    gradient16,
    native_dicom,
    photo_jpeg,
    png_bytes,
    two_tone,
    xray_png16,
)
from PIL import Image
from pydicom.uid import RLELossless

from chalicelib.imaging.render import RenderError, RenderOptions, render
from chalicelib.imaging.xray import to_8bit


@pytest.mark.parametrize("bits", [12, 16])
def test_16bit_png_xray_is_windowed_not_clipped(bits):
    data = xray_png16(bits=bits)
    naive = np.asarray(Image.open(io.BytesIO(data)).convert("L"))
    if bits == 12:
        assert (naive == 255).mean() > 0.9  # the bug we must not have: a plain conversion
    result = render(data, "xray", RenderOptions(xray_full_format="png"))
    assert result.metadata["windowing"] == "percentile"
    for name in ("full", "preview"):
        arr = pixels(result.renditions[name].data)
        assert arr.ndim == 2  # greyscale
        assert len(np.unique(arr)) > 200
        assert (arr == 255).mean() < 0.02 and (arr == 0).mean() < 0.02
        hist = np.histogram(arr, bins=8, range=(0, 256))[0] / arr.size
        assert hist.min() > 0.08  # the gradient fills the whole grey range evenly
    assert result.renditions["full"].filename == "full.png"


def test_16bit_tiff_xray_and_jpeg_full_option():
    arr = gradient16(500, 900, 16)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "TIFF")
    result = render(buf.getvalue(), "xray", RenderOptions(xray_full_format="jpeg"))
    full = result.renditions["full"]
    assert full.filename == "full.jpg" and full.content_type == "image/jpeg"
    out = pixels(full.data)
    assert len(np.unique(out)) > 200 and (out == 255).mean() < 0.02
    assert result.content_type == "image/tiff"


def test_rgb_xray_export_is_stored_as_greyscale():
    grey = Image.fromarray(np.tile(np.arange(256, dtype=np.uint8), (300, 4))).convert("RGB")
    buf = io.BytesIO()
    grey.save(buf, "JPEG", quality=95)
    result = render(buf.getvalue(), "xray", RenderOptions())
    assert Image.open(io.BytesIO(result.renditions["full"].data)).mode == "L"


def test_to_8bit_lut_matches_float_path_and_inverts_once():
    rng = np.random.default_rng(1)
    arr = rng.integers(-2000, 3000, size=(300, 400)).astype(np.int16)
    lut, info = to_8bit(arr)
    flt, info_f = to_8bit(arr.astype(np.float32))
    assert info.method == info_f.method == "percentile"
    assert np.abs(lut.astype(int) - flt.astype(int)).max() <= 1
    inv, inv_info = to_8bit(arr, invert=True)
    assert inv_info.inverted and np.array_equal(inv, 255 - lut)
    flat, _ = to_8bit(np.full((10, 10), 7, np.uint16))
    assert np.unique(flat).size == 1  # a flat image does not divide by zero


# --- safety ------------------------------------------------------------------------------------


def reason(data: bytes, kind: str = "photo", **opts) -> str:
    with pytest.raises(RenderError) as err:
        render(data, kind, RenderOptions(**opts))
    return err.value.reason


def test_pdf_declared_as_photo_is_refused_as_pdf():
    assert reason(PDF) == (
        "File is not a supported image: looks like a PDF (upload it as a document instead)"
    )


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "empty"),
        (b"PK\x03\x04" + b"\0" * 100, "ZIP"),
        (b"GIF89a" + b"\0" * 100, "GIF"),
        (b"hello, this is a text file\n" * 4, "text"),
        (b"<html><body>login</body></html>", "HTML"),
        (b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom" + b"\0" * 64, "video"),
        (b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf" + b"\0" * 64, "AVIF"),
    ],
)
def test_unsupported_types_name_what_they_look_like(data, needle):
    assert needle.lower() in reason(data).lower()


def test_declared_kind_must_match_dicom_or_not():
    assert "uploaded as DICOM but is a JPEG" in reason(photo_jpeg(), "dicom")
    dcm = native_dicom(gradient16(32, 32, 12))
    assert "is a DICOM object" in reason(dcm, "photo")
    assert "Unknown image kind" in reason(photo_jpeg(), "video")


def test_byte_limits_follow_the_declared_kind():
    data = photo_jpeg(orientation=1)
    assert reason(data, max_bytes_photo=1000).startswith("File is too large:")
    dcm = native_dicom(gradient16(64, 64, 12))
    assert "allowed for DICOM" in reason(dcm, "dicom", max_bytes_dicom=1000)
    render(dcm, "dicom", RenderOptions(max_bytes_photo=10))  # the DICOM limit applies


def test_decompression_bombs_are_refused_before_decoding():
    assert reason(bomb_png()) == (
        "Image is too large to process safely (decompression bomb): 400 megapixels > 120"
    )
    # Below Pillow's own threshold but above ours (11000 x 11000 = 121 MP).
    assert "121 megapixels > 120" in reason(bomb_png(11000, 11000))
    assert "decompression bomb" in reason(png_bytes(two_tone(400, 300)), max_pixels=100_000)
    # A DICOM header declaring a huge frame over a few bytes of pixel data.
    ds = base_dataset(rows=20000, cols=20000)
    ds.PixelData = b"\0" * 64
    assert "decompression bomb" in reason(dicom_bytes(ds), "dicom")
    ds = base_dataset(rows=1000, cols=1000, frames=5000)
    ds.PixelData = b"\0" * 64
    assert "volume is too large" in reason(dicom_bytes(ds), "dicom")


def test_truncated_files():
    jpeg = photo_jpeg(orientation=1)
    assert "JPEG file is truncated" in reason(jpeg[: len(jpeg) // 2])
    png = png_bytes(
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (300, 300, 3), dtype=np.uint8))
    )
    assert "PNG file is" in reason(png[: len(png) // 2])
    native = native_dicom(gradient16(100, 100, 12))
    assert reason(native[:-500], "dicom").startswith(
        "DICOM file is truncated: pixel data ends early"
    )
    rle = compressed_dicom(gradient16(100, 100, 12), RLELossless)
    assert reason(rle[:-200], "dicom") == "DICOM file is truncated: pixel data ends early"
    assert "DICOM" in reason(native[:140], "dicom")


def test_corrupt_files():
    assert "header is corrupt" in reason(b"\xff\xd8\xff\xe0" + b"\x13" * 200)
    dicom_garbage = b"\0" * 128 + b"DICM" + bytes(range(256)) * 4
    assert "DICOM" in reason(dicom_garbage, "dicom")
    ds = base_dataset(rows=64, cols=64)  # an image header but no pixel data at all
    assert "no pixel data" in reason(dicom_bytes(ds), "dicom")
    ds = base_dataset(rows=64, cols=64)
    del ds.Rows
    ds.PixelData = b"\0" * 8192
    assert "no image" in reason(dicom_bytes(ds), "dicom")


def test_corrupt_compressed_frame_has_a_decoder_reason():
    rle = bytearray(compressed_dicom(gradient16(100, 100, 12), RLELossless))
    header = rle.find(b"\xfe\xff\x00\xe0", rle.find(b"\xfe\xff\x00\xe0") + 4) + 8
    rle[header : header + 64] = b"\xff" * 64  # the RLE segment table of the frame
    assert reason(bytes(rle), "dicom").startswith("DICOM pixel data is corrupt")


@pytest.mark.parametrize("seed", range(12))
def test_random_corruption_never_leaks_a_raw_exception(seed):
    rng = random.Random(seed)
    sources = [
        photo_jpeg(600, 400, orientation=1),
        png_bytes(two_tone(300, 200)),
        native_dicom(gradient16(64, 64, 12)),
        compressed_dicom(gradient16(64, 64, 12), RLELossless),
    ]
    for source in sources:
        data = bytearray(source)
        for _ in range(rng.randint(1, 40)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.5:
            data = data[: rng.randrange(len(data))]
        kind = "dicom" if bytes(source[128:132]) == b"DICM" else "photo"
        try:
            result = render(bytes(data), kind, RenderOptions())
        except RenderError as exc:
            assert exc.reason and isinstance(exc.reason, str)
        else:
            assert set(result.renditions) == {"thumb", "preview", "full"}
