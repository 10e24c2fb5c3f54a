"""The local stack's write-ahead journal: what the embedded AWS accepted is on disk before the
answer leaves for the client.

moto keeps everything in memory and the runner snapshots it every few seconds
(``infra/local/persist.py``); the journal covers the time in between, so a stack killed at any
instant (SIGKILL, a crash, a power cut) loses no write it has confirmed. Each accepted write is
one line of JSON, a list of operations applied as a whole (a DynamoDB call's resulting item
images or deleted keys, a media object's metadata), appended and flushed to the disk
(``fdatasync``) before moto answers.

Files: ``journal/<n>.jsonl`` in the state folder, segments numbered upwards. A snapshot first
seals the current segment (later writes go to the next one), then reads the state, and only
once the snapshot is safely on disk (an atomic rename) deletes the sealed segments: every write
in them happened before the snapshot began, so the snapshot holds it, or a later image of the
same item that a later segment holds too. Replaying a segment a snapshot already covers is
harmless: each line holds whole item images, never increments, so replaying the segments in
order always ends with the latest image of every key they name.

A crash in the middle of an append leaves a torn last line (no newline, or not JSON): it is
ignored on replay, as its write was never confirmed. A new run appends to a new segment, never
after a torn line.
"""

from __future__ import annotations

import json
import os
import re
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

_SEGMENT = re.compile(r"^(\d+)\.jsonl$")
_sync: Callable[[int], None] = getattr(os, "fdatasync", os.fsync)


class Journal:
    """Append-only, fsync'd before returning; rotated and truncated by snapshots."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._seq = max(segment_numbers(folder), default=0) + 1  # never after a torn line
        self._fd: int | None = None
        self.appended = 0  # lines written since the last rotate

    def segment(self, seq: int) -> Path:
        return self.folder / f"{seq:08d}.jsonl"

    def append(self, ops: list[dict[str, Any]]) -> None:
        """Write ``ops`` as one line and flush it to the disk; returns once it is durable."""
        data = (json.dumps(ops, separators=(",", ":"), default=_json_default) + "\n").encode()
        with self._lock:
            if self._fd is None:
                self._fd = os.open(
                    self.segment(self._seq), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600
                )
                fsync_dir(self.folder)  # the new segment's name is durable too
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(self._fd, view) :]
                _sync(self._fd)
            except OSError:
                # A partial line may be on disk: seal this segment, so that it stays its last
                # line (ignored on replay) and the next append starts a clean one.
                self._close()
                self._seq += 1
                raise
            self.appended += 1

    def rotate(self) -> int:
        """Seal the current segment: later appends go to a new one. Returns the number of the
        last sealed segment (what a snapshot taken from now on covers)."""
        with self._lock:
            self._close()
            sealed = self._seq
            self._seq += 1
            self.appended = 0
            return sealed

    def drop_through(self, seq: int) -> None:
        """Delete the segments up to ``seq`` (a snapshot that covers them is on disk)."""
        for n in segment_numbers(self.folder):
            if n <= seq:
                self.segment(n).unlink(missing_ok=True)
        fsync_dir(self.folder)

    @property
    def dirty(self) -> bool:
        """Whether any write is only in the journal: appended since the last rotate, or in a
        segment no snapshot has covered yet (one sealed by a snapshot that failed, or left by
        an earlier run)."""
        return self.appended > 0 or any(n < self._seq for n in segment_numbers(self.folder))

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def segment_numbers(folder: Path) -> list[int]:
    if not folder.is_dir():
        return []
    return sorted(int(m.group(1)) for p in folder.iterdir() if (m := _SEGMENT.match(p.name)))


def read(folder: Path) -> tuple[list[list[dict[str, Any]]], int]:
    """Every complete line of every segment, in the order written, and how many lines were
    ignored (torn by a crash mid-append, or otherwise unreadable)."""
    entries: list[list[dict[str, Any]]] = []
    ignored = 0
    for n in segment_numbers(folder):
        lines = (folder / f"{n:08d}.jsonl").read_bytes().split(b"\n")
        if lines.pop():  # the bytes after the last newline: a line that was being written
            ignored += 1
        for line in lines:
            try:
                ops = json.loads(line)
            except ValueError:
                ignored += 1
                continue
            if isinstance(ops, list):
                entries.append(ops)
            else:
                ignored += 1
    return entries, ignored


def write_durable(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically and durably: a unique temporary file beside
    it, fsync'd, renamed over it, and the folder fsync'd (readers see the old or the new
    content, never a mix, and a crash right after leaves the new one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new file in ``folder`` durable (a no-op where folders cannot be
    opened, as on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _json_default(value: Any) -> Any:
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
