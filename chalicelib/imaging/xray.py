"""Windowing of high-bit-depth grayscale (12/16-bit X-rays, DICOM) down to 8 bits.

A plain ``Image.convert("L")`` of 16-bit data clips every value above 255 to white, and
a shift by 8 bits wastes most of the grey levels of 12-bit sensors. Instead, every stored
value is mapped through one 8-bit look-up table built from:

1. the modality transform (DICOM rescale slope/intercept or Modality LUT; identity for raster
   X-rays),
2. the VOI transform: the DICOM window (centre/width, LINEAR / LINEAR_EXACT / SIGMOID) or VOI
   LUT when the file has one, otherwise a percentile window (0.5th to 99.5th percentile of
   the actual pixel values, measured on a sub-sample),
3. an optional inversion (DICOM MONOCHROME1), applied exactly once, in the table.

Building the table over the span of stored values costs microseconds, and applying it is a
single ``np.take`` per band of rows, so the only full-size allocations are the source frame
and the 8-bit output (memory stays near 3 bytes per pixel for 16-bit input).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# Values mapped per band when applying the table (bounds the temporary index array).
_BAND_PIXELS = 1 << 18
# Largest span of integer stored values handled with a table (2**20 covers 16-bit signed).
_MAX_LUT_SPAN = 1 << 20
# Pixels sampled to estimate percentiles.
_SAMPLE_PIXELS = 1 << 18

LOW_PERCENTILE = 0.5
HIGH_PERCENTILE = 99.5

# values -> values (modality transform), or values -> values in [0, 1] (VOI transform).
Transform = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True, slots=True)
class WindowInfo:
    method: str  # "dicom-window", "dicom-voi-lut", "percentile", "identity"
    low: float | None = None  # window bounds in modality units (percentile/dicom-window)
    high: float | None = None
    inverted: bool = False

    def as_metadata(self) -> dict[str, object]:
        out: dict[str, object] = {"windowing": self.method, "inverted": self.inverted}
        if self.low is not None and self.high is not None:
            out["window_low"] = round(float(self.low), 3)
            out["window_high"] = round(float(self.high), 3)
        return out


def linear_window(low: float, high: float) -> Transform:
    """Map [low, high] linearly onto [0, 1], clipping outside."""
    span = max(float(high) - float(low), 1e-9)

    def apply(values: np.ndarray) -> np.ndarray:
        return np.clip((values.astype(np.float64) - low) / span, 0.0, 1.0)

    return apply


def dicom_window(center: float, width: float, function: str = "LINEAR") -> Transform:
    """The DICOM VOI window functions of PS3.3 C.11.2.1.2, output scaled to [0, 1]."""
    c, w = float(center), float(width)
    function = (function or "LINEAR").upper()

    def apply(values: np.ndarray) -> np.ndarray:
        x = values.astype(np.float64)
        if function == "SIGMOID":
            return 1.0 / (1.0 + np.exp(-4.0 * (x - c) / max(w, 1e-9)))
        if function == "LINEAR_EXACT":
            return np.clip((x - c) / max(w, 1e-9) + 0.5, 0.0, 1.0)
        # LINEAR: width >= 1; the "- 0.5" / "w - 1" terms are the standard's.
        ww = max(w, 1.0)
        if ww == 1.0:
            return (x > c - 0.5).astype(np.float64)
        return np.clip((x - (c - 0.5)) / (ww - 1.0) + 0.5, 0.0, 1.0)

    return apply


def _sample(arr: np.ndarray) -> np.ndarray:
    step = max(1, int(np.sqrt(arr.size / _SAMPLE_PIXELS)))
    return arr[::step, ::step] if arr.ndim == 2 else arr.reshape(-1)[:: step * step]


def percentile_bounds(values: np.ndarray, weights: np.ndarray | None = None) -> tuple[float, float]:
    """0.5th and 99.5th percentiles of ``values`` (optionally weighted by counts)."""
    if weights is None:
        lo, hi = np.percentile(values, [LOW_PERCENTILE, HIGH_PERCENTILE])
        return float(lo), float(hi)
    order = np.argsort(values, kind="stable")
    v, cum = values[order], np.cumsum(weights[order])
    total = cum[-1]
    lo = v[min(np.searchsorted(cum, total * LOW_PERCENTILE / 100.0), v.size - 1)]
    hi = v[min(np.searchsorted(cum, total * HIGH_PERCENTILE / 100.0), v.size - 1)]
    return float(lo), float(hi)


def to_8bit(
    arr: np.ndarray,
    *,
    modality: Transform | None = None,
    voi: Transform | None = None,
    voi_method: str = "dicom-window",
    invert: bool = False,
    identity_if_8bit: bool = True,
) -> tuple[np.ndarray, WindowInfo]:
    """Window a 2-D grayscale array (any integer or float dtype) to ``uint8``.

    ``modality`` maps stored values to modality values (None: identity). ``voi`` maps
    modality values to [0, 1] (None: percentile window of the actual pixels). ``invert``
    flips the result (MONOCHROME1). 8-bit data with neither transform is kept as is.
    """
    if arr.ndim != 2:
        raise ValueError("expected a 2-D grayscale array")
    if identity_if_8bit and arr.dtype == np.uint8 and modality is None and voi is None:
        out = np.subtract(255, arr, dtype=np.uint8) if invert else arr
        return out, WindowInfo("identity", inverted=invert)

    if np.issubdtype(arr.dtype, np.integer):
        lo, hi = int(arr.min()), int(arr.max())
        if hi - lo < _MAX_LUT_SPAN:
            return _to_8bit_lut(arr, lo, hi, modality, voi, voi_method, invert)
    return _to_8bit_float(arr, modality, voi, voi_method, invert)


def _finish(unit: np.ndarray, invert: bool) -> np.ndarray:
    out = np.rint(np.clip(unit, 0.0, 1.0) * 255.0).astype(np.uint8)
    return np.subtract(255, out, dtype=np.uint8) if invert else out


def _to_8bit_lut(
    arr: np.ndarray,
    lo: int,
    hi: int,
    modality: Transform | None,
    voi: Transform | None,
    voi_method: str,
    invert: bool,
) -> tuple[np.ndarray, WindowInfo]:
    stored = np.arange(lo, hi + 1, dtype=np.int64)
    values = np.asarray(modality(stored) if modality else stored, dtype=np.float64)
    info: WindowInfo
    if voi is None:
        sample = _sample(arr)
        counts = np.bincount((sample.astype(np.int64) - lo).ravel(), minlength=stored.size)
        w_lo, w_hi = percentile_bounds(values, counts.astype(np.float64))
        if w_hi <= w_lo:  # flat image: put it mid-grey rather than divide by zero
            w_lo, w_hi = w_lo - 1.0, w_hi + 1.0
        voi = linear_window(w_lo, w_hi)
        info = WindowInfo("percentile", w_lo, w_hi, invert)
    else:
        info = WindowInfo(voi_method, inverted=invert)
    lut = _finish(np.asarray(voi(values), dtype=np.float64), invert)

    out = np.empty(arr.shape, dtype=np.uint8)
    rows = max(1, _BAND_PIXELS // max(1, arr.shape[1]))
    for start in range(0, arr.shape[0], rows):
        band = arr[start : start + rows]
        idx = band.astype(np.intp)
        if lo:
            idx -= lo
        np.take(lut, idx, out=out[start : start + rows])
    return out, info


def _to_8bit_float(
    arr: np.ndarray,
    modality: Transform | None,
    voi: Transform | None,
    voi_method: str,
    invert: bool,
) -> tuple[np.ndarray, WindowInfo]:
    if voi is None:
        sample = _sample(arr).astype(np.float64)
        values = modality(sample) if modality else sample
        finite = values[np.isfinite(values)]
        w_lo, w_hi = percentile_bounds(finite) if finite.size else (0.0, 1.0)
        if w_hi <= w_lo:
            w_lo, w_hi = w_lo - 1.0, w_hi + 1.0
        voi = linear_window(w_lo, w_hi)
        info = WindowInfo("percentile", w_lo, w_hi, invert)
    else:
        info = WindowInfo(voi_method, inverted=invert)
    out = np.empty(arr.shape, dtype=np.uint8)
    rows = max(1, _BAND_PIXELS // max(1, arr.shape[1]))
    for start in range(0, arr.shape[0], rows):
        band = arr[start : start + rows].astype(np.float64)
        band = modality(band) if modality else band
        out[start : start + rows] = _finish(np.nan_to_num(voi(band)), invert)
    return out, info
