"""DICOM: header, metadata and one representative frame, with pydicom 3.

The header is read first without pixel data (``stop_before_pixels``), which gives the
metadata and the geometry; the geometry is checked against the limits and the pixel data
element is walked (item headers only) to detect truncation before anything is decoded.
Then exactly one frame (the middle one of a multi-frame object or CBCT volume) is decoded
with ``pydicom.pixels.pixel_array(file_like, index=N)``, which reads and decompresses only
that frame. Compressed transfer syntaxes go through the installed pixel-data plugins
(pylibjpeg-openjpeg, pylibjpeg-rle, pyjpegls, python-gdcm, Pillow). Greyscale JPEG 2000 and
JPEG-LS frames, the usual compressed dental X-rays, are handed straight to OpenJPEG or CharLS
instead: pydicom's generic path copies the decoded frame several times, which doubled the
peak memory (14 vs 7.4 bytes per pixel for a J2K panoramic) and added 20-45% of the time.

Deflated Explicit VR Little Endian is inflated first (with a cap: the inflated data set may
not exceed the size limit of an uncompressed upload) and then read like any uncompressed file.
A data set written with implicit VR under an explicit-VR transfer syntax (some writers do;
pydicom reads it by looking at the bytes) is detected the same way pydicom does it.
"""

from __future__ import annotations

import io
import logging
import re
import struct
import warnings
import zlib
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import numpy as np
import pydicom
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import get_frame
from pydicom.errors import InvalidDicomError
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import _read_file_meta_info, read_preamble
from pydicom.filewriter import write_file_meta_info
from pydicom.pixels import (
    apply_color_lut,
    apply_modality_lut,
    apply_voi_lut,
    apply_windowing,
    convert_color_space,
    pixel_array,
)
from pydicom.uid import (
    JPEG2000,
    UID,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGExtended12Bit,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)

from chalicelib.core.i18n import tr
from chalicelib.imaging.contracts import RenderError, RenderOptions
from chalicelib.imaging.spacing import pixel_spacing
from chalicelib.imaging.xray import WindowInfo, dicom_window, to_8bit

logger = logging.getLogger(__name__)

_PIXEL_DATA = 0x7FE00010
_FLOAT_PIXEL_DATA = (0x7FE00008, 0x7FE00009)
_ITEM = 0xFFFEE000
_SEQ_DELIM = 0xFFFEE0DD
_LONG_VRS = {b"OB", b"OW", b"OF", b"OD", b"OL", b"OV", b"SQ", b"UN", b"UT", b"UC", b"UR"}


_TRUNCATED = tr(
    "DICOM file is truncated: pixel data ends early",
    "El DICOM está incompleto: los píxeles terminan antes de tiempo",
)
_NO_PIXELS = tr(
    "DICOM file contains no pixel data: it is truncated or is not an image",
    "El DICOM no contiene píxeles: está incompleto o no es una imagen",
)
_CORRUPT_DEFLATE = tr(
    "DICOM deflated data set is corrupt and cannot be inflated: upload the original file "
    "again, or export it uncompressed",
    "El DICOM comprimido (Deflate) está dañado y no se puede descomprimir: sube de nuevo el "
    "original o expórtalo sin comprimir",
)


def _undecodable(h: DicomHeader) -> str:
    name = h.transfer_syntax.name
    return tr(
        f"DICOM transfer syntax '{name}' cannot be decoded on this server: export the image "
        "uncompressed or as JPEG 2000 / JPEG-LS",
        f"La sintaxis de transferencia DICOM '{name}' no se puede decodificar en este servidor: "
        "exporta la imagen sin comprimir o como JPEG 2000 / JPEG-LS",
    )


@dataclass(frozen=True, slots=True)
class DicomHeader:
    ds: Dataset  # header only, no pixel data
    pixel_offset: int  # where the Pixel Data element starts in the file
    transfer_syntax: UID
    has_file_meta: bool
    rows: int
    columns: int
    frames: int
    samples_per_pixel: int
    bits_allocated: int
    bits_stored: int
    photometric: str
    # Where the pixel data element's value starts, and whether the dataset really is encoded
    # with implicit VR: some writers (SC_rgb_jpeg.dcm of pydicom's corpus) label a dataset
    # with an explicit-VR transfer syntax and write it implicit; pydicom reads it by looking.
    pixel_value_offset: int = 0
    implicit_vr: bool = False
    # The transfer syntax of the upload when it differs from ``transfer_syntax`` (a Deflated
    # upload is inflated first and then read as the Explicit VR Little Endian it wraps).
    original_transfer_syntax: UID | None = None


def megapixels(n: int) -> str:
    return f"{n / 1e6:.0f}" if n >= 10e6 else f"{n / 1e6:.1f}"


def _int(ds: Dataset, name: str, default: int | None = None) -> int | None:
    try:
        value = ds.get(name, default)
        return default if value is None or value == "" else int(value)
    except (TypeError, ValueError):
        return default


def read_header(data: bytes, options: RenderOptions) -> DicomHeader:
    """Parse the header (no pixels), check geometry and the pixel data element."""
    has_preamble = len(data) >= 132 and data[128:132] == b"DICM"
    fp = io.BytesIO(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(fp, stop_before_pixels=True, force=not has_preamble)
    except (InvalidDicomError, EOFError, struct.error, ValueError, KeyError, TypeError) as exc:
        logger.info("dicom header parse failed: %s", type(exc).__name__)
        raise RenderError(
            tr(
                "DICOM header is corrupt or truncated and cannot be read",
                "La cabecera DICOM está dañada o incompleta y no se puede leer",
            )
        ) from exc
    except Exception as exc:  # pydicom raises a wide variety on malformed input
        logger.info("dicom header parse failed: %s", type(exc).__name__)
        raise RenderError(
            tr(
                "DICOM header is corrupt and cannot be read",
                "La cabecera DICOM está dañada y no se puede leer",
            )
        ) from exc
    pixel_offset = fp.tell()

    meta = getattr(ds, "file_meta", None)
    ts_value = meta.get("TransferSyntaxUID") if meta is not None else None
    has_file_meta = ts_value is not None
    if has_file_meta:
        ts = UID(str(ts_value))
    else:
        implicit, little = getattr(ds, "original_encoding", (True, True))
        if little is False:
            raise RenderError(
                tr(
                    "DICOM file uses big-endian encoding without a file header: export it "
                    "again as a standard DICOM file (Part 10)",
                    "El DICOM usa codificación big-endian sin cabecera de fichero: expórtalo de "
                    "nuevo como fichero DICOM estándar (Part 10)",
                ),
                "unsupported",
            )
        ts = ImplicitVRLittleEndian if implicit in (True, None) else ExplicitVRLittleEndian
    if ts.is_deflated:  # inflate_deflated() runs first; a second layer of deflate is corrupt
        raise RenderError(_CORRUPT_DEFLATE)
    if "SOPClassUID" not in ds and "Rows" not in ds and not has_preamble:
        raise RenderError(
            tr(
                "File is not a supported image: unrecognised binary data",
                "El fichero no es una imagen admitida: datos binarios no reconocidos",
            ),
            "not_an_image",
        )

    rows, cols = _int(ds, "Rows"), _int(ds, "Columns")
    if not rows or not cols or rows <= 0 or cols <= 0:
        raise RenderError(
            tr(
                "DICOM file contains no image (no rows/columns): it may be a report, a "
                "structured document or a presentation state",
                "El DICOM no contiene ninguna imagen (sin filas/columnas): puede ser un "
                "informe, un documento estructurado o un estado de presentación",
            ),
            "no_image",
        )
    frames = max(1, _int(ds, "NumberOfFrames", 1) or 1)
    spp = _int(ds, "SamplesPerPixel", 1) or 1
    bits_allocated = _int(ds, "BitsAllocated", 8) or 8
    bits_stored = _int(ds, "BitsStored", bits_allocated) or bits_allocated
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip().upper()
    if spp not in (1, 3) or bits_allocated not in (1, 8, 16, 32) or bits_stored > bits_allocated:
        raise RenderError(
            tr(
                f"DICOM pixel format is invalid or unsupported ({spp} samples per pixel, "
                f"{bits_stored}/{bits_allocated} bits)",
                f"El formato de píxel del DICOM no es válido o no se admite ({spp} muestras "
                f"por píxel, {bits_stored}/{bits_allocated} bits)",
            ),
            "unsupported",
        )
    if rows * cols > options.max_pixels:
        raise RenderError(
            tr(
                "Image is too large to process safely (decompression bomb): "
                f"{megapixels(rows * cols)} megapixels > {megapixels(options.max_pixels)}",
                "La imagen es demasiado grande para procesarla con seguridad (bomba de "
                f"descompresión): {megapixels(rows * cols)} megapíxeles > "
                f"{megapixels(options.max_pixels)}",
            ),
            "too_large",
        )
    if rows * cols * frames > options.max_volume_pixels:
        raise RenderError(
            tr(
                f"DICOM volume is too large to process safely: {rows}x{cols}x{frames} voxels "
                "declared",
                f"El volumen DICOM es demasiado grande para procesarlo con seguridad: declara "
                f"{rows}x{cols}x{frames} vóxeles",
            ),
            "too_large",
        )
    header = DicomHeader(
        ds=ds,
        pixel_offset=pixel_offset,
        transfer_syntax=ts,
        has_file_meta=has_file_meta,
        rows=rows,
        columns=cols,
        frames=frames,
        samples_per_pixel=spp,
        bits_allocated=bits_allocated,
        bits_stored=bits_stored,
        photometric=photometric,
    )
    value_offset, implicit = _check_pixel_element(data, pixel_offset, header)
    return replace(header, pixel_value_offset=value_offset, implicit_vr=implicit)


def inflate_deflated(data: bytes, options: RenderOptions) -> tuple[bytes, UID | None]:
    """A Deflated Explicit VR Little Endian upload as the plain file it wraps.

    The data set after the file meta group is one raw deflate stream (PS3.5 A.5). It is
    inflated with a cap, since a few kilobytes can inflate to gigabytes: the inflated data set
    may not exceed the size limit of an uncompressed DICOM upload. The file meta is rewritten
    with Explicit VR Little Endian, so every later step (header, truncation checks, frame
    decoding by index) reads it like any uncompressed upload. Returns ``(data, None)`` for
    any other transfer syntax, without copying it.
    """
    if len(data) < 132 or data[128:132] != b"DICM":
        return data, None  # a deflated data set needs its file meta: no preamble, no deflate
    fp = io.BytesIO(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            read_preamble(fp, force=False)
            meta = _read_file_meta_info(fp)
    except Exception:  # noqa: BLE001 - read_header words a corrupt header
        return data, None
    ts_value = meta.get("TransferSyntaxUID")
    if ts_value is None or not UID(str(ts_value)).is_deflated:
        return data, None
    original = UID(str(ts_value))
    limit = options.max_bytes_dicom
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        body = inflater.decompress(memoryview(data)[fp.tell() :], limit + 1)
    except zlib.error as exc:
        raise RenderError(_CORRUPT_DEFLATE) from exc
    if len(body) > limit:
        mb = limit // (1024 * 1024)
        raise RenderError(
            tr(
                f"DICOM deflated data set inflates to more than {mb} MB, the limit for an "
                "uncompressed DICOM upload",
                f"El DICOM comprimido (Deflate) ocupa más de {mb} MB descomprimido, el límite "
                "de un DICOM sin comprimir",
            ),
            "too_large",
        )
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    out = DicomBytesIO()
    out.write(b"\0" * 128 + b"DICM")
    write_file_meta_info(out, meta, enforce_standard=True)
    out.write(body)
    return out.getvalue(), original


def _implicit_at(data: bytes, pos: int, declared_implicit: bool) -> bool:
    """Whether the element at ``pos`` is encoded with implicit VR, looking at its bytes the
    way pydicom does: an explicit VR is two upper-case letters after the tag."""
    if declared_implicit:
        return True
    vr = data[pos + 4 : pos + 6]
    return not (len(vr) == 2 and 65 <= vr[0] <= 90 and 65 <= vr[1] <= 90)


def _check_pixel_element(data: bytes, pos: int, h: DicomHeader) -> tuple[int, bool]:
    """Find truncation and corruption from the element and item headers alone; returns where
    the element's value starts and whether it is encoded with implicit VR."""
    ts = h.transfer_syntax
    little = ts.is_little_endian if h.has_file_meta else True
    end = "<" if little else ">"
    n = len(data)
    if pos + 8 > n:
        raise RenderError(_NO_PIXELS, "no_image")
    group, elem = struct.unpack_from(end + "HH", data, pos)
    tag = (group << 16) | elem
    if tag in _FLOAT_PIXEL_DATA:
        raise RenderError(
            tr(
                "DICOM float pixel data (parametric maps) is not supported",
                "Los DICOM con píxeles en coma flotante (mapas paramétricos) no se admiten",
            ),
            "unsupported",
        )
    if tag != _PIXEL_DATA:
        raise RenderError(_NO_PIXELS, "no_image")
    implicit = _implicit_at(
        data, pos, ts.is_implicit_VR if h.has_file_meta else ts == ImplicitVRLittleEndian
    )
    if implicit:
        length = struct.unpack_from(end + "I", data, pos + 4)[0]
        value_pos = pos + 8
    else:
        vr = data[pos + 4 : pos + 6]
        if vr in _LONG_VRS:
            if pos + 12 > n:
                raise RenderError(_TRUNCATED, "truncated")
            length = struct.unpack_from(end + "I", data, pos + 8)[0]
            value_pos = pos + 12
        else:
            length = struct.unpack_from(end + "H", data, pos + 6)[0]
            value_pos = pos + 8

    if ts.is_encapsulated:
        if length != 0xFFFFFFFF:
            raise RenderError(
                tr(
                    "DICOM compressed pixel data is malformed (defined length)",
                    "Los píxeles comprimidos del DICOM están mal formados (longitud definida)",
                )
            )
        fragments = _walk_fragments(data, value_pos)
        if fragments < 1:
            raise RenderError(
                tr(
                    "DICOM file is truncated: it holds no compressed frames",
                    "El DICOM está incompleto: no contiene ninguna imagen comprimida",
                ),
                "truncated",
            )
        return value_pos, implicit

    if length == 0xFFFFFFFF:
        raise RenderError(
            tr(
                "DICOM pixel data is malformed (undefined length, uncompressed)",
                "Los píxeles del DICOM están mal formados (longitud indefinida, sin comprimir)",
            )
        )
    per_sample = h.rows * h.columns * h.samples_per_pixel
    if h.photometric == "YBR_FULL_422":
        per_sample = h.rows * h.columns * 2
    frame_bits = per_sample * h.bits_allocated
    expected = (frame_bits * h.frames + 7) // 8
    if value_pos + min(length, expected) > n:
        have = max(0, n - value_pos)
        raise RenderError(
            tr(
                f"DICOM file is truncated: pixel data ends early ({have} of {expected} bytes "
                "present)",
                f"El DICOM está incompleto: los píxeles terminan antes de tiempo ({have} de "
                f"{expected} bytes presentes)",
            ),
            "truncated",
        )
    if length < expected:
        raise RenderError(
            tr(
                f"DICOM file is truncated: pixel data ends early ({length} of {expected} bytes "
                "declared)",
                f"El DICOM está incompleto: los píxeles terminan antes de tiempo ({length} de "
                f"{expected} bytes declarados)",
            ),
            "truncated",
        )
    return value_pos, implicit


def _walk_fragments(data: bytes, pos: int) -> int:
    """Count the fragments of encapsulated pixel data (excluding the offset table)."""
    n, items = len(data), 0
    while True:
        if pos + 8 > n:
            raise RenderError(_TRUNCATED, "truncated")
        group, elem, length = struct.unpack_from("<HHI", data, pos)
        tag = (group << 16) | elem
        if tag == _SEQ_DELIM:
            return max(0, items - 1)
        if tag != _ITEM or length == 0xFFFFFFFF:
            raise RenderError(
                tr(
                    "DICOM compressed pixel data is corrupt (bad item header)",
                    "Los píxeles comprimidos del DICOM están dañados (cabecera de ítem errónea)",
                )
            )
        pos += 8 + length
        if pos > n:
            raise RenderError(_TRUNCATED, "truncated")
        items += 1


# --- metadata ------------------------------------------------------------------------------

_DA = re.compile(r"^(\d{4})(\d{2})(\d{2})")


def _iso_date(value: Any) -> str | None:
    m = _DA.match(str(value or "").strip().replace("-", "").replace(".", ""))
    if not m:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3])).isoformat()
    except ValueError:
        return None


def _text(ds: Dataset, name: str) -> str | None:
    try:
        value = ds.get(name)
    except Exception:  # a malformed optional element must not fail the render
        return None
    if value is None:
        return None
    if isinstance(value, pydicom.multival.MultiValue):
        value = "\\".join(str(v) for v in value)
    text = str(value).strip()
    return text or None


_UID_RE = re.compile(r"^[0-9]+(\.[0-9]+)*$")


def _uid(ds: Dataset, name: str) -> str | None:
    """A UID element, when it is a well-formed one (at most 64 characters)."""
    text = _text(ds, name)
    return text if text and len(text) <= 64 and _UID_RE.match(text) else None


def xray_type_hint(modality: str | None, texts: str, frames: int) -> str | None:
    """Best guess of the dental X-ray type; the record's own field wins when set."""
    t = f" {texts.upper()} "
    if modality == "PX" or "PANORAM" in t or " PAN " in t or " OPG " in t or " OPT " in t:
        return "panoramic"
    if modality == "CT" or " CBCT " in t or "CONE BEAM" in t:
        return "cbct"
    if "CEPH" in t or "LATERAL SKULL" in t or " LAT " in t and "SKULL" in t:
        return "cephalometric"
    if "BITEWING" in t or "BITE-WING" in t or "BITE WING" in t or " BW " in t:
        return "bite-wing"
    if modality == "IO" or "PERIAPICAL" in t or "INTRAORAL" in t:
        return "periapical"
    if modality in ("DX", "CR", "RG", "DR") and frames == 1:
        return None
    return None


def extract_metadata(h: DicomHeader) -> dict[str, Any]:
    """JSON-serialisable metadata. ``patient_name``/``patient_id`` are PHI: never log them."""
    ds = h.ds
    modality = _text(ds, "Modality")
    acquisition = None
    for name in ("StudyDate", "AcquisitionDate", "ContentDate", "SeriesDate"):
        acquisition = _iso_date(ds.get(name))
        if acquisition:
            break
    texts = " ".join(
        t
        for t in (
            _text(ds, "SeriesDescription"),
            _text(ds, "StudyDescription"),
            _text(ds, "ProtocolName"),
            _text(ds, "BodyPartExamined"),
            _text(ds, "ImageType"),
        )
        if t
    )
    sop_class = _text(ds, "SOPClassUID")
    spacing, spacing_source = pixel_spacing(ds)  # mm per pixel, for the viewer's ruler
    return {
        "acquisition_date": acquisition,
        "modality": modality,
        "xray_type_hint": xray_type_hint(modality, texts, h.frames),
        "patient_name": _text(ds, "PatientName"),
        "patient_id": _text(ds, "PatientID"),
        "body_part": _text(ds, "BodyPartExamined"),
        "rows": h.rows,
        "columns": h.columns,
        "photometric_interpretation": h.photometric,
        "bits_allocated": h.bits_allocated,
        "bits_stored": h.bits_stored,
        "samples_per_pixel": h.samples_per_pixel,
        "number_of_frames": h.frames,
        "transfer_syntax": str(h.original_transfer_syntax or h.transfer_syntax),
        "transfer_syntax_name": (h.original_transfer_syntax or h.transfer_syntax).name,
        "sop_class_uid": sop_class,
        "sop_class_name": UID(sop_class).name if sop_class else None,
        # One study with its series, not unrelated images (docs/adr/1001-bridge-devices.md).
        "study_instance_uid": _uid(ds, "StudyInstanceUID"),
        "series_instance_uid": _uid(ds, "SeriesInstanceUID"),
        "sop_instance_uid": _uid(ds, "SOPInstanceUID"),
        "series_number": _int(ds, "SeriesNumber"),
        "instance_number": _int(ds, "InstanceNumber"),
        "pixel_spacing": spacing,
        "pixel_spacing_source": spacing_source,
    }


# --- pixels --------------------------------------------------------------------------------


def _first_error_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] if text else type(exc).__name__


def _decode_jpeg12_with_gdcm(data: bytes, h: DicomHeader, index: int) -> np.ndarray:
    """12-bit JPEG Extended (process 4) through GDCM's own API.

    pydicom's GDCM plugin refuses 12-bit JPEG Extended, and the only pydicom plugin that
    accepts it (pylibjpeg-libjpeg) is GPL-3.0. GDCM itself (BSD) bundles a 12-bit IJG codec,
    so we call it directly. It decodes the whole object, which is fine: 12-bit JPEG
    Extended is used for single-frame projection X-rays, not volumes.
    """
    import tempfile

    import gdcm

    with tempfile.NamedTemporaryFile(suffix=".dcm") as tmp:
        tmp.write(data)
        tmp.flush()
        reader = gdcm.ImageReader()
        reader.SetFileName(tmp.name)
        if not reader.Read():
            raise RenderError(
                tr(
                    "DICOM JPEG Extended pixel data is corrupt and cannot be decoded",
                    "Los píxeles JPEG Extended del DICOM están dañados y no se pueden decodificar",
                )
            )
        image = reader.GetImage()
        buffer = image.GetBuffer().encode("utf-8", errors="surrogateescape")
    dtype = np.int16 if image.GetPixelFormat().GetPixelRepresentation() else np.uint16
    frame_len = h.rows * h.columns * h.samples_per_pixel
    arr = np.frombuffer(buffer, dtype=dtype)
    if arr.size < frame_len * (index + 1):
        raise RenderError(_TRUNCATED, "truncated")
    frame = arr[frame_len * index : frame_len * (index + 1)]
    shape = (h.rows, h.columns) if h.samples_per_pixel == 1 else (h.rows, h.columns, 3)
    return frame.reshape(shape).copy()


_SYSTEM_EXCEPTIONS = (KeyboardInterrupt, SystemExit, GeneratorExit)


def _pixel_array(data: bytes, index: int, ds_out: Dataset, kwargs: dict[str, Any]) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # as_rgb=False: YBR stays YBR and is converted exactly once, by frame_to_image.
        return pixel_array(io.BytesIO(data), index=index, ds_out=ds_out, as_rgb=False, **kwargs)


_DIRECT_SYNTAXES = frozenset({JPEG2000Lossless, JPEG2000, JPEGLSLossless, JPEGLSNearLossless})


def _decode_direct(data: bytes, h: DicomHeader, index: int) -> np.ndarray | None:
    """One greyscale J2K or JPEG-LS frame decoded by OpenJPEG or CharLS themselves, or None
    when the frame needs pydicom's handling (colour, signed JPEG-LS, a codestream whose
    geometry, sign or depth disagrees with the header, anything that fails here)."""
    if (
        h.transfer_syntax not in _DIRECT_SYNTAXES
        or h.samples_per_pixel != 1
        or h.bits_allocated not in (8, 16)
        or h.photometric not in ("MONOCHROME1", "MONOCHROME2")
    ):
        return None
    signed = _int(h.ds, "PixelRepresentation", 0) == 1
    offsets = None
    if "ExtendedOffsetTable" in h.ds and "ExtendedOffsetTableLengths" in h.ds:
        offsets = (h.ds.ExtendedOffsetTable, h.ds.ExtendedOffsetTableLengths)
    buffer = io.BytesIO(data)
    buffer.seek(h.pixel_value_offset)  # past the element header, at the first item
    try:
        frame = get_frame(buffer, index, number_of_frames=h.frames, extended_offsets=offsets)
        if h.transfer_syntax in (JPEG2000Lossless, JPEG2000):
            import openjpeg

            info = openjpeg.get_parameters(frame)
            if (
                info["samples_per_pixel"] != 1
                or (info["rows"], info["columns"]) != (h.rows, h.columns)
                or bool(info["is_signed"]) != signed
                or info["precision"] > h.bits_allocated
            ):
                return None
            arr = openjpeg.decode(frame, j2k_format=0)
        else:
            if signed:
                return None  # JPEG-LS codes signed data as unsigned: pydicom restores it
            import jpeg_ls

            arr = jpeg_ls.decode(np.frombuffer(frame, np.uint8))
    except Exception:  # noqa: BLE001 - pydicom's path decides, and words the failure
        logger.info("direct decode declined", extra={"transfer_syntax": str(h.transfer_syntax)})
        return None
    expected = np.dtype(f"{'i' if signed else 'u'}{h.bits_allocated // 8}")
    if arr.shape != (h.rows, h.columns) or arr.dtype != expected:
        return None
    return arr


def _explicit_pixel_header(data: bytes, h: DicomHeader) -> bytes:
    """``data`` with the pixel data element header written with explicit VR, when the data
    set is implicit VR under an explicit transfer syntax. pydicom reads the rest of such a
    data set by looking at it, but ``pixel_array`` reads this one header as the transfer
    syntax says, so it would take the length for a VR and fail. Copies the file once; only
    for such mislabelled files."""
    if not h.implicit_vr or (h.transfer_syntax.is_implicit_VR if h.has_file_meta else True):
        return data
    pos, end = h.pixel_offset, "<" if h.transfer_syntax.is_little_endian else ">"
    vr = b"OW" if not h.transfer_syntax.is_encapsulated and h.bits_allocated > 8 else b"OB"
    length = data[pos + 4 : pos + 8]
    header = data[pos : pos + 4] + vr + struct.pack(end + "H", 0) + length
    return data[:pos] + header + data[h.pixel_value_offset :]


def decode_frame(data: bytes, h: DicomHeader, index: int) -> tuple[np.ndarray, str]:
    """Decode one frame; returns the array and the photometric interpretation after decoding."""
    if h.transfer_syntax == JPEGExtended12Bit and h.bits_stored > 8:
        return _decode_jpeg12_with_gdcm(data, h, index), h.photometric
    direct = _decode_direct(data, h, index)
    if direct is not None:
        return direct, h.photometric
    ds_out = Dataset()
    kwargs: dict[str, Any] = {}
    if not h.has_file_meta:
        kwargs["transfer_syntax_uid"] = h.transfer_syntax
    data = _explicit_pixel_header(data, h)
    try:
        try:
            arr = _pixel_array(data, index, ds_out, kwargs)
        except _SYSTEM_EXCEPTIONS:
            raise
        except BaseException:
            # Rust-based plugins (pylibjpeg-rle) report malformed input with a pyo3
            # PanicException, a BaseException that stops pydicom's plugin fallback: retry
            # RLE with pydicom's own numpy decoder before giving up.
            if h.transfer_syntax != RLELossless:
                raise
            arr = _pixel_array(data, index, ds_out, {**kwargs, "decoding_plugin": "pydicom"})
    except _SYSTEM_EXCEPTIONS:
        raise
    except NotImplementedError as exc:
        raise RenderError(_undecodable(h), "unsupported") from exc
    except (MemoryError, RecursionError):
        raise
    except BaseException as exc:
        message = _first_error_line(exc)
        logger.info("dicom decode failed: %s", type(exc).__name__)
        if "missing" in message.lower() and "plugin" in message.lower():
            raise RenderError(_undecodable(h), "unsupported") from exc
        # The decoders' own words ("exceptions were raised by all available plugins: gdcm:
        # 'NoneType' object...") help no one at the clinic: the reason says what to do.
        name = h.transfer_syntax.name
        raise RenderError(
            tr(
                f"DICOM pixel data is corrupt and cannot be decoded ({name}): export the "
                "image again from the imaging software",
                f"Los píxeles del DICOM están dañados y no se pueden decodificar ({name}): "
                "exporta la imagen de nuevo desde el programa de imagen",
            )
        ) from exc
    photometric = str(ds_out.get("PhotometricInterpretation", h.photometric)).strip().upper()
    return arr, photometric


def _frame_dataset(h: DicomHeader, index: int) -> Dataset:
    """The modality/VOI attributes that apply to frame ``index`` (incl. functional groups)."""
    src = h.ds
    fds = Dataset()
    fds.file_meta = FileMetaDataset()  # LUT data endianness follows the source encoding
    fds.file_meta.TransferSyntaxUID = h.transfer_syntax
    for name in (
        "PhotometricInterpretation",
        "PixelRepresentation",
        "BitsStored",
        "BitsAllocated",
        "RescaleSlope",
        "RescaleIntercept",
        "RescaleType",
        "ModalityLUTSequence",
        "WindowCenter",
        "WindowWidth",
        "VOILUTFunction",
        "VOILUTSequence",
    ):
        if name in src and src.get(name) not in (None, ""):
            fds[name] = src[name]
    groups = []
    shared = src.get("SharedFunctionalGroupsSequence")
    if shared:
        groups.append(shared[0])
    per_frame = src.get("PerFrameFunctionalGroupsSequence")
    if per_frame and index < len(per_frame):
        groups.append(per_frame[index])
    for group in groups:
        for seq_name in ("PixelValueTransformationSequence", "FrameVOILUTSequence"):
            seq = group.get(seq_name)
            if seq:
                for name in (
                    "RescaleSlope",
                    "RescaleIntercept",
                    "RescaleType",
                    "WindowCenter",
                    "WindowWidth",
                    "VOILUTFunction",
                ):
                    if name in seq[0]:
                        fds[name] = seq[0][name]
    fds.PhotometricInterpretation = "MONOCHROME2"  # inversion is handled once, by us
    return fds


def _first(value: Any) -> float:
    if isinstance(value, pydicom.multival.MultiValue | list | tuple):
        value = value[0]
    return float(value)


def _gray_to_image(arr: np.ndarray, h: DicomHeader, index: int, photometric: str):
    fds = _frame_dataset(h, index)
    has_rescale = "ModalityLUTSequence" in fds or (
        "RescaleSlope" in fds
        and "RescaleIntercept" in fds
        and (_first(fds.RescaleSlope) != 1.0 or _first(fds.RescaleIntercept) != 0.0)
    )

    def modality(values: np.ndarray) -> np.ndarray:
        return np.asarray(apply_modality_lut(values, fds), dtype=np.float64)

    voi = None
    method = "dicom-window"
    if fds.get("VOILUTSequence"):
        # Output range from the LUT's own entries (descriptors often overstate the depth).
        descriptor = fds.VOILUTSequence[0].LUTDescriptor
        entries = int(descriptor[0]) or 65536
        first = int(descriptor[1])
        probe = np.arange(first, first + entries, dtype=np.int64)
        top = int(np.max(apply_voi_lut(probe, fds, prefer_lut=True)))
        y_max = float(2 ** max(8, max(top, 1).bit_length()) - 1)

        def voi(values: np.ndarray) -> np.ndarray:
            out = apply_voi_lut(np.rint(values).astype(np.int64), fds, prefer_lut=True)
            return np.asarray(out, dtype=np.float64) / y_max

        method = "dicom-voi-lut"
    elif "WindowCenter" in fds and "WindowWidth" in fds:
        try:
            center, width = _first(fds.WindowCenter), _first(fds.WindowWidth)
        except (TypeError, ValueError, IndexError):
            center = width = None
        if center is not None and width is not None and width > 0:
            wds = Dataset()
            wds.PhotometricInterpretation = "MONOCHROME2"
            wds.PixelRepresentation = 1  # output range of the window computed from probes
            wds.BitsStored = 16
            wds.WindowCenter, wds.WindowWidth = center, width
            if "VOILUTFunction" in fds:
                wds.VOILUTFunction = fds.VOILUTFunction
            probe = np.array([center - 1e9, center + 1e9], dtype=np.float64)
            y_lo, y_hi = (float(v) for v in apply_windowing(probe, wds))
            if y_hi != y_lo:

                def voi(values: np.ndarray) -> np.ndarray:
                    return (np.asarray(apply_windowing(values, wds)) - y_lo) / (y_hi - y_lo)

            else:  # unreachable with pydicom's functions; keep the standard's formula
                voi = dicom_window(center, width, str(fds.get("VOILUTFunction", "LINEAR")))
    invert = photometric == "MONOCHROME1"
    gray, info = to_8bit(
        arr,
        modality=modality if has_rescale else None,
        voi=voi,
        voi_method=method,
        invert=invert,
        identity_if_8bit=h.bits_stored <= 8,
    )
    return Image.fromarray(gray, "L"), info


def _color_to_uint8(arr: np.ndarray, bits: int) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr
    shift = max(0, min(bits, 16) - 8)
    return np.clip(arr.astype(np.int64) >> shift, 0, 255).astype(np.uint8)


def frame_to_image(
    arr: np.ndarray, h: DicomHeader, index: int, photometric: str
) -> tuple[Image.Image, WindowInfo | None]:
    """8-bit ``L`` or ``RGB`` image from a decoded frame."""
    if photometric in ("MONOCHROME1", "MONOCHROME2") and arr.ndim == 2:
        return _gray_to_image(arr, h, index, photometric)
    if photometric == "PALETTE COLOR" and arr.ndim == 2:
        try:
            rgb = apply_color_lut(arr, h.ds)
        except Exception as exc:
            raise RenderError(
                tr(
                    "DICOM palette colour lookup table is invalid",
                    "La tabla de colores de la paleta del DICOM no es válida",
                )
            ) from exc
        bits = 16 if rgb.dtype != np.uint8 else 8
        return Image.fromarray(_color_to_uint8(rgb, bits), "RGB"), None
    if arr.ndim == 3 and arr.shape[-1] == 3:
        if photometric in ("YBR_FULL", "YBR_FULL_422"):
            arr = convert_color_space(arr, photometric, "RGB")
        elif photometric not in ("RGB", "YBR_ICT", "YBR_RCT", "YBR_PARTIAL_420"):
            raise RenderError(
                tr(
                    f"DICOM photometric interpretation {photometric} is not supported",
                    f"La interpretación fotométrica {photometric} del DICOM no se admite",
                ),
                "unsupported",
            )
        return Image.fromarray(_color_to_uint8(arr, h.bits_stored), "RGB"), None
    raise RenderError(
        tr(
            f"DICOM pixel layout is not supported ({photometric}, array shape {arr.shape})",
            f"La disposición de píxeles del DICOM no se admite ({photometric}, forma {arr.shape})",
        ),
        "unsupported",
    )


def render_dicom(data: bytes, options: RenderOptions) -> tuple[Image.Image, dict[str, Any], bool]:
    """Image of the representative frame, metadata, and whether it is grayscale."""
    data, original_ts = inflate_deflated(data, options)
    header = read_header(data, options)
    if original_ts is not None:
        header = replace(header, original_transfer_syntax=original_ts)
    meta = extract_metadata(header)
    index = header.frames // 2
    arr, photometric = decode_frame(data, header, index)
    expected = (header.rows, header.columns)
    if arr.shape[:2] != expected:
        raise RenderError(
            tr(
                f"DICOM pixel data does not match its header ({arr.shape[:2]} vs {expected})",
                f"Los píxeles del DICOM no coinciden con su cabecera ({arr.shape[:2]} frente a "
                f"{expected})",
            )
        )
    image, info = frame_to_image(arr, header, index, photometric)
    del arr
    meta["frame_index"] = index
    if info is not None:
        meta.update(info.as_metadata())
    return image, meta, image.mode == "L"
