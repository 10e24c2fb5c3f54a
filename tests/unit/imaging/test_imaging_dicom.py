"""DICOM: transfer syntaxes, windowing, MONOCHROME1, colour, frames, metadata, PHI."""

from __future__ import annotations

import io
import logging

import numpy as np
import pytest
from conftest import assert_no_metadata, pixels
from imaging_samples import (
    PATIENT_ID,
    PATIENT_NAME,
    base_dataset,
    compressed_dicom,
    dicom_bytes,
    gdcm_transcode,
    gradient16,
    jpeg_baseline_dicom,
    native_dicom,
    read_ts,
    two_tone,
)
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.pixels import convert_color_space
from pydicom.uid import (
    JPEG2000,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGExtended12Bit,
    JPEGLossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)

import chalicelib.imaging.dicom as dicom_module
from chalicelib.imaging.render import RenderError, RenderOptions, render

ROWS, COLS = 240, 360
PNG = RenderOptions(xray_full_format="png")


def full_pixels(result) -> np.ndarray:
    return pixels(result.renditions["full"].data)


def dicom_window_reference(values: np.ndarray, center: float, width: float) -> np.ndarray:
    """DICOM PS3.3 C.11.2.1.2.1 LINEAR window, to 8 bits."""
    x = values.astype(np.float64)
    y = np.clip((x - (center - 0.5)) / (width - 1) + 0.5, 0, 1)
    return np.rint(y * 255).astype(np.uint8)


@pytest.fixture(scope="module")
def gradient():
    return gradient16(ROWS, COLS, 12)


@pytest.fixture(scope="module")
def reference(gradient):
    return full_pixels(render(native_dicom(gradient), "dicom", PNG))


def test_native_12bit_is_windowed_not_clipped(reference):
    assert reference.dtype == np.uint8 and reference.ndim == 2
    assert len(np.unique(reference)) > 200
    assert (reference == 255).mean() < 0.02
    assert (reference == 0).mean() < 0.02
    # The gradient runs left to right: column means rise steadily.
    assert np.all(np.diff(reference.mean(axis=0)) >= 0)


@pytest.mark.parametrize(
    ("name", "build", "ts"),
    [
        ("implicit, no preamble", lambda a: native_dicom(a, preamble=False), None),
        ("RLE", lambda a: compressed_dicom(a, RLELossless), RLELossless),
        ("JPEG 2000 lossless", lambda a: compressed_dicom(a, JPEG2000Lossless), JPEG2000Lossless),
        ("JPEG-LS lossless", lambda a: compressed_dicom(a, JPEGLSLossless), JPEGLSLossless),
        ("JPEG lossless SV1", lambda a: gdcm_transcode(native_dicom(a)), JPEGLosslessSV1),
        (
            "JPEG lossless process 14",
            lambda a: gdcm_transcode(native_dicom(a), "JPEGLosslessProcess14"),
            JPEGLossless,
        ),
    ],
)
def test_lossless_transfer_syntaxes_render_identically(name, build, ts, gradient, reference):
    data = build(gradient)
    if ts is not None:
        assert read_ts(data) == ts
    else:
        assert data[128:132] != b"DICM"
    result = render(data, "dicom", PNG)
    assert np.array_equal(full_pixels(result), reference), name
    assert result.renditions["full"].filename == "full.png"


@pytest.mark.parametrize(
    ("build", "ts"),
    [
        (lambda a: compressed_dicom(a, JPEG2000, encode={"j2k_psnr": [60]}), JPEG2000),
        (lambda a: gdcm_transcode(native_dicom(a), "JPEGExtendedProcess2_4"), JPEGExtended12Bit),
        (
            lambda a: compressed_dicom(a, JPEGLSNearLossless, encode={"jls_error": 3}),
            JPEGLSNearLossless,
        ),
    ],
)
def test_lossy_12bit_transfer_syntaxes_render_close(build, ts, gradient, reference):
    data = build(gradient)
    assert read_ts(data) == ts
    result = render(data, "dicom", PNG)
    assert result.metadata["transfer_syntax"] == ts
    diff = np.abs(full_pixels(result).astype(int) - reference.astype(int))
    assert diff.mean() < 2.0
    # GDCM's 12-bit codec can wrap a black pixel's undershoot round to white: allow 0.1%.
    assert (diff > 12).mean() < 0.001


def test_jpeg_baseline_greyscale_8bit():
    data = jpeg_baseline_dicom(two_tone(300, 200).convert("L"))
    result = render(data, "dicom", PNG)
    assert result.metadata["bits_stored"] == 8 and result.metadata["windowing"] == "identity"
    arr = full_pixels(result)
    assert arr.ndim == 2 and abs(int(arr[100, 50]) - 76) <= 3  # red as luma, kept as is
    assert abs(int(arr[100, 250]) - 29) <= 3  # blue as luma


@pytest.mark.parametrize("ts", [JPEG2000Lossless, JPEGLSLossless], ids=str)
def test_greyscale_j2k_and_jpegls_skip_pydicoms_copies(ts, gradient, reference, monkeypatch):
    # Decoded by OpenJPEG / CharLS directly: pydicom's pixel pipeline is not involved.
    def refuse(*_a, **_k):
        raise AssertionError("pydicom's pixel_array was used")

    monkeypatch.setattr(dicom_module, "pixel_array", refuse)
    result = render(compressed_dicom(gradient, ts), "dicom", PNG)
    assert np.array_equal(full_pixels(result), reference)


def test_direct_decode_takes_the_requested_frame_only():
    frames = np.stack([np.full((64, 96), v, np.uint16) for v in (0, 1000, 2000, 3000, 4000)])
    ds = base_dataset(rows=64, cols=96, frames=5, modality="CT")
    ds.WindowCenter, ds.WindowWidth = 2000, 4001
    ds.PixelData = frames.tobytes()
    ds.compress(JPEG2000Lossless, frames)
    from pydicom.encaps import encapsulate, generate_frames

    fragments = list(generate_frames(ds.PixelData, number_of_frames=5))
    ds.PixelData = encapsulate([f if i == 2 else b"\0" * 64 for i, f in enumerate(fragments)])
    result = render(dicom_bytes(ds), "dicom", PNG)
    assert result.metadata["frame_index"] == 2
    assert abs(full_pixels(result).mean() - 127.5) < 2


def test_signed_jpegls_goes_through_pydicom_and_keeps_its_sign(monkeypatch):
    hu = (gradient16(ROWS, COLS, 12).astype(np.int32) - 2048).astype(np.int16)
    ds = base_dataset(rows=ROWS, cols=COLS, modality="CT")
    ds.PixelRepresentation = 1
    ds.PixelData = hu.tobytes()
    ds.compress(JPEGLSLossless, hu)
    calls = []
    real = dicom_module.pixel_array
    monkeypatch.setattr(
        dicom_module, "pixel_array", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    result = render(dicom_bytes(ds), "dicom", PNG)
    assert calls == [1]
    native = ds.copy()
    native.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    native.PixelData = hu.tobytes()
    expected = full_pixels(render(dicom_bytes(native), "dicom", PNG))
    assert np.array_equal(full_pixels(result), expected)
    assert np.all(np.diff(expected.mean(axis=0)) >= 0)  # negatives stay dark, not wrapped


def test_jpeg_baseline_ybr_colour_is_converted_to_rgb():
    data = jpeg_baseline_dicom(two_tone(300, 200))
    result = render(data, "dicom", PNG)
    assert result.metadata["photometric_interpretation"] == "YBR_FULL_422"
    full = Image.open(io.BytesIO(result.renditions["full"].data))
    assert full.format == "JPEG" and full.mode == "RGB"  # colour DICOM renders like a photo
    arr = np.asarray(full)
    assert arr[100, 50][0] > 200 and arr[100, 50][2] < 60  # red stays red
    assert arr[100, 250][2] > 200 and arr[100, 250][0] < 60


def test_native_ybr_full_is_converted_to_rgb():
    rgb = np.asarray(two_tone(200, 100))
    ybr = convert_color_space(rgb, "RGB", "YBR_FULL")
    data = native_dicom(
        ybr, photometric="YBR_FULL", samples=3, bits_stored=8, bits_allocated=8, modality="XC"
    )
    arr = full_pixels(render(data, "dicom", PNG))
    assert arr[50, 20][0] > 230 and arr[50, 20][2] < 30
    assert arr[50, 180][2] > 230 and arr[50, 180][0] < 30


def test_palette_colour_is_applied():
    ds = base_dataset(
        rows=100,
        cols=200,
        modality="OT",
        photometric="PALETTE COLOR",
        bits_stored=8,
        bits_allocated=8,
    )
    idx = np.full((100, 200), 10, np.uint8)
    idx[:, 100:] = 200
    red = np.where(np.arange(256) < 128, 65535, 0).astype(np.uint16)
    for colour, lut in (("Red", red), ("Green", np.zeros(256, np.uint16)), ("Blue", ~red)):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [256, 0, 16])
        setattr(ds, f"{colour}PaletteColorLookupTableData", lut.tobytes())
    ds.PixelData = idx.tobytes()
    arr = full_pixels(render(dicom_bytes(ds), "dicom", PNG))
    assert arr[50, 50].tolist() == [255, 0, 0] or arr[50, 50][0] > 245 and arr[50, 50][2] < 10
    assert arr[50, 150][2] > 245 and arr[50, 150][0] < 10


def test_monochrome1_is_inverted_exactly_once(gradient, reference):
    mono1 = full_pixels(render(native_dicom(gradient, photometric="MONOCHROME1"), "dicom", PNG))
    assert np.array_equal(mono1, 255 - reference)
    # Also through a compressed syntax and with an explicit window.
    data = compressed_dicom(gradient, RLELossless, photometric="MONOCHROME1")
    assert np.array_equal(full_pixels(render(data, "dicom", PNG)), 255 - reference)


def _with_window(arr, center, width, **extra) -> bytes:
    ds = base_dataset(rows=arr.shape[0], cols=arr.shape[1], **extra)
    ds.PixelData = arr.tobytes()
    ds.WindowCenter, ds.WindowWidth = center, width
    return dicom_bytes(ds)


def test_window_center_width_is_applied(gradient):
    result = render(_with_window(gradient, 1000, 500), "dicom", PNG)
    assert result.metadata["windowing"] == "dicom-window"
    expected = dicom_window_reference(gradient, 1000, 500)
    assert np.abs(full_pixels(result).astype(int) - expected.astype(int)).max() <= 1
    mono1 = render(_with_window(gradient, 1000, 500, photometric="MONOCHROME1"), "dicom", PNG)
    assert np.abs(full_pixels(mono1).astype(int) - (255 - expected).astype(int)).max() <= 1


def test_rescale_slope_intercept_then_window(gradient):
    ds = base_dataset(rows=ROWS, cols=COLS)
    ds.PixelData = gradient.tobytes()
    ds.RescaleSlope, ds.RescaleIntercept = 2, -1024
    ds.WindowCenter, ds.WindowWidth = 2000, 3000  # in rescaled (modality) units
    result = render(dicom_bytes(ds), "dicom", PNG)
    expected = dicom_window_reference(gradient.astype(np.float64) * 2 - 1024, 2000, 3000)
    assert np.abs(full_pixels(result).astype(int) - expected.astype(int)).max() <= 1


def test_signed_ct_like_data_uses_percentile_window():
    hu = (gradient16(ROWS, COLS, 12).astype(np.int32) - 2048).astype(np.int16)
    ds = base_dataset(rows=ROWS, cols=COLS, modality="CT")
    ds.PixelRepresentation = 1
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1000
    ds.PixelData = hu.tobytes()
    result = render(dicom_bytes(ds), "dicom", PNG)
    arr = full_pixels(result)
    assert result.metadata["windowing"] == "percentile"
    assert len(np.unique(arr)) > 200 and (arr == 255).mean() < 0.02
    assert result.metadata["xray_type_hint"] == "cbct"


def test_voi_lut_sequence_is_applied():
    ramp = np.tile((np.arange(256) * 16).astype(np.uint16), (50, 1))
    ds = base_dataset(rows=50, cols=256)
    ds.PixelData = ramp.tobytes()
    item = Dataset()
    item.LUTDescriptor = [4096, 0, 16]
    item.LUTData = (255 - np.arange(4096) // 16).astype(np.uint16).tobytes()  # inverting LUT
    item["LUTData"].VR = "OW"
    ds.VOILUTSequence = [item]
    result = render(dicom_bytes(ds), "dicom", PNG)
    assert result.metadata["windowing"] == "dicom-voi-lut"
    arr = full_pixels(result)
    assert np.array_equal(arr[0], (255 - np.arange(256)).astype(np.uint8))


def test_multiframe_renders_the_middle_frame_only():
    frames = np.stack([np.full((64, 96), v, np.uint16) for v in (0, 1000, 2000, 3000, 4000)])
    ds = base_dataset(rows=64, cols=96, frames=5, modality="CT")
    ds.WindowCenter, ds.WindowWidth = 2000, 4001
    ds.PixelData = frames.tobytes()
    ds.compress(RLELossless, frames)
    data = dicom_bytes(ds)
    result = render(data, "dicom", PNG)
    assert result.metadata["frame_index"] == 2 and result.metadata["number_of_frames"] == 5
    assert abs(full_pixels(result).mean() - 127.5) < 2

    # Corrupt every other frame's RLE header: only the middle frame may be decoded.
    from pydicom import dcmread
    from pydicom.encaps import encapsulate, generate_frames

    parsed = dcmread(io.BytesIO(data))
    fragments = list(generate_frames(parsed.PixelData, number_of_frames=5))
    broken = [f if i == 2 else b"\xff" * len(f) for i, f in enumerate(fragments)]
    parsed.PixelData = encapsulate(broken)
    buf = io.BytesIO()
    parsed.save_as(buf)
    result = render(buf.getvalue(), "dicom", PNG)
    assert abs(full_pixels(result).mean() - 127.5) < 2


def test_native_volume_decodes_a_single_frame_by_index(monkeypatch):
    calls = []
    real = dicom_module.pixel_array

    def spy(src, **kwargs):
        calls.append(kwargs.get("index"))
        return real(src, **kwargs)

    monkeypatch.setattr(dicom_module, "pixel_array", spy)
    volume = np.stack([np.full((32, 32), i * 100, np.uint16) for i in range(9)])
    result = render(native_dicom(volume, modality="CT"), "dicom", PNG)
    assert calls == [4]
    assert result.metadata["frame_index"] == 4


def test_metadata_fields():
    ds = base_dataset(rows=64, cols=64, modality="PX")
    ds.PixelData = gradient16(64, 64, 12).tobytes()
    meta = render(dicom_bytes(ds), "dicom", PNG).metadata
    assert meta["acquisition_date"] == "2024-01-31"
    assert meta["modality"] == "PX" and meta["xray_type_hint"] == "panoramic"
    assert meta["patient_name"] == PATIENT_NAME and meta["patient_id"] == PATIENT_ID
    assert meta["body_part"] == "JAW"
    assert (meta["rows"], meta["columns"]) == (64, 64)
    assert meta["photometric_interpretation"] == "MONOCHROME2"
    assert (meta["bits_stored"], meta["bits_allocated"]) == (12, 16)
    assert meta["number_of_frames"] == 1
    assert meta["transfer_syntax"] == ExplicitVRLittleEndian
    import json

    json.dumps(meta)  # JSON-serialisable


@pytest.mark.parametrize(
    ("modality", "description", "hint"),
    [
        ("PX", None, "panoramic"),
        ("IO", None, "periapical"),
        ("IO", "Bitewing left", "bite-wing"),
        ("CT", None, "cbct"),
        ("DX", "CEPH LAT", "cephalometric"),
        ("DX", None, None),
    ],
)
def test_xray_type_hint(modality, description, hint):
    ds = base_dataset(rows=16, cols=16, modality=modality)
    if description:
        ds.SeriesDescription = description
    ds.PixelData = gradient16(16, 16, 12).tobytes()
    assert render(dicom_bytes(ds), "dicom", PNG).metadata["xray_type_hint"] == hint


def test_phi_is_returned_but_never_logged(caplog, gradient):
    caplog.set_level(logging.DEBUG)
    data = native_dicom(gradient)
    result = render(data, "dicom", PNG)
    assert result.metadata["patient_name"] == PATIENT_NAME
    assert PATIENT_NAME not in repr(result) and PATIENT_ID not in repr(result)
    with pytest.raises(RenderError) as err:
        render(data[:-5000], "dicom", PNG)
    assert PATIENT_NAME not in err.value.reason
    assert caplog.records  # something was logged at DEBUG...
    for secret in (PATIENT_NAME, PATIENT_ID, "Pérez", "HC-000123"):
        assert secret not in caplog.text  # ...but no PHI


def test_grayscale_dicom_full_can_be_jpeg_and_renditions_are_clean(gradient):
    result = render(native_dicom(gradient), "dicom", RenderOptions(xray_full_format="jpeg"))
    full = result.renditions["full"]
    assert full.filename == "full.jpg" and full.content_type == "image/jpeg"
    for r in result.renditions.values():
        assert_no_metadata(r.data, PATIENT_NAME.encode(), PATIENT_ID.encode())
    assert result.renditions["thumb"].width == 200 and result.width == COLS
