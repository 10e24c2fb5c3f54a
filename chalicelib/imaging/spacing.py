"""The physical size of a DICOM pixel, for length measurements in the viewer.

Read at ingest (``dicom.extract_metadata``) and returned in the image's ``dicom`` info. Kept
out of ``dicom.py`` so it stays a pure function of the header: no pixels, no PHI.

Order of preference (DICOM PS3.3 C.7.6.2.1.1, C.8.11.4.1.1 and 10.7.1.3):

1. ``PixelSpacing``: spacing in the patient (calibrated, or corrected for magnification);
2. the enhanced objects' ``PixelMeasuresSequence`` (shared functional groups);
3. ``ImagerPixelSpacing``: spacing at the detector. For intraoral sensors (film or sensor
   behind the tooth) it is close to the anatomy; for panoramic and cephalometric images the
   anatomy is magnified (about 1.1 to 1.3x), so lengths are only as good as that. The source
   is returned too, so the viewer can say which one it measured with.
"""

from __future__ import annotations

import math
from typing import Any

#: Larger than any detector pixel: a value above it is a unit mix-up, not a spacing.
MAX_MM = 10.0


def _pair(value: Any) -> list[float] | None:
    """``[row spacing, column spacing]`` in mm from a DS pair, or None when unusable."""
    try:
        values = [float(v) for v in value]
    except (TypeError, ValueError):
        return None
    if len(values) == 1:  # some writers store one value for square pixels
        values = values * 2
    if len(values) != 2 or not all(math.isfinite(v) and 0 < v <= MAX_MM for v in values):
        return None
    return [round(v, 6) for v in values]


def pixel_spacing(ds: Any) -> tuple[list[float] | None, str | None]:
    """The pixel spacing ``[row, column]`` in mm and the attribute it came from; (None, None)
    when the header has none or only unusable values (never fails the render)."""
    try:
        return _pixel_spacing(ds)
    except Exception:  # noqa: BLE001 - a malformed optional attribute: no ruler, still an image
        return None, None


def _pixel_spacing(ds: Any) -> tuple[list[float] | None, str | None]:
    found = _pair(ds.get("PixelSpacing"))
    if found:
        return found, "PixelSpacing"
    shared = ds.get("SharedFunctionalGroupsSequence")
    measures = shared[0].get("PixelMeasuresSequence") if shared else None
    found = _pair(measures[0].get("PixelSpacing")) if measures else None
    if found:
        return found, "PixelSpacing"
    found = _pair(ds.get("ImagerPixelSpacing"))
    if found:
        return found, "ImagerPixelSpacing"
    return None, None
