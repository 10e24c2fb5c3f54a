"""Keep the rendering process's freed memory for the next image (glibc only).

Where the time of a render went (bench/images.py, profiled with ``getrusage``): a 24 MP JPEG
touched ~42,000 fresh pages per render (a 12 MP HEIC ~44,000, a 12 MP JPEG ~29,000), 8-10% of
its CPU time spent in page faults and in the kernel zeroing those pages. glibc serves every
allocation above its mmap threshold (a few MB at most: a decoded frame, Pillow's 16 MB image
blocks, libjpeg's coefficient arrays, libheif's planes) with a fresh ``mmap`` and gives it back
with ``munmap`` on free, so each image faults its whole working set in again. A worker renders
image after image in a process that keeps its memory size whatever it does, so returning pages
to the kernel between images buys nothing: these allocations are served from the heap, which
keeps the pages it has (up to the trim threshold) for the next image. The peak is unchanged:
the heap grows to the largest image's working set, as the mmaps did.

Applied once, on the first render, to the whole process (it is the image worker's or the
CLI's); a no-op where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import sys

logger = logging.getLogger(__name__)

# mallopt(3) parameters.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Allocations up to this size come from the heap (above it: mmap, as before). Larger than any
# single buffer of an image within the pixel limit (120 MP x 4 bytes = 480 MB).
MMAP_THRESHOLD = 512 * 1024 * 1024
# Free memory at the top of the heap is given back to the kernel only beyond this.
TRIM_THRESHOLD = 1024 * 1024 * 1024


@functools.cache
def keep_freed_memory() -> bool:
    """Tune glibc's allocator as described above; True when it took effect."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt: keep their default
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    # Older glibc caps the threshold at 32 MB (DEFAULT_MMAP_THRESHOLD_MAX): then buffers above
    # that still come from mmap, and the smaller ones are kept.
    mmap_ok = any(mallopt(_M_MMAP_THRESHOLD, v) for v in (MMAP_THRESHOLD, 32 * 1024 * 1024))
    trim_ok = bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    if not (mmap_ok and trim_ok):
        logger.info("mallopt refused part of the imaging allocator settings")
    return mmap_ok and trim_ok
