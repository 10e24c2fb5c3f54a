"""Detect a file's real type from its first bytes (standard library only).

Clients can lie about the type, and moto does not enforce presigned-POST conditions, so the
worker trusts only the bytes. :func:`sniff` returns the accepted format or raises
:class:`RenderError` naming what the file looks like instead.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from chalicelib.core.i18n import Text, tr
from chalicelib.imaging.contracts import RenderError


@dataclass(frozen=True, slots=True)
class Sniffed:
    format: str  # Pillow format name ("JPEG", "PNG", "TIFF", "WEBP", "HEIF") or "DICOM"
    content_type: str

    @property
    def is_dicom(self) -> bool:
        return self.format == "DICOM"


JPEG = Sniffed("JPEG", "image/jpeg")
PNG = Sniffed("PNG", "image/png")
TIFF = Sniffed("TIFF", "image/tiff")
WEBP = Sniffed("WEBP", "image/webp")
HEIF = Sniffed("HEIF", "image/heic")
DICOM = Sniffed("DICOM", "application/dicom")

_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"}
_AVIF_BRANDS = {b"avif", b"avis"}
_VIDEO_BRANDS = {b"isom", b"iso2", b"mp41", b"mp42", b"qt  ", b"M4V ", b"3gp4", b"3gp5", b"dash"}
_DICOM_VRS = {
    b"AE",
    b"AS",
    b"AT",
    b"CS",
    b"DA",
    b"DS",
    b"DT",
    b"FD",
    b"FL",
    b"IS",
    b"LO",
    b"LT",
    b"OB",
    b"OD",
    b"OF",
    b"OL",
    b"OV",
    b"OW",
    b"PN",
    b"SH",
    b"SL",
    b"SQ",
    b"SS",
    b"ST",
    b"SV",
    b"TM",
    b"UC",
    b"UI",
    b"UL",
    b"UN",
    b"UR",
    b"US",
    b"UT",
    b"UV",
}


def _ftyp_brands(data: bytes) -> set[bytes]:
    """Major and compatible brands of an ISO-BMFF ``ftyp`` box (HEIC, AVIF, MP4...)."""
    if len(data) < 16 or data[4:8] != b"ftyp":
        return set()
    size = struct.unpack(">I", data[:4])[0]
    size = min(max(size, 16), len(data), 4096)
    brands = {data[8:12]}
    brands.update(data[i : i + 4] for i in range(16, size - 3, 4))
    return brands


def looks_like_headerless_dicom(data: bytes) -> bool:
    """A DICOM data set written without the 128-byte preamble and ``DICM`` prefix.

    Old modalities and some exports write the bare data set, usually Implicit VR Little
    Endian starting with group 0x0002 (file meta) or 0x0008 (identification). We require the
    first element to be such a tag with either a valid explicit VR or a plausible implicit
    length, and the second element to follow at a consistent offset in the same or a later
    group. The header parse in :mod:`chalicelib.imaging.dicom` is the final judge.
    """
    if len(data) < 32:
        return False
    group, elem = struct.unpack_from("<HH", data, 0)
    if group not in (0x0002, 0x0008) or elem > 0x0200:
        return False
    if data[4:6] in _DICOM_VRS and data[4:6].isupper():
        vr = data[4:6]
        if vr in (b"OB", b"OW", b"OF", b"SQ", b"UT", b"UN", b"UC", b"UR", b"OD", b"OL", b"OV"):
            length = struct.unpack_from("<I", data, 8)[0]
            nxt = 12 + length
        else:
            length = struct.unpack_from("<H", data, 6)[0]
            nxt = 8 + length
    else:
        length = struct.unpack_from("<I", data, 4)[0]
        nxt = 8 + length
    if length == 0xFFFFFFFF or nxt + 4 > len(data) or length > 1 << 16:
        return False
    group2, elem2 = struct.unpack_from("<HH", data, nxt)
    return group2 > group or (group2 == group and elem2 > elem)


def sniff(data: bytes) -> Sniffed:
    """Return the accepted format of ``data`` or raise :class:`RenderError` saying why not."""
    if not data:
        raise RenderError(
            tr(
                "File is empty (0 bytes): the upload did not complete",
                "El fichero está vacío (0 bytes): la subida no se completó",
            ),
            "empty",
        )
    head = data[:64]
    if len(data) >= 132 and data[128:132] == b"DICM":
        return DICOM
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return TIFF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    brands = _ftyp_brands(data)
    if brands & _HEIC_BRANDS or (brands & {b"mif1", b"msf1"} and not brands & _AVIF_BRANDS):
        return HEIF
    if looks_like_headerless_dicom(data):
        return DICOM
    what = _describe(data, brands)
    raise RenderError(
        tr(
            f"File is not a supported image: {what}",
            f"El fichero no es una imagen admitida: {what.es}",
        ),
        "not_an_image",
    )


def _describe(data: bytes, brands: set[bytes]) -> Text:
    head = data[:1024]
    stripped = head.lstrip()
    if b"%PDF-" in head:
        return tr(
            "looks like a PDF (upload it as a document instead)",
            "parece un PDF (súbelo como documento)",
        )
    if head.startswith(b"PK\x03\x04"):
        return tr(
            "looks like a ZIP archive or Office document (extract the images and upload them)",
            "parece un archivo ZIP o un documento de Office (extrae las imágenes y súbelas)",
        )
    if brands & _AVIF_BRANDS:
        return tr(
            "looks like an AVIF image, which is not supported (export it as JPEG or PNG)",
            "parece una imagen AVIF, que no se admite (expórtala como JPEG o PNG)",
        )
    if brands & _VIDEO_BRANDS:
        return tr("looks like a video (MP4/MOV)", "parece un vídeo (MP4/MOV)")
    if head.startswith((b"GIF87a", b"GIF89a")):
        return tr(
            "looks like a GIF, which is not accepted (export it as PNG or JPEG)",
            "parece un GIF, que no se acepta (expórtalo como PNG o JPEG)",
        )
    if head.startswith(b"BM"):
        return tr(
            "looks like a BMP, which is not accepted (export it as PNG or JPEG)",
            "parece un BMP, que no se acepta (expórtalo como PNG o JPEG)",
        )
    if head.startswith((b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xff\x4f\xff\x51")):
        return tr(
            "looks like a bare JPEG 2000 file (only DICOM-wrapped JPEG 2000 is accepted)",
            "parece un fichero JPEG 2000 suelto (solo se acepta JPEG 2000 dentro de un DICOM)",
        )
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return tr("looks like a legacy Office document", "parece un documento de Office antiguo")
    if head.startswith(b"\x1f\x8b") or head.startswith(b"7z\xbc\xaf") or head.startswith(b"Rar!"):
        return tr("looks like a compressed archive", "parece un archivo comprimido")
    if stripped[:5].lower() in (b"<?xml", b"<svg ") or b"<svg" in stripped[:256].lower():
        return tr("looks like XML or an SVG drawing", "parece XML o un dibujo SVG")
    if stripped[:15].lower().startswith((b"<!doctype html", b"<html")):
        return tr("looks like a web page (HTML)", "parece una página web (HTML)")
    if len(data) >= 128 and data[:128].strip(b"\x00") == b"" and len(data) < 132:
        return tr(
            "looks like a DICOM file cut off before its header (truncated)",
            "parece un DICOM cortado antes de su cabecera (incompleto)",
        )
    if len(data) > 128 and data[:128].strip(b"\x00") == b"":
        return tr(
            "starts like a DICOM file but the 'DICM' marker is missing (corrupt)",
            "empieza como un DICOM pero le falta la marca 'DICM' (dañado)",
        )
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return _BINARY
    if text.isprintable() or all(c.isprintable() or c in "\r\n\t" for c in text):
        return tr("looks like a text file", "parece un fichero de texto")
    return _BINARY


_BINARY = tr("unrecognised binary data", "datos binarios no reconocidos")
