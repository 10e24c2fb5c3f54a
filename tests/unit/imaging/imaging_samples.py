"""Real-format sample files generated in memory (Pillow, numpy, pydicom, gdcm).

No binary fixtures are checked in: every test builds the bytes it needs.
"""

from __future__ import annotations

import base64
import io
import struct
import tempfile
import zlib
from pathlib import Path

import numpy as np
import pydicom
from PIL import Image, ImageCms
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import (
    UID,
    DigitalXRayImageStorageForPresentation,
    ExplicitVRLittleEndian,
    JPEGBaseline8Bit,
    generate_uid,
)

PATIENT_NAME = "Pérez^Lucía"
PATIENT_ID = "HC-000123"

# --- ICC --------------------------------------------------------------------------------------

# sRGB primaries adapted to D50 (columns of the RGB->XYZ matrix of an ICC matrix/TRC profile).
_PRIMARIES = {
    "r": (0.4361, 0.2225, 0.0139),
    "g": (0.3851, 0.7169, 0.0971),
    "b": (0.1431, 0.0606, 0.7141),
}


def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def _xyz_tag(xyz) -> bytes:
    return b"XYZ \0\0\0\0" + b"".join(_s15(v) for v in xyz)


def _desc_tag(text: str) -> bytes:
    ascii_ = text.encode("ascii") + b"\0"
    return (
        b"desc\0\0\0\0"
        + struct.pack(">I", len(ascii_))
        + ascii_
        + b"\0" * 8  # unicode language code + count
        + b"\0" * 3  # scriptcode code + count
        + b"\0" * 67
    )


def make_icc_profile(description: str = "Cuspide swapped RGB", *, swap_red_blue: bool = True):
    """A minimal ICC v2 RGB matrix/TRC display profile.

    With ``swap_red_blue`` the red and blue primaries are exchanged, so a pixel stored as
    pure red *means* blue: converting to sRGB must turn it blue. That makes colour
    management observable in a test.
    """
    r, g, b = _PRIMARIES["r"], _PRIMARIES["g"], _PRIMARIES["b"]
    if swap_red_blue:
        r, b = b, r
    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, 0x0233) + b"\0\0"  # gamma 2.2, padded
    tags = [
        (b"desc", _desc_tag(description)),
        (b"wtpt", _xyz_tag((0.9642, 1.0, 0.8249))),
        (b"rXYZ", _xyz_tag(r)),
        (b"gXYZ", _xyz_tag(g)),
        (b"bXYZ", _xyz_tag(b)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
        (b"cprt", b"text\0\0\0\0" + b"No copyright\0"),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for sig, data in tags:
        while len(data) % 4:
            data += b"\0"
        table += sig + struct.pack(">II", offset + len(body), len(data))
        body += data
    size = offset + len(body)
    header = (
        struct.pack(">I", size)
        + b"lcms"
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + struct.pack(">6H", 2024, 1, 1, 0, 0, 0)
        + b"acsp"
        + b"APPL"
        + b"\0" * 4  # flags
        + b"\0" * 8  # manufacturer, model
        + b"\0" * 8  # attributes
        + b"\0" * 4  # rendering intent
        + _s15(0.9642)
        + _s15(1.0)
        + _s15(0.8249)
        + b"lcms"
        + b"\0" * 16
        + b"\0" * 28
    )
    assert len(header) == 128
    profile = header + struct.pack(">I", len(tags)) + table + body
    ImageCms.ImageCmsProfile(io.BytesIO(profile))  # must be loadable by LittleCMS
    return profile


# --- photos -----------------------------------------------------------------------------------


def two_tone(width: int, height: int, left=(255, 0, 0), right=(0, 0, 255)) -> Image.Image:
    """Left half one colour, right half another, with a little texture."""
    im = Image.new("RGB", (width, height), right)
    im.paste(left, (0, 0, width // 2, height))
    return im


def noise_rgb(width: int, height: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), "RGB")


def camera_exif(orientation: int = 6) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Cuspide Camera"  # Make
    exif[0x0110] = "Model X"  # Model
    exif[0x0112] = orientation  # Orientation
    exif[0x0131] = "Firmware 1.0"  # Software
    exif.get_ifd(0x8769)[0x9003] = "2023:05:17 10:30:00"  # DateTimeOriginal
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (40.0, 25.0, 12.5)
    gps[3] = "W"
    gps[4] = (3.0, 42.0, 1.0)
    return exif


XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="Dr Secret"/>'
    b'</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)


def photo_jpeg(
    width: int = 1600,
    height: int = 1000,
    *,
    orientation: int = 6,
    icc: bytes | None = None,
    comment: bytes = b"patient: Lucia Perez",
    image: Image.Image | None = None,
    quality: int = 92,
) -> bytes:
    """A camera-like JPEG with EXIF (orientation, GPS, date), XMP, comment and ICC."""
    im = image or two_tone(width, height)
    buf = io.BytesIO()
    im.save(
        buf,
        "JPEG",
        quality=quality,
        exif=camera_exif(orientation),
        comment=comment,
        icc_profile=icc or make_icc_profile("Cuspide sRGB-like", swap_red_blue=False),
        xmp=XMP,
    )
    return buf.getvalue()


def png_bytes(im: Image.Image, **params) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG", **params)
    return buf.getvalue()


def xray_png16(width: int = 1200, height: int = 600, *, bits: int = 12) -> bytes:
    """16-bit greyscale PNG holding a horizontal gradient over ``bits`` bits of data."""
    top = 2**bits - 1
    row = np.linspace(0, top, width).astype(np.uint16)
    arr = np.tile(row, (height, 1))
    im = Image.fromarray(arr)  # mode I;16
    assert im.mode == "I;16"
    return png_bytes(im)


def bomb_png(width: int = 20000, height: int = 20000) -> bytes:
    """A tiny PNG whose header declares a huge image (decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


# HEIC as an iPhone writes it: rotation in the container (an ``irot`` box), EXIF orientation 6
# describing the same turn, EXIF with camera and GPS, XMP and an ICC profile. pi-heif decodes
# but cannot encode, so the bytes are stored here. Made from
# ``photo_jpeg(96, 64, orientation=6, quality=95)`` (red left half, blue right) with libheif's
# ``heif-enc -q 60`` (1.15.1), then an ``irot`` property (angle 3: 270 degrees anticlockwise,
# i.e. EXIF 6) added to the primary item in ``ipco``/``ipma`` and the ``iloc`` offsets shifted.
# Displayed correctly it is 64x96 with red on top and blue below.
HEIC_PHOTO = base64.b64decode(
    "AAAAHGZ0eXBoZWljAAAAAG1pZjFoZWljbWlhZgAAA9VtZXRhAAAAAAAAACFoZGxyAAAAAAAAAABwaWN0AAAAAAAA"
    "AAAAAAAAAAAAAA5waXRtAAAAAAABAAAARmlsb2MAAAAAREAAAwABAAAAAAP5AAEAAAAAAAAAcQACAAAAAARqAAEA"
    "AAAAAAABDAADAAAAAAV2AAEAAAAAAAABFQAAAGJpaW5mAAAAAAADAAAAFWluZmUCAAAAAAEAAGh2YzEAAAAAFWlu"
    "ZmUCAAABAAIAAEV4aWYAAAAAKmluZmUCAAABAAMAAG1pbWUAYXBwbGljYXRpb24vcmRmK3htbAAAAAACymlwcnAA"
    "AAKqaXBjbwAAAHVodmNDAQNwAAAAAAAAAAAAHvAA/P34+AAADwMgAAEAGEABDAH//wNwAAADAJAAAAMAAAMAHroC"
    "QCEAAQAoQgEBA3AAAAMAkAAAAwAAAwAeoDCBBZbqSSmubAgAAAMACAAAAwAIQCIAAQAHRAHBcrAiQAAAABRpc3Bl"
    "AAAAAAAAAGAAAABAAAACAGNvbHJwcm9mAAAB9GxjbXMCEAAAbW50clJHQiBYWVogB+gAAQABAAAAAAAAYWNzcEFQ"
    "UEwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAPbWAAEAAAAA0y1sY21zAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAJZGVzYwAAAPAAAABsd3RwdAAAAVwAAAAUclhZWgAAAXAAAAAUZ1hZWgAA"
    "AYQAAAAUYlhZWgAAAZgAAAAUclRSQwAAAawAAAAQZ1RSQwAAAbwAAAAQYlRSQwAAAcwAAAAQY3BydAAAAdwAAAAY"
    "ZGVzYwAAAAAAAAASQ3VzcGlkZSBzUkdCLWxpa2UAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAWFlaIAAAAAAAAPbWAAEAAAAA0y1YWVog"
    "AAAAAAAAb6QAADj2AAADj1hZWiAAAAAAAABilgAAt4cAABjcWFlaIAAAAAAAACSiAAAPgwAAts9jdXJ2AAAAAAAA"
    "AAECMwAAY3VydgAAAAAAAAABAjMAAGN1cnYAAAAAAAAAAQIzAAB0ZXh0AAAAAE5vIGNvcHlyaWdodAAAAAAAAAAQ"
    "cGl4aQAAAAADCAgIAAAACWlyb3QDAAAAGGlwbWEAAAAAAAAAAQABBYECg4SFAAAAKGlyZWYAAAAAAAAADmNkc2MA"
    "AgABAAEAAAAOY2RzYwADAAEAAQAAApptZGF0AAAAbSgBrwng48CbUR///ei+//9uY9D/WtXt6NYz/++o2WctkC6Q"
    "oA+jJND98/v0oe9nFk4PeH8Xwf8K3GQf8LzfawcXyMvHwUHN6uA3CGVEud29G2v8GlsVu/rXk3QktfZXx8dCswQz"
    "zzynT29Vwj4AAAAATU0AKgAAAAgABgEPAAIAAAAPAAAAVgEQAAIAAAAIAAAAZgESAAMAAAABAAYAAAExAAIAAAAN"
    "AAAAbodpAAQAAAABAAAAfIglAAQAAAABAAAAogAAAABDdXNwaWRlIENhbWVyYQAATW9kZWwgWABGaXJtd2FyZSAx"
    "LjAAAAABkAMAAgAAABQAAACOAAAAADIwMjM6MDU6MTcgMTA6MzA6MDAAAAQAAQACAAAAAk4AAAAAAgAFAAAAAwAA"
    "ANgAAwACAAAAAlcAAAAABAAFAAAAAwAAAPAAAAAAAAAAKAAAAAEAAAAZAAAAAQAAABkAAAACAAAAAwAAAAEAAAAq"
    "AAAAAQAAAAEAAAABPD94cGFja2V0IGJlZ2luPSIiIGlkPSJXNU0wTXBDZWhpSHpyZVN6TlRjemtjOWQiPz48eDp4"
    "bXBtZXRhIHhtbG5zOng9ImFkb2JlOm5zOm1ldGEvIj48cmRmOlJERiB4bWxuczpyZGY9Imh0dHA6Ly93d3cudzMu"
    "b3JnLzE5OTkvMDIvMjItcmRmLXN5bnRheC1ucyMiPjxyZGY6RGVzY3JpcHRpb24geG1sbnM6ZGM9Imh0dHA6Ly9w"
    "dXJsLm9yZy9kYy9lbGVtZW50cy8xLjEvIiBkYzpjcmVhdG9yPSJEciBTZWNyZXQiLz48L3JkZjpSREY+PC94Onht"
    "cG1ldGE+PD94cGFja2V0IGVuZD0idyI/Pg=="
)


PDF = (
    b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
)


# --- DICOM ------------------------------------------------------------------------------------


def gradient16(rows: int, cols: int, bits: int, frames: int = 1) -> np.ndarray:
    """Diagonal gradient over the full range of ``bits`` (uint16)."""
    top = 2**bits - 1
    y, x = np.mgrid[0:rows, 0:cols]
    base = ((x / max(cols - 1, 1)) * 0.7 + (y / max(rows - 1, 1)) * 0.3) * top
    arr = base.astype(np.uint16)
    if frames > 1:
        return np.stack([arr] * frames)
    return arr


def base_dataset(
    *,
    rows: int,
    cols: int,
    frames: int = 1,
    modality: str = "PX",
    photometric: str = "MONOCHROME2",
    bits_stored: int = 12,
    bits_allocated: int = 16,
    samples: int = 1,
) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = DigitalXRayImageStorageForPresentation
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = DigitalXRayImageStorageForPresentation
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.PatientName = PATIENT_NAME
    ds.PatientID = PATIENT_ID
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.Modality = modality
    ds.StudyDate = "20240131"
    ds.BodyPartExamined = "JAW"
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = samples
    ds.PhotometricInterpretation = photometric
    if samples == 3:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated = bits_allocated
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 0
    if frames > 1:
        ds.NumberOfFrames = frames
    return ds


def dicom_bytes(ds: Dataset, *, preamble: bool = True) -> bytes:
    buf = io.BytesIO()
    if preamble:
        ds.save_as(buf, enforce_file_format=True)
    else:
        bare = ds.copy()
        del bare.file_meta
        bare.save_as(buf, implicit_vr=True, little_endian=True)
    return buf.getvalue()


def native_dicom(arr: np.ndarray, *, preamble: bool = True, **kwargs) -> bytes:
    frames = arr.shape[0] if arr.ndim == 3 and kwargs.get("samples", 1) == 1 else 1
    rows, cols = (arr.shape[1], arr.shape[2]) if frames > 1 else arr.shape[:2]
    ds = base_dataset(rows=rows, cols=cols, frames=frames, **kwargs)
    if ds.BitsAllocated == 8:
        arr = arr.astype(np.uint8)
    ds.PixelData = arr.tobytes()
    return dicom_bytes(ds, preamble=preamble)


def compressed_dicom(
    arr: np.ndarray, transfer_syntax: UID, *, encode: dict | None = None, **kwargs
) -> bytes:
    """Encode with pydicom's encoders (RLE natively, JPEG-LS via pyjpegls, J2K via
    pylibjpeg-openjpeg)."""
    frames = arr.shape[0] if arr.ndim == 3 and kwargs.get("samples", 1) == 1 else 1
    rows, cols = (arr.shape[1], arr.shape[2]) if frames > 1 else arr.shape[:2]
    ds = base_dataset(rows=rows, cols=cols, frames=frames, **kwargs)
    ds.PixelData = arr.tobytes()
    ds.compress(transfer_syntax, arr, **(encode or {}))
    assert ds.file_meta.TransferSyntaxUID == transfer_syntax
    return dicom_bytes(ds)


def jpeg_baseline_dicom(im: Image.Image, frames: int = 1) -> bytes:
    """JPEG Baseline DICOM: Pillow-encoded frames encapsulated by pydicom."""
    encoded = []
    for _ in range(frames):
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=90)
        encoded.append(buf.getvalue())
    color = im.mode == "RGB"
    ds = base_dataset(
        rows=im.height,
        cols=im.width,
        frames=frames,
        modality="XC" if color else "IO",
        photometric="YBR_FULL_422" if color else "MONOCHROME2",
        bits_stored=8,
        bits_allocated=8,
        samples=3 if color else 1,
    )
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.PixelData = encapsulate(encoded)
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    return dicom_bytes(ds)


def gdcm_transcode(data: bytes, transfer_syntax: str = "JPEGLosslessProcess14_1") -> bytes:
    """Transcode with GDCM (used for JPEG Lossless, which pydicom cannot encode)."""
    import gdcm

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp, "in.dcm"), Path(tmp, "out.dcm")
        src.write_bytes(data)
        reader = gdcm.ImageReader()
        reader.SetFileName(str(src))
        assert reader.Read()
        change = gdcm.ImageChangeTransferSyntax()
        change.SetTransferSyntax(gdcm.TransferSyntax(getattr(gdcm.TransferSyntax, transfer_syntax)))
        change.SetInput(reader.GetImage())
        assert change.Change()
        writer = gdcm.ImageWriter()
        writer.SetFileName(str(dst))
        writer.SetFile(reader.GetFile())
        writer.SetImage(change.GetOutput())
        assert writer.Write()
        return dst.read_bytes()


def read_ts(data: bytes) -> str:
    return str(
        pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True).file_meta.TransferSyntaxUID
    )
