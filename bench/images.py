"""Benchmark: the imaging pipeline vs a naive Pillow pipeline vs libvips (pyvips).

    .venv/bin/python bench/images.py [--quick] [--repeat N] [--keep DIR]

Builds a corpus in a temp dir (large camera JPEGs with EXIF, a HEIC when libvips can write
one, a 16-bit panoramic PNG, panoramic DICOM in several transfer syntaxes, a CBCT-like
multi-frame volume), then runs every (pipeline, file, X-ray full format) in a fresh child
process. Each child renders once to warm up (imports, codec plugins), returns freed memory to
the OS, resets the peak-RSS counter, then measures one render's peak memory and the median
time of N renders.

Times are CPU times of the child (all its threads), so other jobs on a shared machine do not
skew the ratios; wall time is printed beside them. Prints per file: ms until thumb+preview are
encoded, ms for the whole job, peak extra memory per source pixel, bytes per rendition, the
ratios, at the end whether each target of issues 4 and 23 is met, and one PASS/FAIL line per
speed goal of issue 23 (exit status 1 when one fails). Needs requirements-bench.txt;
without libvips the libvips column is skipped with a note.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PIPELINES = ("ours", "naive", "vips")


# --- corpus --------------------------------------------------------------------------------


def _photo_like(width: int, height: int, seed: int):
    """Smooth colour fields + fine noise: compresses like a real photo (not like noise)."""
    import numpy as np
    from PIL import Image, ImageFilter

    rng = np.random.default_rng(seed)
    small = Image.fromarray(rng.integers(0, 256, (height // 64, width // 64, 3), np.uint8))
    base = small.resize((width, height), Image.Resampling.BICUBIC).filter(
        ImageFilter.GaussianBlur(3)
    )
    arr = np.asarray(base).astype(np.int16)
    arr += rng.integers(-6, 7, arr.shape, dtype=np.int16)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")


def _exif(orientation: int):
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "Bench", "Cam", orientation
    exif.get_ifd(0x8769)[0x9003] = "2024:02:02 10:00:00"
    exif.get_ifd(0x8825).update({1: "N", 2: (40.0, 25.0, 1.0)})
    return exif


def _pano(rows: int, cols: int, bits: int = 12):
    import numpy as np

    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:rows, 0:cols]
    arch = np.exp(
        -(((y - rows * 0.55) / (rows * 0.18)) ** 2 + ((x - cols / 2) / (cols * 0.45)) ** 2 * 0.3)
    )
    teeth = 0.5 + 0.5 * np.sin(x / 18.0) ** 8
    img = 0.15 + 0.7 * arch * (0.6 + 0.4 * teeth)
    img += rng.normal(0, 0.01, img.shape)
    return (np.clip(img, 0, 1) * (2**bits - 1)).astype(np.uint16)


def _dicom(arr, ts=None, modality="PX", frames=1, encode=None) -> bytes:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID, ds.SOPInstanceUID = SecondaryCaptureImageStorage, generate_uid()
    ds.PatientName, ds.PatientID, ds.Modality, ds.StudyDate = (
        "Bench^Patient",
        "B1",
        modality,
        "20240202",
    )
    ds.Rows, ds.Columns = arr.shape[-2], arr.shape[-1]
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.PixelData = arr.tobytes()
    if ts is not None:
        ds.compress(ts, arr, **(encode or {}))
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def _heic(jpeg: bytes) -> bytes | None:
    """The same photo as HEIC (what iPhones upload), written by libvips + libheif (bench only:
    the product reads HEIC with the decode-only pi-heif)."""
    try:
        import pyvips

        return pyvips.Image.new_from_buffer(jpeg, "").heifsave_buffer(compression="hevc", Q=80)
    except Exception:  # no libvips, or a libheif without an HEVC encoder
        return None


def build_corpus(directory: Path, quick: bool) -> list[dict]:
    from PIL import Image
    from pydicom.uid import JPEG2000Lossless, JPEGLSLossless, RLELossless

    items = []

    def add(name, data, kind, pixels, what, frames=1):
        path = directory / name
        path.write_bytes(data)
        items.append(
            {
                "name": name,
                "path": str(path),
                "kind": kind,
                "pixels": pixels,
                "what": what,
                "frames": frames,
            }
        )

    sizes = [(4032, 3024, "12 MP phone JPEG, EXIF orientation 6")]
    if not quick:
        sizes.append((6000, 4000, "24 MP camera JPEG, EXIF orientation 1"))
    for i, (w, h, what) in enumerate(sizes):
        buf = io.BytesIO()
        _photo_like(w, h, i).save(
            buf, "JPEG", quality=92, exif=_exif(6 if i == 0 else 1), comment=b"x"
        )
        add(f"photo_{w * h // 1_000_000}mp.jpg", buf.getvalue(), "photo", w * h, what)
        if i == 0 and (heic := _heic(buf.getvalue())):
            add(f"photo_{w * h // 1_000_000}mp.heic", heic, "photo", w * h, "12 MP HEIC")

    rows, cols = (1400, 2900) if not quick else (700, 1450)
    pano = _pano(rows, cols)
    buf = io.BytesIO()
    Image.fromarray(pano).save(buf, "PNG")
    add("pano16.png", buf.getvalue(), "xray", rows * cols, "16-bit panoramic PNG (12-bit data)")
    add("pano_explicit.dcm", _dicom(pano), "dicom", rows * cols, "panoramic DICOM, Explicit VR LE")
    add(
        "pano_rle.dcm",
        _dicom(pano, RLELossless),
        "dicom",
        rows * cols,
        "panoramic DICOM, RLE Lossless",
    )
    add(
        "pano_jpegls.dcm",
        _dicom(pano, JPEGLSLossless),
        "dicom",
        rows * cols,
        "panoramic DICOM, JPEG-LS lossless",
    )
    add(
        "pano_j2k.dcm",
        _dicom(pano, JPEG2000Lossless),
        "dicom",
        rows * cols,
        "panoramic DICOM, JPEG 2000 lossless",
    )

    n, side = (240, 400) if not quick else (60, 200)
    import numpy as np

    slab = _pano(side, side)
    volume = np.stack([np.roll(slab, k, axis=1) for k in range(n)])
    add(
        "cbct.dcm",
        _dicom(volume, modality="CT", frames=n),
        "dicom",
        n * side * side,
        f"CBCT-like volume, {n} frames of {side}x{side}, native",
        frames=n,
    )
    return items


# --- pipelines (run in a child process) ----------------------------------------------------


def run_ours(data: bytes, kind: str, xray_format: str):
    from chalicelib.imaging.render import RenderOptions, render

    marks = {}
    t0 = time.process_time()

    def on(r):
        marks[r.name] = time.process_time() - t0

    result = render(data, kind, RenderOptions(xray_full_format=xray_format), on_rendition=on)
    total = time.process_time() - t0
    sizes = {k: r.size for k, r in result.renditions.items()}
    return max(marks["thumb"], marks["preview"]), total, sizes


def _minmax_8bit(arr):
    """What one writes first to show 12/16-bit data: a float min/max stretch of every pixel."""
    import numpy as np
    from PIL import Image

    arr = arr.astype(np.float64)
    arr = (arr - arr.min()) / max(arr.max() - arr.min(), 1) * 255
    return Image.fromarray(arr.astype(np.uint8), "L")


def run_naive(data: bytes, kind: str, xray_format: str):
    """What one would write first: full decode for every rendition, Image.thumbnail, and a
    min/max stretch for 12/16-bit data (a plain convert("L") would not do: it clips most of a
    12-bit image to white)."""
    from PIL import Image, ImageOps

    def decode():
        if kind == "dicom":
            import pydicom

            ds = pydicom.dcmread(io.BytesIO(data))
            arr = ds.pixel_array  # the whole volume
            if arr.ndim == 3:
                arr = arr[arr.shape[0] // 2]
            return _minmax_8bit(arr)
        im = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
        if im.mode.startswith("I"):
            import numpy as np

            return _minmax_8bit(np.asarray(im))
        return im.convert("L" if kind == "xray" else "RGB")

    def save(im, fmt, **kw):
        buf = io.BytesIO()
        im.save(buf, fmt, **kw)
        return len(buf.getvalue())

    t0 = time.process_time()
    sizes = {}
    for name, box in (("thumb", 200), ("preview", 800)):
        im = decode()
        im.thumbnail((box, box))
        sizes[name] = save(im, "JPEG", quality=85)
    tp = time.process_time() - t0
    im = decode()
    gray = im.mode == "L"
    if gray and xray_format == "png":
        sizes["full"] = save(im, "PNG")
    else:
        sizes["full"] = save(im, "JPEG", quality=90 if gray else 88, progressive=True)
    return tp, time.process_time() - t0, sizes


def run_vips(data: bytes, kind: str, xray_format: str):
    import pyvips

    t0 = time.process_time()
    sizes = {}
    if kind == "dicom":
        raise RuntimeError("libvips cannot read DICOM")
    sixteen = kind == "xray"

    def prep(im):
        if sixteen:  # min/max stretch to 8 bits
            im = im.scaleimage().copy(interpretation="b-w")
        return im

    for name, box in (("thumb", 200), ("preview", 800)):
        if sixteen:
            im = prep(pyvips.Image.new_from_buffer(data, "")).thumbnail_image(box, size="down")
        else:
            im = pyvips.Image.thumbnail_buffer(data, box, size="down")
        sizes[name] = len(im.jpegsave_buffer(Q=85, strip=True))
    tp = time.process_time() - t0
    im = prep(pyvips.Image.new_from_buffer(data, "")).autorot()
    if sixteen and xray_format == "png":
        sizes["full"] = len(im.pngsave_buffer())
    else:
        sizes["full"] = len(im.jpegsave_buffer(Q=90 if sixteen else 88, interlace=True, strip=True))
    return tp, time.process_time() - t0, sizes


def _peak_rss() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _rss_now() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _settle() -> None:
    """Free what the warm-up left, give it back to the OS, and reset the peak-RSS counter."""
    gc.collect()
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)


def child(pipeline: str, path: str, kind: str, repeat: int, xray_format: str) -> dict:
    fn = {"ours": run_ours, "naive": run_naive, "vips": run_vips}[pipeline]
    if pipeline != "vips":
        from chalicelib.imaging.raster import _register_heif

        _register_heif()  # the naive pipeline may open HEIC through the same plugin
    decoded = []
    if pipeline == "ours":  # count the DICOM frames the pipeline decodes
        import chalicelib.imaging.dicom as dicom_module

        real = dicom_module.pixel_array

        def counting(src, **kwargs):
            decoded.append(kwargs.get("index"))
            return real(src, **kwargs)

        dicom_module.pixel_array = counting
    data = Path(path).read_bytes()
    fn(data, kind, xray_format)  # warm-up: imports, codec plugins, caches
    _settle()
    baseline = _rss_now()
    decoded.clear()
    tps, totals, walls = [], [], []
    for i in range(repeat):
        w0 = time.perf_counter()
        tp, total, sizes = fn(data, kind, xray_format)
        walls.append(time.perf_counter() - w0)
        tps.append(tp)
        totals.append(total)
        if i == 0:
            peak = _peak_rss() - baseline
            frames = len(decoded)
    return {
        "tp_ms": statistics.median(tps) * 1000,
        "total_ms": statistics.median(totals) * 1000,
        "wall_ms": statistics.median(walls) * 1000,
        "peak_extra": max(0, peak),
        "frames_decoded": frames,
        "sizes": sizes,
    }


def vips_available() -> str | None:
    try:
        import pyvips

        return f"libvips {pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}"
    except Exception as exc:  # ImportError, or OSError when libvips.so is missing
        print(f"NOTE: libvips comparison skipped ({type(exc).__name__}: {exc}).")
        print("      apt-get install -y libvips42 && pip install -r requirements-bench.txt")
        return None


# --- driver --------------------------------------------------------------------------------

DEFAULT_XRAY_FORMAT = "jpeg"  # RenderOptions' default (the clinic setting can choose png)
THUMB_MAX, PREVIEW_MAX = 50 * 1024, 200 * 1024
MAX_BYTES_PER_PIXEL = 12


def measure(pipeline, item, repeat, xray_format):
    cmd = [
        sys.executable,
        __file__,
        "--child",
        pipeline,
        item["path"],
        item["kind"],
        str(repeat),
        xray_format,
    ]
    env = {**os.environ, "VIPS_CONCURRENCY": os.environ.get("VIPS_CONCURRENCY", "1")}
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=900)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": last[:80]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def kb(n):
    return f"{n / 1024:.0f}"


def _verdict(ok: bool) -> str:
    return "met   " if ok else "MISSED"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller corpus, for a smoke run")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="write the corpus here and keep it")
    ap.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        pipeline, path, kind, repeat, xray_format = args.child
        print(json.dumps(child(pipeline, path, kind, int(repeat), xray_format)))
        return 0

    vips = vips_available()
    import PIL
    import pydicom

    print(
        f"Python {sys.version.split()[0]}, Pillow {PIL.__version__}, "
        f"pydicom {pydicom.__version__}, "
        f"{vips or 'no libvips'}, {os.cpu_count()} CPUs, median of {args.repeat} runs, "
        "libvips single-threaded (VIPS_CONCURRENCY=1) like one Lambda vCPU"
    )
    tmp = tempfile.TemporaryDirectory()
    directory = args.keep or Path(tmp.name)
    directory.mkdir(parents=True, exist_ok=True)
    items = build_corpus(directory, args.quick)

    header = (
        f"{'file':<18}{'pipeline':<11}{'t+p ms':>7}{'total ms':>9}{'wall ms':>8}{'B/px':>6}"
        f"{'thumb KB':>9}{'prev KB':>8}{'full KB':>8}{'orig KB':>8}{'orig/hot':>9}"
        f"{'naive/ours t+p':>15}{'naive/ours tot':>15}{'vips/ours tot':>14}"
    )
    print(header)
    print("-" * len(header))
    # (True: met, False: missed, None: shown for reference only), detail
    checks: dict[str, list[tuple[bool | None, str]]] = {
        "thumb+preview >= 2x faster than the naive Pillow pipeline": [],
        "whole job no slower than libvips": [],
        "thumbnails <= 50 KB and previews <= 200 KB": [],
        "hot bytes of an X-ray study <= 1/10 of the original DICOM": [],
        f"peak memory <= {MAX_BYTES_PER_PIXEL} bytes per source pixel": [],
        "a CBCT volume rendered without decoding every slice": [],
    }
    (tp_check, vips_check, size_check, hot_check, mem_check, cbct_check) = checks.values()
    for item in items:
        size = Path(item["path"]).stat().st_size
        xray = item["kind"] in ("dicom", "xray")
        formats = (DEFAULT_XRAY_FORMAT, "png") if xray else ("jpeg",)
        print(f"# {item['name']}: {item['what']} ({item['pixels'] / 1e6:.1f} MP source)")
        for fmt in formats:
            runs = {
                p: measure(p, item, args.repeat, fmt)
                for p in ("ours", "naive", "vips")
                if p != "vips" or (vips and item["kind"] != "dicom")
            }
            label = f" {fmt}" if xray else ""
            for name, r in runs.items():
                if "error" in r:
                    print(f"{item['name']:<18}{name + label:<11}  n/a: {r['error']}")
                    continue
                s = r["sizes"]
                hot = sum(s.values())
                ratios = ""
                if name == "ours" and "error" not in runs["naive"]:
                    nv = runs["naive"]
                    ratios += (
                        f"{nv['tp_ms'] / r['tp_ms']:>15.2f}{nv['total_ms'] / r['total_ms']:>15.2f}"
                    )
                    vp = runs.get("vips", {"error": 1})
                    ratios += (
                        f"{vp['total_ms'] / r['total_ms']:>14.2f}"
                        if "error" not in vp
                        else f"{'n/a':>14}"
                    )
                print(
                    f"{item['name']:<18}{name + label:<11}{r['tp_ms']:>7.0f}{r['total_ms']:>9.0f}"
                    f"{r['wall_ms']:>8.0f}{r['peak_extra'] / item['pixels']:>6.1f}"
                    f"{kb(s['thumb']):>9}{kb(s['preview']):>8}"
                    f"{kb(s['full']):>8}{kb(size):>8}{size / hot:>9.1f}{ratios}"
                )
            ours, naive, vp = runs["ours"], runs["naive"], runs.get("vips")
            if "error" in ours:
                continue
            where = f"{item['name']}{label}"
            s = ours["sizes"]
            if "error" not in naive:  # every full format: thumb+preview must not depend on it
                x = naive["tp_ms"] / ours["tp_ms"]
                tp_check.append((x >= 2, f"{where} {x:.2f}x"))
            if fmt == formats[0]:
                size_check.append(
                    (
                        s["thumb"] <= THUMB_MAX and s["preview"] <= PREVIEW_MAX,
                        f"{where} {kb(s['thumb'])}/{kb(s['preview'])} KB",
                    )
                )
                bpp = ours["peak_extra"] / item["pixels"]
                mem_check.append((bpp <= MAX_BYTES_PER_PIXEL, f"{where} {bpp:.1f}"))
                if item["frames"] > 1:
                    n = ours["frames_decoded"]
                    cbct_check.append(
                        (n < item["frames"], f"{where} {n} of {item['frames']} frames decoded")
                    )
            if vp and "error" not in vp:
                x = vp["total_ms"] / ours["total_ms"]
                vips_check.append((x >= 1, f"{where} {x:.2f}x"))
            if item["kind"] == "dicom":
                x = size / sum(s.values())
                if fmt == formats[0]:
                    hot_check.append((x >= 10, f"{where} 1/{x:.1f}"))
                else:  # the clinic's lossless option: shown, not held to the target
                    hot_check.append(
                        (None, f"{where} 1/{x:.1f} (the lossless option: for reference)")
                    )
    print(
        "t+p = until thumb and preview are encoded; ms are CPU ms of the child (wall ms beside "
        "them); B/px = peak RSS above the warmed-up child's baseline per source pixel (for the "
        "CBCT: per voxel of the volume). X-rays run with each full format (jpeg is the default)."
    )
    print("\nTargets (issues 4 and 23):")
    for target, results in checks.items():
        if not results:
            print(f"  n/a    {target}: nothing measured")
            continue
        missed = [d for ok, d in results if ok is False]
        print(f"  {_verdict(not missed)} {target}")
        for ok, detail in results:
            print(f"           {'  ' if ok is None else 'ok' if ok else '--'} {detail}")
    print("\nSummary (issue 23's speed goals, every file and every X-ray full format):")
    failed = False
    for goal, results in (
        ("thumb+preview >= 2x the naive Pillow pipeline", tp_check),
        ("whole job no slower than libvips", vips_check),
    ):
        failed |= not _summary_line(goal, results)
    return 1 if failed else 0


def _summary_line(goal: str, results: list[tuple[bool | None, str]]) -> bool:
    """One PASS/FAIL line: the worst ratio and where, and how many runs were measured."""
    if not results:
        print(f"  FAIL {goal}: nothing measured")
        return False
    worst = min(results, key=lambda r: float(r[1].rsplit(" ", 1)[1].rstrip("x")))
    missed = [d for ok, d in results if ok is False]
    verdict = "PASS" if not missed else "FAIL"
    tail = f"; missed on {len(missed)}: {', '.join(missed)}" if missed else ""
    print(f"  {verdict} {goal}: worst {worst[1]} of {len(results)} measured{tail}")
    return not missed


if __name__ == "__main__":
    sys.exit(main())
