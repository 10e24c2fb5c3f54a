"""The rendering process keeps freed memory for the next image (chalicelib/imaging/memory.py):
a second render of the same image faults in almost no new pages, where without the allocator
settings every render maps its buffers afresh (~10% of a large photo's CPU time)."""

from __future__ import annotations

import resource
import sys

from imaging_samples import photo_jpeg, two_tone

from chalicelib.imaging.memory import keep_freed_memory
from chalicelib.imaging.render import RenderOptions, render


def _minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def test_the_allocator_keeps_freed_memory_between_renders():
    assert keep_freed_memory() is sys.platform.startswith("linux")  # glibc on Lambda and CI
    data = photo_jpeg(3000, 2000, orientation=6, image=two_tone(3000, 2000))
    render(data, "photo", RenderOptions())  # warms the heap to this image's working set
    before = _minor_faults()
    render(data, "photo", RenderOptions())
    faults = _minor_faults() - before
    # A 6 MP RGB image alone is 24 MB (~5,900 pages) in Pillow; the render holds several.
    assert faults < 1500, faults
