"""Raster photos and X-rays (JPEG, PNG, TIFF, WebP, HEIC) with Pillow.

Steps: open lazily (header only) with Pillow restricted to the sniffed format, refuse
decompression bombs before any pixel is decoded, then:

* JPEG larger than the preview: decode at reduced scale with ``Image.draft`` (libjpeg's
  DCT scaling, 1/2, 1/4 or 1/8) straight to the size needed for the preview, make the
  preview and then the thumbnail from it (chained), emit both; only then decode at full
  resolution for the ``full`` rendition. Thumbnail and preview are ready in a fraction of
  the time of a full decode.
* Other formats: decode once at full resolution, chain full -> preview -> thumbnail.

Every decoded image is brought to 8-bit ``L`` or ``RGB``: 16-bit greyscale is windowed
(:mod:`chalicelib.imaging.xray`), alpha is flattened onto white, CMYK/P/etc. converted,
embedded ICC profiles are converted to sRGB with LittleCMS and then dropped, and the EXIF
orientation is applied (the table of ``ImageOps.exif_transpose``, applied after the 8-bit
conversion so the rotation copies the smallest image).
"""

from __future__ import annotations

import functools
import io
import logging
import re
import warnings
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
from PIL import Image, ImageCms, UnidentifiedImageError

from chalicelib.core.i18n import tr
from chalicelib.imaging.contracts import (
    PREVIEW_BOX,
    THUMB_BOX,
    RenderError,
    RenderOptions,
    Rendition,
)
from chalicelib.imaging.dicom import megapixels
from chalicelib.imaging.renditions import (
    RESAMPLE,
    XRAY_FULL_JPEG_QUALITY,
    downscale,
    fit_size,
    make_rendition,
)
from chalicelib.imaging.sniff import Sniffed
from chalicelib.imaging.xray import to_8bit

logger = logging.getLogger(__name__)

Emit = Callable[[Rendition], None]

_EXIF_ORIENTATION = 0x0112
_EXIF_IFD = 0x8769
_EXIF_DATETIME_ORIGINAL = 0x9003
_EXIF_DATETIME = 0x0132
# Same table as PIL.ImageOps.exif_transpose.
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_HIGH_DEPTH_MODES = {"I;16", "I;16L", "I;16B", "I;16N", "I", "F"}
_BOMB_PIXELS = re.compile(r"\((\d+) pixels\)")
_SRGB = ImageCms.createProfile("sRGB")


# --- opening -------------------------------------------------------------------------------


@functools.cache
def _register_heif() -> bool:
    try:
        from pi_heif import register_heif_opener
    except ImportError:
        return False
    register_heif_opener()
    return True


def _bomb(pixels: int, options: RenderOptions) -> RenderError:
    mp, limit = megapixels(pixels), megapixels(options.max_pixels)
    return RenderError(
        tr(
            f"Image is too large to process safely (decompression bomb): {mp} megapixels > {limit}",
            "La imagen es demasiado grande para procesarla con seguridad (bomba de "
            f"descompresión): {mp} megapíxeles > {limit}",
        ),
        "too_large",
    )


def open_image(data: bytes, sniffed: Sniffed, options: RenderOptions) -> Image.Image:
    """Open lazily (no pixels decoded) and enforce the pixel limit."""
    if sniffed.format == "HEIF" and not _register_heif():
        raise RenderError(
            tr(
                "HEIC images are not supported on this server: export as JPEG",
                "Las imágenes HEIC no se admiten en este servidor: expórtala como JPEG",
            ),
            "unsupported",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=[sniffed.format])
    except Image.DecompressionBombError as exc:
        m = _BOMB_PIXELS.search(str(exc))
        raise _bomb(int(m[1]) if m else options.max_pixels + 1, options) from exc
    except UnidentifiedImageError as exc:
        raise RenderError(
            tr(
                f"File looks like {sniffed.format} but its header is corrupt or truncated",
                f"El fichero parece {sniffed.format} pero su cabecera está dañada o incompleta",
            )
        ) from exc
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError) as exc:
        raise RenderError(
            tr(
                f"File looks like {sniffed.format} but its header is corrupt: {_msg(exc)}",
                f"El fichero parece {sniffed.format} pero su cabecera está dañada: {_msg(exc)}",
            )
        ) from exc
    w, h = im.size
    if w <= 0 or h <= 0:
        raise RenderError(
            tr(
                f"{sniffed.format} image declares an empty size ({w}x{h})",
                f"La imagen {sniffed.format} declara un tamaño vacío ({w}x{h})",
            )
        )
    if w * h > options.max_pixels:
        raise _bomb(w * h, options)
    return im


def _msg(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:200]
    return text or type(exc).__name__


def _load(im: Image.Image, fmt: str) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im.load()
    except Image.DecompressionBombError as exc:
        raise RenderError(
            tr(
                f"Image is too large to process safely (decompression bomb): {_msg(exc)}",
                "La imagen es demasiado grande para procesarla con seguridad (bomba de "
                f"descompresión): {_msg(exc)}",
            ),
            "too_large",
        ) from exc
    except OSError as exc:
        if "truncated" in str(exc).lower():
            raise RenderError(
                tr(
                    f"{fmt} file is truncated: it ends before all pixels were read "
                    "(upload the complete original)",
                    f"El fichero {fmt} está incompleto: termina antes de todos sus píxeles "
                    "(sube el original completo)",
                ),
                "truncated",
            ) from exc
        raise _corrupt(fmt, exc) from exc
    except (SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError) as exc:
        raise _corrupt(fmt, exc) from exc


def _corrupt(fmt: str, exc: BaseException) -> RenderError:
    return RenderError(
        tr(
            f"{fmt} file is corrupt and cannot be decoded: {_msg(exc)}",
            f"El fichero {fmt} está dañado y no se puede decodificar: {_msg(exc)}",
        )
    )


# --- metadata ------------------------------------------------------------------------------


def _exif(im: Image.Image) -> Image.Exif | None:
    try:
        return im.getexif()
    except Exception:  # malformed EXIF must not fail the render; it is dropped anyway
        logger.info("ignoring unreadable EXIF")
        return None


def _orientation(exif: Image.Exif | None) -> int:
    try:
        value = int(exif.get(_EXIF_ORIENTATION, 1)) if exif is not None else 1
    except (TypeError, ValueError):
        return 1
    return value if value in _TRANSPOSE else 1


def _exif_datetime(exif: Image.Exif | None) -> datetime | None:
    if exif is None:
        return None
    try:
        raw = exif.get_ifd(_EXIF_IFD).get(_EXIF_DATETIME_ORIGINAL) or exif.get(_EXIF_DATETIME)
        return datetime.strptime(str(raw).strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except Exception:
        return None


def _profile_description(icc: bytes) -> str | None:
    try:
        return ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))).strip()
    except Exception:
        return None


# --- conversion to 8-bit sRGB --------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def _srgb_transform(icc: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.buildTransform(src, _SRGB, mode, "RGB")
    except Exception:
        logger.info("ignoring unusable ICC profile")
        return None


def _needs_cms(icc: bytes | None) -> bool:
    if not icc:
        return False
    desc = (_profile_description(icc) or "").lower()
    return "srgb" not in desc  # sRGB (any vendor's copy) needs no conversion


def _flatten_alpha(im: Image.Image) -> Image.Image:
    base_mode = "L" if im.mode in ("LA", "La") else "RGB"
    rgba = im.convert("LA" if base_mode == "L" else "RGBA")
    background = Image.new(rgba.mode, rgba.size, (255, 255) if base_mode == "L" else "white")
    background.alpha_composite(rgba)
    return background.convert(base_mode)


def to_display(im: Image.Image, *, icc: bytes | None, meta: dict[str, Any]) -> Image.Image:
    """8-bit ``L``/``RGB`` in sRGB. May return ``im`` itself; metadata goes into ``meta``."""
    mode = im.mode
    if mode in _HIGH_DEPTH_MODES:
        arr = np.asarray(im)
        if arr.ndim != 2:
            raise RenderError(
                tr(
                    f"Unsupported image layout for mode {mode}",
                    f"Disposición de imagen no admitida para el modo {mode}",
                ),
                "unsupported",
            )
        gray, info = to_8bit(arr, identity_if_8bit=False)
        meta.update(info.as_metadata())
        return Image.fromarray(gray, "L")
    if mode == "CMYK":
        transform = _srgb_transform(icc, "CMYK") if icc else None
        meta["converted_to_srgb"] = transform is not None
        if transform is not None:
            return ImageCms.applyTransform(im, transform)
        return im.convert("RGB")
    if mode == "P":
        im = im.convert("RGBA") if "transparency" in im.info else im.convert("RGB")
        mode = im.mode
    if mode in ("RGBA", "RGBa", "LA", "La", "PA"):
        im = _flatten_alpha(im)
    elif mode == "1":
        im = im.convert("L")
    elif mode not in ("L", "RGB"):
        im = im.convert("RGB")
    if im.mode == "RGB" and _needs_cms(icc):
        transform = _srgb_transform(icc, "RGB")
        if transform is not None:
            ImageCms.applyTransform(im, transform, inPlace=True)
            meta["converted_to_srgb"] = True
    return im


def _orient(im: Image.Image, orientation: int) -> Image.Image:
    method = _TRANSPOSE.get(orientation)
    return im.transpose(method) if method is not None else im


def _effectively_gray(im: Image.Image) -> bool:
    if im.mode == "L":
        return True
    arr = np.asarray(im, dtype=np.int16)
    spread = np.maximum(np.abs(arr[..., 0] - arr[..., 1]), np.abs(arr[..., 1] - arr[..., 2]))
    return float(np.percentile(spread, 99)) <= 6.0


# --- pipeline ------------------------------------------------------------------------------


def render_raster(
    data: bytes,
    sniffed: Sniffed,
    kind: str,
    options: RenderOptions,
    emit: Emit,
) -> tuple[dict[str, Rendition], dict[str, Any], tuple[int, int]]:
    im = open_image(data, sniffed, options)
    exif = _exif(im)
    orientation = _orientation(exif)
    icc = im.info.get("icc_profile") or None
    src_w, src_h = im.size
    out_size = (src_h, src_w) if orientation in (5, 6, 7, 8) else (src_w, src_h)
    meta: dict[str, Any] = {
        "format": sniffed.format,
        "source_mode": im.mode,
        "source_width": src_w,
        "source_height": src_h,
        "exif_orientation": orientation,
        "color_profile": _profile_description(icc) if icc else None,
        "converted_to_srgb": False,
        "frames": int(getattr(im, "n_frames", 1) or 1),
    }
    taken = _exif_datetime(exif)
    meta["acquisition_date"] = taken.date().isoformat() if taken else None
    meta["acquisition_datetime"] = taken.isoformat() if taken else None

    xray = kind == "xray"
    renditions: dict[str, Rendition] = {}
    preview_size = fit_size(out_size, PREVIEW_BOX)

    def publish(r: Rendition) -> None:
        renditions[r.name] = r
        emit(r)

    gray = False
    use_draft = (
        sniffed.format == "JPEG"
        and preview_size != out_size
        and im.mode
        in (
            "RGB",
            "L",
            "CMYK",
        )
    )
    if use_draft:
        # 1) thumb + preview from a reduced-scale decode.
        want = (preview_size[1], preview_size[0]) if orientation in (5, 6, 7, 8) else preview_size
        im.draft(im.mode, want)
        _load(im, sniffed.format)
        small = _orient(to_display(im, icc=icc, meta=meta), orientation)
        del im
        if xray and small.mode == "RGB" and _effectively_gray(small):
            small, gray = small.convert("L"), True
        preview = small if small.size == preview_size else small.resize(preview_size, RESAMPLE)
        del small
        publish(make_rendition("thumb", downscale(preview, THUMB_BOX)))
        publish(make_rendition("preview", preview))
        del preview
        # 2) full resolution.
        im = open_image(data, sniffed, options)
        _load(im, sniffed.format)
        full = _orient(to_display(im, icc=icc, meta=meta), orientation)
        del im
        if gray:
            full = full.convert("L")
    else:
        # Multi-image files render the frame Pillow opens on: the first page of a TIFF, the
        # primary image of a HEIF (not necessarily its first).
        _load(im, sniffed.format)
        full = _orient(to_display(im, icc=icc, meta=meta), orientation)
        del im
        preview = downscale(full, PREVIEW_BOX)
        if xray and full.mode == "RGB" and _effectively_gray(preview):
            full, gray = full.convert("L"), True
            preview = preview.convert("L")
        publish(make_rendition("thumb", downscale(preview, THUMB_BOX)))
        publish(make_rendition("preview", preview))
        del preview

    if xray:
        publish(
            make_rendition(
                "full",
                full,
                full_format=options.xray_full_format,
                quality=XRAY_FULL_JPEG_QUALITY,
            )
        )
    else:
        publish(make_rendition("full", full, full_format="jpeg"))
    meta["mode"] = full.mode
    return renditions, meta, full.size
