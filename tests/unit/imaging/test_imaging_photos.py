"""Photos: orientation, metadata stripping, colour management, rendition sizes."""

from __future__ import annotations

import io

import numpy as np
import pytest
from conftest import assert_no_metadata, pixels
from imaging_samples import (
    HEIC_PHOTO,
    XMP,
    make_icc_profile,
    noise_rgb,
    photo_jpeg,
    png_bytes,
    two_tone,
)
from PIL import Image

from chalicelib.imaging.render import RenderOptions, render

RED, BLUE = np.array([255, 0, 0]), np.array([0, 0, 255])


def near(pixel, colour, tol=40) -> bool:
    return bool(np.all(np.abs(pixel.astype(int) - colour) <= tol))


@pytest.mark.parametrize(
    ("orientation", "size", "red_at", "blue_at"),
    [
        # Stored: left half red, right half blue, 1600x1000.
        (1, (1600, 1000), (0.5, 0.25), (0.5, 0.75)),  # (row, col) fractions
        (3, (1600, 1000), (0.5, 0.75), (0.5, 0.25)),  # rotated 180: red on the right
        (6, (1000, 1600), (0.25, 0.5), (0.75, 0.5)),  # rotate 90 CW: red on top
        (8, (1000, 1600), (0.75, 0.5), (0.25, 0.5)),  # rotate 90 CCW: red at the bottom
    ],
)
def test_exif_orientation_is_applied_to_every_rendition(orientation, size, red_at, blue_at):
    result = render(photo_jpeg(orientation=orientation), "photo", RenderOptions())
    assert (result.width, result.height) == size
    assert result.metadata["exif_orientation"] == orientation
    for rendition in result.renditions.values():
        arr = pixels(rendition.data)
        h, w = arr.shape[:2]
        assert (w > h) == (size[0] > size[1])
        assert near(arr[int(red_at[0] * h), int(red_at[1] * w)], RED)
        assert near(arr[int(blue_at[0] * h), int(blue_at[1] * w)], BLUE)


def test_no_metadata_survives_in_any_rendition():
    original = photo_jpeg(comment=b"patient: Lucia Perez")
    src = Image.open(io.BytesIO(original))
    # The source really carries everything we want stripped.
    assert src.getexif()[0x0112] == 6 and src.getexif().get_ifd(0x8825)
    assert src.info["comment"] == b"patient: Lucia Perez"
    assert "icc_profile" in src.info and XMP[:20] in original

    result = render(original, "photo", RenderOptions())
    assert set(result.renditions) == {"thumb", "preview", "full"}
    for rendition in result.renditions.values():
        assert_no_metadata(rendition.data, b"Lucia", b"Cuspide Camera", b"Dr Secret")


def test_metadata_is_stripped_from_png_and_webp_too():
    im = two_tone(900, 600)
    exif = Image.Exif()
    exif[0x010F] = "Cuspide Camera"
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "patient: Lucia Perez")
    png = png_bytes(im, exif=exif, pnginfo=info, icc_profile=make_icc_profile())
    buf = io.BytesIO()
    im.save(buf, "WEBP", exif=exif, icc_profile=make_icc_profile(), xmp=XMP)
    for data in (png, buf.getvalue()):
        result = render(data, "photo", RenderOptions())
        for rendition in result.renditions.values():
            assert_no_metadata(rendition.data, b"Lucia", b"Cuspide Camera")


def test_icc_profile_is_converted_to_srgb_then_dropped():
    # Stored pure red + blue, but the profile swaps the primaries: it *means* blue + red.
    swapped = photo_jpeg(orientation=1, icc=make_icc_profile(swap_red_blue=True))
    result = render(swapped, "photo", RenderOptions())
    assert result.metadata["converted_to_srgb"] is True
    assert result.metadata["color_profile"] == "Cuspide swapped RGB"
    for rendition in result.renditions.values():
        arr = pixels(rendition.data)
        h, w = arr.shape[:2]
        assert arr[h // 2, w // 4][2] > 180 and arr[h // 2, w // 4][0] < 90  # now blue
        assert arr[h // 2, 3 * w // 4][0] > 180 and arr[h // 2, 3 * w // 4][2] < 90  # red
        assert "icc_profile" not in Image.open(io.BytesIO(rendition.data)).info

    # Same pixels with an sRGB-equivalent profile: colours unchanged.
    plain = render(photo_jpeg(orientation=1), "photo", RenderOptions())
    arr = pixels(plain.renditions["full"].data)
    assert near(arr[500, 400], RED)


def test_rendition_bounds_and_full_resolution():
    result = render(photo_jpeg(3000, 2000, orientation=1), "photo", RenderOptions())
    thumb, preview, full = (result.renditions[k] for k in ("thumb", "preview", "full"))
    assert (thumb.width, thumb.height) == (200, 133)
    assert (preview.width, preview.height) == (800, 533)
    assert (full.width, full.height) == (3000, 2000)
    for r in (thumb, preview, full):
        with Image.open(io.BytesIO(r.data)) as im:
            assert im.size == (r.width, r.height)
            assert im.format == "JPEG"
    assert (thumb.filename, preview.filename, full.filename) == (
        "thumb.jpg",
        "preview.jpg",
        "full.jpg",
    )
    assert result.hot_bytes == sum(r.size for r in (thumb, preview, full))
    assert result.original_bytes == len(photo_jpeg(3000, 2000, orientation=1))
    assert result.compression_ratio == pytest.approx(result.original_bytes / result.hot_bytes, 0.01)


def test_full_photo_is_progressive_jpeg_quality_88():
    result = render(photo_jpeg(1200, 900, orientation=1), "photo", RenderOptions())
    full = Image.open(io.BytesIO(result.renditions["full"].data))
    assert full.info.get("progressive") == 1
    reference = io.BytesIO()
    Image.new("RGB", (16, 16)).save(reference, "JPEG", quality=88)
    assert full.quantization == Image.open(reference).quantization


def test_noisy_photo_renditions_stay_within_byte_budgets():
    # Random noise is the worst case for JPEG: the encoder must step quality down.
    noisy = photo_jpeg(orientation=1, image=noise_rgb(2400, 1600), quality=95)
    result = render(noisy, "photo", RenderOptions())
    assert result.renditions["thumb"].size <= 50 * 1024
    assert result.renditions["preview"].size <= 200 * 1024
    assert result.renditions["preview"].width == 800


def test_small_photo_is_never_enlarged():
    result = render(png_bytes(two_tone(120, 80)), "photo", RenderOptions())
    for r in result.renditions.values():
        assert (r.width, r.height) == (120, 80)


def test_alpha_is_flattened_onto_white():
    im = Image.new("RGBA", (400, 300), (255, 0, 0, 0))  # fully transparent red
    im.paste((0, 0, 255, 255), (200, 0, 400, 300))
    result = render(png_bytes(im), "photo", RenderOptions())
    arr = pixels(result.renditions["full"].data)
    assert near(arr[150, 50], np.array([255, 255, 255]), 8)
    assert near(arr[150, 350], BLUE, 40)


def test_cmyk_and_grayscale_jpegs_render():
    buf = io.BytesIO()
    two_tone(600, 400).convert("CMYK").save(buf, "JPEG", quality=90)
    result = render(buf.getvalue(), "photo", RenderOptions())
    arr = pixels(result.renditions["preview"].data)
    assert near(arr[200, 100], RED, 60)
    buf = io.BytesIO()
    two_tone(600, 400).convert("L").save(buf, "JPEG")
    result = render(buf.getvalue(), "photo", RenderOptions())
    assert Image.open(io.BytesIO(result.renditions["full"].data)).mode == "L"


def test_exif_capture_date_becomes_acquisition_date():
    result = render(photo_jpeg(), "photo", RenderOptions())
    assert result.metadata["acquisition_date"] == "2023-05-17"
    assert result.metadata["acquisition_datetime"] == "2023-05-17T10:30:00"
    assert result.content_type == "image/jpeg" and result.kind == "photo"


def test_renditions_are_emitted_thumb_first():
    seen = []
    render(photo_jpeg(), "photo", RenderOptions(), on_rendition=lambda r: seen.append(r.name))
    assert seen == ["thumb", "preview", "full"]


def test_heic_is_decoded_turned_once_and_stripped():
    # The container's irot turns the picture; EXIF orientation 6 says the same thing and must
    # not turn it a second time (HEIF: transformative properties, not EXIF, define the display).
    assert b"Cuspide Camera" in HEIC_PHOTO and b"Dr Secret" in HEIC_PHOTO  # the source has them
    result = render(HEIC_PHOTO, "photo", RenderOptions())
    assert result.content_type == "image/heic" and result.metadata["format"] == "HEIF"
    assert (result.width, result.height) == (64, 96)
    assert result.metadata["acquisition_date"] == "2023-05-17"
    for rendition in result.renditions.values():
        arr = pixels(rendition.data)
        assert arr.shape[:2] == (96, 64)
        assert near(arr[20, 32], RED) and near(arr[76, 32], BLUE)
        assert_no_metadata(rendition.data, b"Cuspide Camera", b"Dr Secret", b"Model X")


def test_truncated_heic_fails_with_a_reason():
    from chalicelib.imaging.render import RenderError

    with pytest.raises(RenderError) as err:
        render(HEIC_PHOTO[: len(HEIC_PHOTO) // 2], "photo", RenderOptions())
    assert "HEIF" in err.value.reason
