"""Build Cúspide's Lambda layers as Lambda-compatible manylinux wheels, then check their size.

    python layers/build.py                 # every layer, arm64, python3.11
    python layers/build.py imaging         # one layer
    python layers/build.py --check-only    # re-measure what is already built

Layers (each a directory ``layers/build/<name>/python`` that the CDK stack ships as an asset):

- ``deps``: the API package's runtime dependencies (``requirements.txt``) for the workers in
  ``functions/``; the API itself is packaged by Chalice with the same file.
- ``imaging``: the same dependencies plus Pillow, numpy, pydicom and its decoders
  (``requirements-imaging.txt``), resolved together, as the image worker's only layer. Two
  stacked layers would ship Pillow twice (reportlab in ``requirements.txt`` requires it) and
  could mix two versions of it in ``/opt/python``.

pip never compiles anything here: ``--only-binary=:all:`` with an explicit manylinux platform
list, so a package without a compatible wheel fails the build instead of producing a layer that
breaks at import time on Lambda. The Lambda ``python3.11`` runtime runs on Amazon Linux 2
(glibc 2.26), so only manylinux2014 / manylinux_2_17 wheels are accepted.

Size limits (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html): a
function and all its layers together must stay under 250 MB unzipped; a zipped upload over
50 MB has to go through S3, which CDK assets always do.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "layers" / "build"

ARCHITECTURE = "arm64"
PYTHON_VERSION = "3.11"
PLATFORMS = {
    "arm64": ["manylinux2014_aarch64", "manylinux_2_17_aarch64"],
    "x86_64": ["manylinux2014_x86_64", "manylinux_2_17_x86_64"],
}

UNZIPPED_LIMIT = 250 * 1024 * 1024  # function code + every layer, unzipped
# What we allow a layer to take (each function has one), leaving room for the function code.
LAYER_BUDGET = 230 * 1024 * 1024


@dataclass(frozen=True)
class Layer:
    name: str
    requirements: tuple[str, ...]
    description: str


LAYERS = {
    "deps": Layer("deps", ("requirements.txt",), "runtime dependencies of chalicelib (workers)"),
    "imaging": Layer(
        "imaging",
        ("requirements.txt", "requirements-imaging.txt"),
        "chalicelib's dependencies + Pillow, numpy, pydicom, decoders (image worker)",
    ),
}

# Never needed at runtime on Lambda: the runtime ships boto3 too, but we keep our pinned one.
PRUNE_DIRS = {"__pycache__", "tests", "test", "testing"}
PRUNE_KEEP = {"numpy/testing", "numpy/_core/tests"}  # numpy imports numpy.testing lazily only


def layer_dir(name: str) -> Path:
    return BUILD / name / "python"


def build(layer: Layer, arch: str = ARCHITECTURE, python: str = PYTHON_VERSION) -> Path:
    target = layer_dir(layer.name)
    if target.parent.exists():
        shutil.rmtree(target.parent)
    target.mkdir(parents=True)
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        python,
        "--target",
        str(target),
    ]
    for requirements in layer.requirements:
        cmd += ["-r", str(ROOT / requirements)]
    for platform in PLATFORMS[arch]:
        cmd += ["--platform", platform]
    print(f"[{layer.name}] pip install for {arch} python{python} -> {target}", flush=True)
    subprocess.run(cmd, check=True)  # noqa: S603 - fixed argv, no shell
    _prune(target)
    (target.parent / "BUILD_INFO").write_text(
        f"layer={layer.name}\narch={arch}\npython={python}\n"
        f"requirements={','.join(layer.requirements)}\n"
    )
    return target


def _prune(target: Path) -> None:
    for path in sorted(target.rglob("*"), reverse=True):
        rel = path.relative_to(target).as_posix()
        if not path.is_dir() or path.name not in PRUNE_DIRS:
            continue
        if any(rel == keep or rel.startswith(keep + "/") for keep in PRUNE_KEEP):
            continue
        shutil.rmtree(path, ignore_errors=True)


def unzipped_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def zipped_size(path: Path) -> int:
    out = path.parent / f"{path.parent.name}.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for f in sorted(path.rglob("*")):
            if f.is_file():
                zf.write(f, Path("python") / f.relative_to(path))
    size = out.stat().st_size
    out.unlink()
    return size


def mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def check(names: list[str]) -> bool:
    """Each layer is a function's only layer: it must fit ``LAYER_BUDGET`` unzipped."""
    ok = True
    for name in names:
        path = layer_dir(name)
        if not path.exists():
            print(f"[{name}] not built ({path})")
            ok = False
            continue
        size = unzipped_size(path)
        verdict = "OK" if size <= LAYER_BUDGET else "TOO BIG"
        print(
            f"[{name}] unzipped {mb(size)} of {mb(LAYER_BUDGET)} budget (Lambda limit "
            f"{mb(UNZIPPED_LIMIT)} incl. code), zipped {mb(zipped_size(path))}: {verdict}"
        )
        ok = ok and size <= LAYER_BUDGET
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("layers", nargs="*", help=f"any of {', '.join(LAYERS)} (default: all)")
    parser.add_argument("--arch", default=os.environ.get("LAYER_ARCH", ARCHITECTURE))
    parser.add_argument("--check-only", action="store_true")
    args = parser.parse_args(argv)
    names = args.layers or list(LAYERS)
    unknown = set(names) - LAYERS.keys()
    if unknown:
        parser.error(f"unknown layer(s): {', '.join(sorted(unknown))}")
    if not args.check_only:
        for name in names:
            build(LAYERS[name], arch=args.arch)
    return 0 if check(names) else 1


if __name__ == "__main__":
    raise SystemExit(main())
