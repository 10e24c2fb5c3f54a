"""Command line: render files exactly as the image worker does (for support and checks).

    python -m chalicelib.imaging render FILE... --out DIR [--kind auto|photo|xray|dicom]
                                        [--xray-format jpeg|png]

For each input writes ``DIR/<input file stem>/`` with ``thumb.jpg``, ``preview.jpg``,
``full.jpg`` or ``full.png`` and ``metadata.json``; prints one line per file (``ok`` with
sizes, or ``FAILED`` with the reason) and exits 1 if any file failed (2 on usage errors).
``--kind auto`` (default) declares DICOM for DICOM bytes, ``xray`` for 16-bit greyscale
and ``photo`` otherwise. metadata.json includes the DICOM patient name/id (PHI): treat the
output directory like the original files.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _auto_kind(data: bytes) -> str:
    from chalicelib.imaging.contracts import RenderError
    from chalicelib.imaging.sniff import sniff

    try:
        sniffed = sniff(data)
    except RenderError:
        return "photo"  # render() will report why
    if sniffed.is_dicom:
        return "dicom"
    if sniffed.format in ("PNG", "TIFF"):
        from chalicelib.imaging.raster import _HIGH_DEPTH_MODES, open_image
        from chalicelib.imaging.render import RenderOptions

        try:
            with open_image(data, sniffed, RenderOptions(max_pixels=10**12)) as im:
                if im.mode in _HIGH_DEPTH_MODES:
                    return "xray"
        except RenderError:
            pass
    return "photo"


def _render_one(path: Path, out_root: Path, kind: str, options) -> tuple[bool, str]:
    from chalicelib.imaging.render import RenderError, render

    try:
        data = path.read_bytes()
    except OSError as exc:
        return False, f"cannot read file: {exc.strerror or exc}"
    declared = _auto_kind(data) if kind == "auto" else kind
    try:
        result = render(data, declared, options)
    except RenderError as exc:
        return False, exc.reason
    target = out_root / path.stem
    target.mkdir(parents=True, exist_ok=True)
    for stale in ("full.jpg", "full.png"):
        (target / stale).unlink(missing_ok=True)
    for rendition in result.renditions.values():
        (target / rendition.filename).write_bytes(rendition.data)
    summary = {
        "source": path.name,
        "kind": result.kind,
        "content_type": result.content_type,
        "width": result.width,
        "height": result.height,
        "original_bytes": result.original_bytes,
        "hot_bytes": result.hot_bytes,
        "compression_ratio": result.compression_ratio,
        "renditions": {
            name: {
                "filename": r.filename,
                "content_type": r.content_type,
                "width": r.width,
                "height": r.height,
                "bytes": r.size,
            }
            for name, r in result.renditions.items()
        },
        "metadata": result.metadata,
    }
    (target / "metadata.json").write_text(
        json.dumps(summary, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
        encoding="utf-8",
    )
    sizes = ", ".join(
        f"{r.filename} {r.width}x{r.height} {r.size / 1024:.0f} KB"
        for r in result.renditions.values()
    )
    return True, f"{result.kind} {result.content_type} -> {target}/ ({sizes})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.imaging")
    sub = parser.add_subparsers(dest="command", required=True)
    rp = sub.add_parser("render", help="render files into thumb/preview/full + metadata.json")
    rp.add_argument("files", nargs="+", type=Path, metavar="FILE")
    rp.add_argument("--out", required=True, type=Path, metavar="DIR")
    rp.add_argument("--kind", choices=["auto", "photo", "xray", "dicom"], default="auto")
    rp.add_argument("--xray-format", choices=["png", "jpeg"], default="jpeg")
    args = parser.parse_args(argv)

    from chalicelib.imaging.render import RenderOptions

    options = RenderOptions(xray_full_format=args.xray_format)
    args.out.mkdir(parents=True, exist_ok=True)
    failures = 0
    for path in args.files:
        ok, message = _render_one(path, args.out, args.kind, options)
        failures += not ok
        print(f"{path}: {'ok' if ok else 'FAILED'}: {message}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
