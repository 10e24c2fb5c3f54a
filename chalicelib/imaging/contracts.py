"""Data contracts of the rendering pipeline (standard library only, safe to import anywhere).

:mod:`chalicelib.imaging.render` re-exports everything here; import from there in the worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

DeclaredKind = Literal["photo", "xray", "dicom"]
DECLARED_KINDS: frozenset[str] = frozenset({"photo", "xray", "dicom"})

MB = 1024 * 1024

# Rendition boxes (the image is scaled to fit inside, aspect ratio kept, never enlarged).
THUMB_BOX = (200, 200)
PREVIEW_BOX = (800, 800)
# Byte budgets: encoders step the JPEG quality down until the rendition fits.
THUMB_MAX_BYTES = 50 * 1024
PREVIEW_MAX_BYTES = 200 * 1024

# Keys of RenderResult.metadata that carry PHI: return them to the caller (patient
# validation), never log them.
PHI_METADATA_KEYS: frozenset[str] = frozenset({"patient_name", "patient_id"})


# What kind of problem a RenderError is, for a client to act on (and to word it in its own
# language); ``RenderError.reason`` says the specifics in English and Spanish.
RENDER_ERROR_CODES: dict[str, str] = {
    "empty": "the upload holds no bytes",
    "not_an_image": "the bytes are not an accepted image format (PDF, archive, GIF, text...)",
    "wrong_kind": "the file is not of the kind it was uploaded as (DICOM vs photo/X-ray)",
    "too_large": "over the clinic's byte limit or the pixel/voxel safety limits",
    "truncated": "the file ends before its pixels do: upload the complete original",
    "corrupt": "the file is damaged: export it again from the source",
    "unsupported": "a valid file in a variant this server does not decode",
    "no_image": "a DICOM object without an image (report, plan, directory...)",
    "out_of_memory": "the image needs more memory than the worker has",
    "upload_mismatch": "the stored object is not what its upload slot allowed or declared",
}


class RenderError(Exception):
    """A file that cannot be rendered, with a reason a person can act on.

    Raised for unsupported, mislabelled, corrupt, truncated or oversized files. The worker
    marks the record ``failed`` with :attr:`reason` and does not retry: the same bytes would
    fail again. The reason never contains PHI nor a library's own error text.

    ``reason`` is the English wording; when it was written with ``tr(en, es)``
    (:mod:`chalicelib.core.i18n`) it also carries the Spanish one, :attr:`reason_es`. ``code``
    is one of :data:`RENDER_ERROR_CODES`.
    """

    def __init__(self, reason: str, code: str = "corrupt") -> None:
        if code not in RENDER_ERROR_CODES:
            raise ValueError(f"unknown render error code {code!r}")
        super().__init__(reason)
        self.reason = reason
        self.code = code

    @property
    def reason_es(self) -> str | None:
        """The Spanish wording, or None when the reason has only its English one."""
        return getattr(self.reason, "es", None)


@dataclass(frozen=True, slots=True)
class RenderOptions:
    """Limits and clinic settings for one render.

    max_bytes_photo: size limit for ``photo`` and ``xray`` uploads (default 25 MB).
    max_bytes_dicom: size limit for ``dicom`` uploads (default 100 MB).
    xray_full_format: ``"jpeg"`` (high quality, the default) or ``"png"`` (lossless) for the
        full-size rendition of X-rays (greyscale DICOM and raster X-rays); a per-clinic
        setting (docs/adr/0102-xray-full-rendition-jpeg-by-default.md).
    max_pixels: decompression-bomb limit on the pixels of the image (or DICOM frame) that is
        decoded (default 120 megapixels).
    max_volume_pixels: sanity limit on a DICOM's declared rows x columns x frames (only one
        frame is ever decoded; default 4 gigavoxels, far above any dental CBCT).
    """

    max_bytes_photo: int = 25 * MB
    max_bytes_dicom: int = 100 * MB
    xray_full_format: Literal["png", "jpeg"] = "jpeg"
    max_pixels: int = 120_000_000
    max_volume_pixels: int = 4_000_000_000

    def __post_init__(self) -> None:
        if self.xray_full_format not in ("png", "jpeg"):
            raise ValueError("xray_full_format must be 'png' or 'jpeg'")
        if min(self.max_bytes_photo, self.max_bytes_dicom, self.max_pixels) <= 0:
            raise ValueError("limits must be positive")


@dataclass(frozen=True, slots=True)
class Rendition:
    """One encoded rendition: ``thumb``, ``preview`` or ``full``."""

    name: str
    data: bytes = field(repr=False)
    content_type: str
    width: int
    height: int
    filename: str  # "thumb.jpg", "preview.jpg", "full.jpg" or "full.png"

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True, slots=True)
class RenderResult:
    """The outcome of :func:`chalicelib.imaging.render.render`.

    kind: what the file was rendered as: ``"photo"``, ``"xray"`` or ``"dicom"``.
    content_type: the type detected from the bytes (``image/jpeg``, ``application/dicom``...).
    width, height: pixel size of the rendered image (after EXIF orientation; for a
        multi-frame DICOM, of one frame).
    renditions: ``{"thumb": ..., "preview": ..., "full": ...}``.
    metadata: JSON-serialisable; see render.py. May contain PHI (:data:`PHI_METADATA_KEYS`):
        excluded from ``repr`` so it does not end up in logs by accident.
    original_bytes, hot_bytes (sum of the renditions), compression_ratio (original / hot).
    """

    kind: str
    content_type: str
    width: int
    height: int
    renditions: dict[str, Rendition]
    metadata: dict[str, Any] = field(repr=False)
    original_bytes: int
    hot_bytes: int
    compression_ratio: float
