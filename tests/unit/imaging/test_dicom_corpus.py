"""pydicom's own test corpus, file by file: each file with pixel data renders, or fails with a
reason a person can act on (a RenderError code, English and Spanish wording, no library or
Python error text); every other file fails the same way, never with a raw exception.

The corpus is the one the installed pydicom wheel ships (``pydicom/data/test_files``): it is
available offline. pydicom's larger corpus (the pydicom-data repository, fetched on demand by
``get_testdata_file``) is not used: CI has no network for it.
"""

from __future__ import annotations

import io
import warnings
import zlib
from pathlib import Path

import numpy as np
import pydicom
import pydicom.data
import pytest
from conftest import pixels
from PIL import Image
from pydicom.uid import DeflatedExplicitVRLittleEndian, JPEGBaseline8Bit

import chalicelib.imaging.dicom as dicom_module
from chalicelib.imaging.contracts import RENDER_ERROR_CODES
from chalicelib.imaging.render import RenderError, RenderOptions, render

CORPUS = Path(pydicom.data.__file__).parent / "test_files"
FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix != ".py")
PNG = RenderOptions(xray_full_format="png")

# Files with a pixel data element that do not render, and why (pydicom cannot decode any of
# them either). Every other file with pixel data must render.
UNRENDERABLE = {
    "JPEG2000-embedded-sequence-delimiter.dcm": "corrupt",  # a delimiter inside a fragment
    "MR_truncated.dcm": "truncated",  # pixel data 62 bytes short
    "badVR.dcm": "corrupt",  # an IS value of '1A' in the image description
    "meta_missing_tsyntax.dcm": "no_image",  # 2 bytes of pixel data, no rows or columns
    "nested_priv_SQ.dcm": "no_image",  # likewise
}
# What a reason must never show: Python's or a decoder library's own words.
LIBRARY_WORDS = (
    "Traceback",
    "NoneType",
    "object has no attribute",
    "invalid literal",
    "exceptions were raised",
    "plugin",
    "Error decoding",
)


def _has_pixel_data(path: Path) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = pydicom.dcmread(path, force=True)
        except Exception:
            return False
    return any(tag in ds for tag in (0x7FE00010, 0x7FE00008, 0x7FE00009))


def _name(path: Path) -> str:
    return str(path.relative_to(CORPUS))


def assert_actionable(exc: RenderError, code: str | None = None) -> None:
    assert exc.code in RENDER_ERROR_CODES
    if code is not None:
        assert exc.code == code, exc.reason
    assert exc.reason_es and exc.reason_es != exc.reason, exc.reason
    for words in LIBRARY_WORDS:
        assert words not in exc.reason and words not in exc.reason_es, exc.reason


def test_the_corpus_is_there():
    names = {p.name for p in FILES}
    assert {"image_dfl.dcm", "SC_rgb_jpeg.dcm", "CT_small.dcm"} <= names
    assert sum(_has_pixel_data(p) for p in FILES) >= 60


@pytest.mark.parametrize("path", FILES, ids=_name)
def test_every_corpus_file_renders_or_says_why(path):
    data = path.read_bytes()
    if _has_pixel_data(path) and path.name not in UNRENDERABLE:
        result = render(data, "dicom", PNG)
        assert set(result.renditions) == {"thumb", "preview", "full"}
        for r in result.renditions.values():
            im = Image.open(io.BytesIO(r.data))
            im.load()
            assert im.size == (r.width, r.height) and min(im.size) >= 1
        assert (result.width, result.height) == (
            result.metadata["columns"],
            result.metadata["rows"],
        )
        return
    with pytest.raises(RenderError) as err:
        render(data, "dicom", PNG)
    assert_actionable(err.value, UNRENDERABLE.get(path.name))


def _pydicom_pixels(path: Path) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(path).pixel_array


def test_deflated_explicit_vr_renders_its_pixels_exactly():
    path = CORPUS / "image_dfl.dcm"
    result = render(path.read_bytes(), "dicom", PNG)
    assert result.metadata["transfer_syntax"] == DeflatedExplicitVRLittleEndian
    assert result.metadata["transfer_syntax_name"] == "Deflated Explicit VR Little Endian"
    expected = _pydicom_pixels(path)
    assert expected.dtype == np.uint8  # 8-bit MONOCHROME2 without a window: shown as stored
    assert np.array_equal(pixels(result.renditions["full"].data), expected)


def test_jpeg_baseline_written_with_implicit_vr_renders_its_colours():
    """SC_rgb_jpeg.dcm says JPEG Baseline (explicit VR) but is written with implicit VR."""
    path = CORPUS / "SC_rgb_jpeg.dcm"
    result = render(path.read_bytes(), "dicom", PNG)
    assert result.metadata["transfer_syntax"] == JPEGBaseline8Bit
    expected = _pydicom_pixels(path).astype(np.int16)  # RGB, as pydicom converts it
    got = pixels(result.renditions["full"].data).astype(np.int16)
    assert got.shape == expected.shape
    assert np.abs(got - expected).mean() < 3  # the full rendition is a q88 JPEG


def _deflated(body: bytes) -> bytes:
    """image_dfl.dcm with its deflated data set replaced by ``body`` deflated."""
    data = (CORPUS / "image_dfl.dcm").read_bytes()
    fp = io.BytesIO(data)
    pydicom.filereader.read_preamble(fp, False)
    pydicom.filereader._read_file_meta_info(fp)
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return data[: fp.tell()] + packer.compress(body) + packer.flush()


def test_a_deflate_bomb_is_refused_before_it_is_inflated_whole(monkeypatch):
    inflated = []
    real = zlib.decompressobj

    def spy(*args):
        inflater = real(*args)

        class Spy:
            unconsumed_tail = b""

            def decompress(self, data, max_length=0):
                out = inflater.decompress(data, max_length)
                inflated.append(len(out))
                return out

        return Spy()

    monkeypatch.setattr(dicom_module.zlib, "decompressobj", spy)
    bomb = _deflated(b"\0" * (3 * 1024 * 1024))  # a few KB that inflate to 3 MB
    with pytest.raises(RenderError) as err:
        render(bomb, "dicom", RenderOptions(max_bytes_dicom=1024 * 1024))
    assert_actionable(err.value, "too_large")
    assert "more than 1 MB" in err.value.reason
    assert max(inflated) <= 1024 * 1024 + 1  # never more than the limit in memory


def test_a_corrupt_deflated_data_set_says_so():
    data = (CORPUS / "image_dfl.dcm").read_bytes()
    fp = io.BytesIO(data)
    pydicom.filereader.read_preamble(fp, False)
    pydicom.filereader._read_file_meta_info(fp)
    broken = data[: fp.tell()] + b"\xff" * 64  # not a deflate stream (invalid block type)
    with pytest.raises(RenderError) as err:
        render(broken, "dicom")
    assert_actionable(err.value, "corrupt")
    assert "cannot be inflated" in err.value.reason


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"%PDF-1.7\n" + b"x" * 200, "not_an_image"),
        (b"GIF89a" + b"\0" * 200, "not_an_image"),
    ],
)
def test_sniffed_refusals_carry_a_code_and_spanish(data, code):
    with pytest.raises(RenderError) as err:
        render(data, "photo")
    assert_actionable(err.value, code)


def test_a_decoder_failure_is_worded_without_the_decoders_text():
    path = CORPUS / "JPEG2000-embedded-sequence-delimiter.dcm"
    with pytest.raises(RenderError) as err:
        render(path.read_bytes(), "dicom")
    assert err.value.reason.startswith("DICOM pixel data is corrupt and cannot be decoded")
    assert "export the image again" in err.value.reason
    assert "exporta la imagen de nuevo" in err.value.reason_es


def test_unknown_render_error_codes_are_refused():
    with pytest.raises(ValueError):
        RenderError("x", "no_such_code")
