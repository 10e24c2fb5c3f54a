"""Where the stack finds what it ships: the layers, the workers' code and the built SPA."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS_BUILD = ROOT / "layers" / "build"


@dataclass(frozen=True)
class Artifacts:
    # Directories that contain ``python/`` (what ``layers/build.py`` produces).
    deps_layer: Path
    imaging_layer: Path
    # A directory with ``chalicelib/`` and ``functions/`` (the workers' code asset).
    worker_code: Path
    # The built SPA (frontend/dist), deployed to the SPA bucket when present.
    spa_dist: Path | None = None
    # The Chalice project (app.py, chalicelib/, .chalice/config.json, requirements.txt).
    api_source: Path = ROOT

    def check(self) -> None:
        missing = [
            str(p / "python")
            for p in (self.deps_layer, self.imaging_layer)
            if not (p / "python").is_dir()
        ]
        if missing:
            raise SystemExit(
                "Lambda layers are not built: "
                + ", ".join(missing)
                + "\nRun `make layers` (python layers/build.py) first."
            )


def stage_worker_code(dest: Path, root: Path = ROOT) -> Path:
    """Copy ``chalicelib/`` and ``functions/`` (nothing else) into ``dest`` for the asset."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for pkg in ("chalicelib", "functions"):
        src = root / pkg
        if src.is_dir():
            shutil.copytree(src, dest / pkg, ignore=ignore)
        else:
            (dest / pkg).mkdir()
    return dest


def default_artifacts(build_dir: Path) -> Artifacts:
    spa = ROOT / "frontend" / "dist"
    return Artifacts(
        deps_layer=LAYERS_BUILD / "deps",
        imaging_layer=LAYERS_BUILD / "imaging",
        worker_code=stage_worker_code(build_dir / "worker-code"),
        spa_dist=spa if (spa / "index.html").is_file() else None,
    )
