"""The pure image rendering pipeline: bytes in, renditions and metadata out (no AWS).

Public API (used by the image worker and by ``python -m chalicelib.imaging``)::

    from chalicelib.imaging.render import render, RenderOptions, RenderResult, RenderError

    result = render(data, "photo", RenderOptions(xray_full_format="jpeg"))
    result.renditions["thumb"].data        # bytes of thumb.jpg

``render(data: bytes, declared_kind: str, options: RenderOptions | None = None, *,
on_rendition: Callable[[Rendition], None] | None = None) -> RenderResult``

* ``declared_kind`` is what the client said: ``"photo"``, ``"xray"`` or ``"dicom"``. The
  real type is sniffed from the bytes (JPEG, PNG, TIFF, WebP, HEIC, DICOM with or without
  preamble); anything else, or a DICOM/non-DICOM mismatch with the declared kind, raises
  :class:`RenderError`. The size limit is chosen by the declared kind
  (``max_bytes_photo`` for photo/xray, ``max_bytes_dicom`` for dicom).
* Renditions: ``thumb`` (within 200x200, JPEG, <= 50 KB), ``preview`` (within 800x800,
  progressive JPEG, <= 200 KB) and ``full`` (full resolution: progressive JPEG q88 for
  photos and colour DICOM; for X-rays and greyscale DICOM PNG or JPEG q90 per
  ``options.xray_full_format``). No metadata survives in any rendition. The original bytes
  are never modified.
* ``on_rendition`` (optional) is called with each rendition as soon as it is encoded, in
  the order thumb, preview, full, so a caller can publish the thumbnail before the full
  image is done.
* ``RenderResult.metadata`` (JSON-serialisable):

  - always: ``source_kind`` ("raster" or "dicom"), ``declared_kind``, ``acquisition_date``
    (ISO date or None), ``windowing``/``window_low``/``window_high``/``inverted`` when a
    high-bit-depth greyscale image was windowed;
  - raster: ``format``, ``source_mode``, ``source_width``/``source_height``,
    ``exif_orientation``, ``color_profile`` (ICC description), ``converted_to_srgb``,
    ``frames``, ``acquisition_datetime`` (EXIF DateTimeOriginal), ``mode``;
  - DICOM: ``modality``, ``xray_type_hint`` (panoramic, periapical, bite-wing, cbct,
    cephalometric or None), ``patient_name``, ``patient_id`` (PHI: for validation against
    the target patient; never log them - see ``PHI_METADATA_KEYS``), ``body_part``,
    ``rows``, ``columns``, ``photometric_interpretation``, ``bits_allocated``,
    ``bits_stored``, ``samples_per_pixel``, ``number_of_frames``, ``frame_index`` (the
    rendered frame), ``transfer_syntax`` (UID) and ``transfer_syntax_name``,
    ``sop_class_uid``/``sop_class_name``.

* :class:`RenderError` (``.reason``, ``.reason_es``, ``.code``) is the only exception for bad
  input: unsupported, mislabelled, corrupt, truncated, too large (bytes or pixels). Retrying
  cannot help. The reason is written in English and Spanish and never quotes a decoder's or
  Python's own error text; ``code`` is one of ``RENDER_ERROR_CODES``.
* The first call tunes the process's allocator to keep freed memory for the next image
  (:mod:`chalicelib.imaging.memory`): a worker renders image after image.
"""

from __future__ import annotations

import logging
import time
import traceback
import warnings
from collections.abc import Callable

from PIL import Image

from chalicelib.core.i18n import tr
from chalicelib.imaging.contracts import (
    DECLARED_KINDS,
    MB,
    PHI_METADATA_KEYS,
    PREVIEW_BOX,
    THUMB_BOX,
    RenderError,
    RenderOptions,
    RenderResult,
    Rendition,
)
from chalicelib.imaging.dicom import render_dicom
from chalicelib.imaging.memory import keep_freed_memory
from chalicelib.imaging.raster import render_raster
from chalicelib.imaging.renditions import XRAY_FULL_JPEG_QUALITY, downscale, make_rendition
from chalicelib.imaging.sniff import sniff

__all__ = [
    "PHI_METADATA_KEYS",
    "RenderError",
    "RenderOptions",
    "RenderResult",
    "Rendition",
    "render",
]

logger = logging.getLogger(__name__)

_KIND_LABEL = {"photo": "a photo", "xray": "an X-ray", "dicom": "DICOM"}
_KIND_LABEL_ES = {"photo": "una foto", "xray": "una radiografía", "dicom": "DICOM"}


def _size_label(n: int) -> str:
    return f"{n / MB:.1f} MB"


def render(
    data: bytes,
    declared_kind: str,
    options: RenderOptions | None = None,
    *,
    on_rendition: Callable[[Rendition], None] | None = None,
) -> RenderResult:
    """Render ``data`` into thumb/preview/full renditions; see the module docstring."""
    options = options or RenderOptions()
    keep_freed_memory()  # once per process: no page faults for the next image's buffers
    if declared_kind not in DECLARED_KINDS:
        raise RenderError(
            tr(
                f"Unknown image kind {declared_kind!r}: expected photo, xray or dicom",
                f"Tipo de imagen desconocido {declared_kind!r}: se espera photo, xray o dicom",
            ),
            "wrong_kind",
        )
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)
    limit = options.max_bytes_dicom if declared_kind == "dicom" else options.max_bytes_photo
    if len(data) > limit:
        size, allowed = _size_label(len(data)), _size_label(limit)
        raise RenderError(
            tr(
                f"File is too large: {size} > {allowed} allowed for {_KIND_LABEL[declared_kind]}",
                f"El fichero es demasiado grande: {size} > {allowed} permitidos para "
                f"{_KIND_LABEL_ES[declared_kind]}",
            ),
            "too_large",
        )
    sniffed = sniff(data)
    if declared_kind == "dicom" and not sniffed.is_dicom:
        raise RenderError(
            tr(
                f"File was uploaded as DICOM but is a {sniffed.format} image: "
                "upload it as a photo or X-ray instead",
                f"El fichero se subió como DICOM pero es una imagen {sniffed.format}: "
                "súbelo como foto o radiografía",
            ),
            "wrong_kind",
        )
    if declared_kind != "dicom" and sniffed.is_dicom:
        raise RenderError(
            tr(
                f"File was uploaded as {_KIND_LABEL[declared_kind]} but is a DICOM object: "
                "upload it as DICOM instead",
                f"El fichero se subió como {_KIND_LABEL_ES[declared_kind]} pero es un objeto "
                "DICOM: súbelo como DICOM",
            ),
            "wrong_kind",
        )

    emit = on_rendition or (lambda _r: None)
    started = time.perf_counter()
    try:
        # Library warnings about malformed input (pydicom value/charset warnings can quote
        # header values, i.e. PHI) must not reach the logs; failures surface as RenderError.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if sniffed.is_dicom:
                renditions, metadata, size, kind = _render_dicom(data, options, emit)
            else:
                renditions, metadata, size = render_raster(
                    data, sniffed, declared_kind, options, emit
                )
                metadata["source_kind"] = "raster"
                kind = declared_kind
    except RenderError:
        raise
    except MemoryError as exc:
        raise RenderError(
            tr(
                "Image needs more memory than the worker has: reduce its resolution",
                "La imagen necesita más memoria de la disponible: reduce su resolución",
            ),
            "out_of_memory",
        ) from exc
    except Image.DecompressionBombError as exc:
        raise RenderError(
            tr(
                "Image is too large to process safely (decompression bomb)",
                "La imagen es demasiado grande para procesarla con seguridad (bomba de "
                "descompresión)",
            ),
            "too_large",
        ) from exc
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:  # incl. pyo3 PanicException from Rust-based decoders
        # Unexpected failure inside Pillow/pydicom/numpy. Log the type and where it happened,
        # never the message: for DICOM it could quote header values (PHI).
        where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        logger.error(
            "render failed unexpectedly: %s at %s:%s",
            type(exc).__name__,
            where.filename if where else "?",
            where.lineno if where else "?",
        )
        fmt = sniffed.format
        raise RenderError(
            tr(
                f"{fmt} file could not be processed: it is probably corrupt; export it again "
                "from the source",
                f"El fichero {fmt} no se pudo procesar: probablemente está dañado; expórtalo "
                "de nuevo desde el origen",
            )
        ) from exc

    metadata["declared_kind"] = declared_kind
    hot = sum(r.size for r in renditions.values())
    logger.debug(
        "rendered %s %s: %d bytes -> %d hot bytes in %.0f ms",
        kind,
        sniffed.content_type,
        len(data),
        hot,
        (time.perf_counter() - started) * 1000,
    )
    return RenderResult(
        kind=kind,
        content_type=sniffed.content_type,
        width=size[0],
        height=size[1],
        renditions=renditions,
        metadata=metadata,
        original_bytes=len(data),
        hot_bytes=hot,
        compression_ratio=round(len(data) / hot, 2) if hot else 0.0,
    )


def _render_dicom(data: bytes, options: RenderOptions, emit: Callable[[Rendition], None]):
    image, metadata, grayscale = render_dicom(data, options)
    metadata["source_kind"] = "dicom"
    renditions: dict[str, Rendition] = {}
    preview = downscale(image, PREVIEW_BOX)
    for name, im in (("thumb", downscale(preview, THUMB_BOX)), ("preview", preview)):
        renditions[name] = make_rendition(name, im)
        emit(renditions[name])
    del preview
    if grayscale:
        full = make_rendition(
            "full", image, full_format=options.xray_full_format, quality=XRAY_FULL_JPEG_QUALITY
        )
    else:
        full = make_rendition("full", image, full_format="jpeg")
    renditions["full"] = full
    emit(full)
    return renditions, metadata, image.size, "dicom"
