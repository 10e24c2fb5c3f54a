"""ZIP files of a study, as labs send them: the DICOM members are extracted into the spool and
uploaded one by one with their hints (the server groups them by StudyInstanceUID).

Safely: a member's name is never used as a path (spool files are named by their index), a name
that tries to leave the archive (``../``, absolute, a drive) rejects the whole ZIP, and sizes are
capped while reading - the sizes in the archive's directory are not trusted - against ZIP bombs.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

MAX_MEMBERS = 5000
MAX_MEMBER_BYTES = 2 * 1024**3
MAX_TOTAL_BYTES = 8 * 1024**3
MAX_RATIO = 200  # uncompressed / compressed, for members over 1 MiB
CHUNK = 1024 * 1024


class UnsafeZip(Exception):
    """The archive is refused whole (and the reason recorded)."""


@dataclass(frozen=True)
class Member:
    index: int
    name: str  # the member's base name, for the capture's filename
    path: Path  # where it was extracted (the spool)
    sha256: str
    size: int


def _unsafe_name(name: str) -> bool:
    n = name.replace("\\", "/")
    if n.startswith("/") or re.match(r"^[A-Za-z]:", n) or "\x00" in n:
        return True
    return any(part == ".." for part in n.split("/"))


def extract_dicom(
    source: Path,
    spool: Path,
    max_member_bytes: int = MAX_MEMBER_BYTES,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    max_members: int = MAX_MEMBERS,
) -> tuple[list[Member], int]:
    """Extract the DICOM members of ``source`` into ``spool`` (created), in archive order.
    Returns them and the number of members skipped (not DICOM, encrypted, folders)."""
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnsafeZip(f"not a readable ZIP file ({type(exc).__name__})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > max_members:
            raise UnsafeZip(f"too many members ({len(infos)} > {max_members})")
        for info in infos:
            if _unsafe_name(info.filename):
                raise UnsafeZip("a member's name leaves the archive (path traversal)")
        spool.mkdir(parents=True, exist_ok=True)
        members: list[Member] = []
        try:
            skipped = _extract(zf, infos, spool, members, max_member_bytes, max_total_bytes)
        except BaseException:
            for m in members:  # nothing half-extracted stays behind
                m.path.unlink(missing_ok=True)
            raise
        return members, skipped


def _extract(
    zf: zipfile.ZipFile,
    infos: list[zipfile.ZipInfo],
    spool: Path,
    members: list[Member],
    max_member_bytes: int,
    max_total_bytes: int,
) -> int:
    skipped, total = 0, 0
    for index, info in enumerate(infos):
        base = posixpath.basename(info.filename.replace("\\", "/"))
        if info.is_dir() or not base or base.upper() == "DICOMDIR":
            skipped += not info.is_dir()
            continue
        if info.flag_bits & 0x1:  # encrypted
            skipped += 1
            continue
        if info.file_size > max_member_bytes:
            raise UnsafeZip(f"a member is too large ({info.file_size} bytes)")
        if info.file_size > CHUNK and info.file_size > MAX_RATIO * max(1, info.compress_size):
            raise UnsafeZip("a member's compression ratio is implausible (ZIP bomb)")
        out = spool / f"{index:05d}.dcm"
        h, size, head = hashlib.sha256(), 0, b""
        try:
            with zf.open(info) as src, out.open("wb") as dst:
                while chunk := src.read(CHUNK):
                    size += len(chunk)
                    total += len(chunk)
                    # the directory's sizes may lie: count what really comes out
                    if size > max_member_bytes or size > max(info.file_size, 0) + CHUNK:
                        raise UnsafeZip("a member is larger than declared or allowed")
                    if total > max_total_bytes:
                        raise UnsafeZip(f"the archive expands beyond {max_total_bytes} bytes")
                    if len(head) < 132:
                        head += chunk[: 132 - len(head)]
                    h.update(chunk)
                    dst.write(chunk)
        except UnsafeZip:
            out.unlink(missing_ok=True)
            raise
        except (zipfile.BadZipFile, EOFError, RuntimeError, NotImplementedError, zlib.error):
            # a damaged member (bad CRC, unsupported compression): not this one
            out.unlink(missing_ok=True)
            skipped += 1
            continue
        except BaseException:  # the disk is full, the process is stopped: try again later
            out.unlink(missing_ok=True)
            raise
        if len(head) < 132 or head[128:132] != b"DICM":
            out.unlink(missing_ok=True)
            skipped += 1
            continue
        members.append(Member(index, base[:200], out, h.hexdigest(), size))
    return skipped
