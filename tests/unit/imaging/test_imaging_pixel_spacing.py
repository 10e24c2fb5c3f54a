"""DICOM pixel spacing: read at ingest, for the viewer's length measurement."""

from __future__ import annotations

import pytest
from imaging_samples import base_dataset, dicom_bytes, gradient16
from pydicom.dataset import Dataset

from chalicelib.imaging.render import RenderOptions, render
from chalicelib.imaging.spacing import pixel_spacing

PNG = RenderOptions(xray_full_format="png")


def _ds(**attrs) -> Dataset:
    ds = Dataset()
    for k, v in attrs.items():
        setattr(ds, k, v)
    return ds


def test_pixel_spacing_is_preferred_to_imager_pixel_spacing():
    ds = _ds(PixelSpacing=[0.1, 0.12], ImagerPixelSpacing=[0.2, 0.2])
    assert pixel_spacing(ds) == ([0.1, 0.12], "PixelSpacing")


def test_imager_pixel_spacing_when_it_is_the_only_one():
    assert pixel_spacing(_ds(ImagerPixelSpacing=[0.035, 0.035])) == (
        [0.035, 0.035],
        "ImagerPixelSpacing",
    )


def test_enhanced_objects_carry_it_in_the_shared_functional_groups():
    measures = _ds(PixelSpacing=[0.25, 0.25])
    ds = _ds(SharedFunctionalGroupsSequence=[_ds(PixelMeasuresSequence=[measures])])
    assert pixel_spacing(ds) == ([0.25, 0.25], "PixelSpacing")


@pytest.mark.parametrize("value", [[0, 0.1], [-0.1, 0.1], [0.1, 25.0], [0.1, 0.1, 0.1], ["x", "y"]])
def test_unusable_values_give_no_spacing(value):
    ds = Dataset()
    # (0028,0030) PixelSpacing; written as LO when the values are not even numbers.
    ds.add_new(0x00280030, "LO" if isinstance(value[0], str) else "DS", value)
    assert pixel_spacing(ds) == (None, None)


def test_no_spacing_at_all():
    assert pixel_spacing(Dataset()) == (None, None)


def test_rendered_metadata_carries_the_spacing():
    ds = base_dataset(rows=32, cols=48, modality="IO")
    ds.ImagerPixelSpacing = [0.02, 0.025]
    ds.PixelData = gradient16(32, 48, 12).tobytes()
    meta = render(dicom_bytes(ds), "dicom", PNG).metadata
    assert meta["pixel_spacing"] == [0.02, 0.025]
    assert meta["pixel_spacing_source"] == "ImagerPixelSpacing"


def test_rendered_metadata_without_spacing_says_none():
    ds = base_dataset(rows=16, cols=16, modality="PX")
    ds.PixelData = gradient16(16, 16, 12).tobytes()
    meta = render(dicom_bytes(ds), "dicom", PNG).metadata
    assert meta["pixel_spacing"] is None and meta["pixel_spacing_source"] is None
