"""The durable local queue (sqlite3 in the state folder).

One row per capture to upload, in the order the files were completely written. Every step is
committed before the next one starts, so a client killed at any point continues where it was:

    queued -> requested (image_id and the presigned form recorded) -> sent (bytes uploaded)
           -> reported (outcome told to the API) -> done (ready / failed / inbox / duplicate)
    queued -> failed (a permanent error, with the server's message)
    queued ZIP -> expanded (its DICOM members queued right behind it, in one transaction)

``files`` remembers which file (path, size, mtime, SHA-256) was already queued, so a rescan, a
restart or a second event for the same write never queues it twice; ``meta`` keeps the last
heartbeat, last upload and last error.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ACTIVE = ("queued", "requested", "sent")
SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  parent_id INTEGER,
  source TEXT NOT NULL,
  filename TEXT NOT NULL,
  size INTEGER NOT NULL,
  mtime_ns INTEGER,
  sha256 TEXT NOT NULL,
  content_type TEXT NOT NULL,
  patient_number TEXT,
  patient_id TEXT,
  dicom TEXT,
  acquired_at TEXT,
  spool INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL DEFAULT 'queued',
  image_id TEXT,
  upload TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at REAL NOT NULL DEFAULT 0,
  polls INTEGER NOT NULL DEFAULT 0,
  result TEXT,
  reason TEXT,
  inbox INTEGER,
  matched_patient_id TEXT,
  match_by TEXT,
  error TEXT,
  created_at REAL NOT NULL,
  updated_at REAL NOT NULL,
  uploaded_at REAL,
  finished_at REAL
);
CREATE INDEX IF NOT EXISTS items_state ON items(state, id);
CREATE INDEX IF NOT EXISTS items_sha ON items(sha256);
CREATE TABLE IF NOT EXISTS files (
  path TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  seen_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass
class Item:
    id: int
    parent_id: int | None
    source: str
    filename: str
    size: int
    mtime_ns: int | None
    sha256: str
    content_type: str
    patient_number: str | None
    patient_id: str | None
    dicom: dict[str, Any] | None
    acquired_at: str | None
    spool: bool
    state: str
    image_id: str | None
    upload: dict[str, Any] | None
    attempts: int
    next_attempt_at: float
    polls: int
    result: str | None
    reason: str | None
    inbox: bool | None
    matched_patient_id: str | None
    match_by: str | None
    error: str | None
    created_at: float
    updated_at: float
    uploaded_at: float | None
    finished_at: float | None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Item:
        d = dict(row)
        d["dicom"] = json.loads(d["dicom"]) if d["dicom"] else None
        d["upload"] = json.loads(d["upload"]) if d["upload"] else None
        d["spool"] = bool(d["spool"])
        d["inbox"] = None if d["inbox"] is None else bool(d["inbox"])
        return cls(**d)


class Store:
    def __init__(self, path: Path, clock=time.time):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.clock = clock
        self.db = sqlite3.connect(str(path), timeout=30, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # a confirmed step survives a power cut
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    # --- files ----------------------------------------------------------------------------

    def known(self, path: Path, size: int, mtime_ns: int) -> bool:
        """This exact file (path, size, mtime) was queued already."""
        row = self.db.execute(
            "SELECT 1 FROM files WHERE path=? AND size=? AND mtime_ns=?",
            (str(path), size, mtime_ns),
        ).fetchone()
        return row is not None

    def same_write(self, path: Path, sha256: str, mtime_ns: int | None) -> bool:
        """These bytes, written at that time, at this path, were queued already (a second
        event for the same write). The same bytes saved again later are queued again: the
        server answers a duplicate, or takes them anew if staff discarded the first capture."""
        row = self.db.execute(
            "SELECT 1 FROM files WHERE path=? AND sha256=? AND mtime_ns=?",
            (str(path), sha256, mtime_ns or 0),
        ).fetchone()
        return row is not None

    # --- items ----------------------------------------------------------------------------

    def enqueue(
        self,
        *,
        source: Path,
        filename: str,
        size: int,
        mtime_ns: int | None,
        sha256: str,
        content_type: str,
        patient_number: str | None = None,
        patient_id: str | None = None,
        dicom: dict[str, Any] | None = None,
        acquired_at: str | None = None,
        remember: bool = True,
    ) -> int | None:
        """Queue a file; None when this path already had these bytes queued (a rescan, a
        second event for the same write). One transaction with the ``files`` record."""
        now = self.clock()
        with self._tx():
            if remember and self.same_write(source, sha256, mtime_ns):
                return None
            cur = self.db.execute(
                "INSERT INTO items (source, filename, size, mtime_ns, sha256, content_type,"
                " patient_number, patient_id, dicom, acquired_at, created_at, updated_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    str(source),
                    filename,
                    size,
                    mtime_ns,
                    sha256,
                    content_type,
                    patient_number,
                    patient_id,
                    json.dumps(dicom) if dicom else None,
                    acquired_at,
                    now,
                    now,
                ),
            )
            if remember:
                self.db.execute(
                    "INSERT INTO files (path, size, mtime_ns, sha256, seen_at) VALUES (?,?,?,?,?)"
                    " ON CONFLICT(path) DO UPDATE SET size=excluded.size,"
                    " mtime_ns=excluded.mtime_ns, sha256=excluded.sha256,"
                    " seen_at=excluded.seen_at",
                    (str(source), size, mtime_ns or 0, sha256, now),
                )
            return int(cur.lastrowid)

    def expand(self, parent: Item, members: list[dict[str, Any]]) -> list[int]:
        """A ZIP's members queued right behind it, and the ZIP marked expanded, atomically."""
        now = self.clock()
        ids = []
        with self._tx():
            for m in members:
                cur = self.db.execute(
                    "INSERT INTO items (parent_id, source, filename, size, mtime_ns, sha256,"
                    " content_type, patient_number, patient_id, dicom, acquired_at, spool,"
                    " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,1,?,?)",
                    (
                        parent.id,
                        str(m["source"]),
                        m["filename"],
                        m["size"],
                        None,
                        m["sha256"],
                        "application/dicom",
                        parent.patient_number,
                        parent.patient_id,
                        json.dumps(m["dicom"]) if m.get("dicom") else None,
                        m.get("acquired_at"),
                        now,
                        now,
                    ),
                )
                ids.append(int(cur.lastrowid))
            self.db.execute(
                "UPDATE items SET state='expanded', result=?, updated_at=?, finished_at=?"
                " WHERE id=?",
                (f"{len(ids)} DICOM files", now, now, parent.id),
            )
        return ids

    def get(self, item_id: int) -> Item | None:
        row = self.db.execute("SELECT * FROM items WHERE id=?", (item_id,)).fetchone()
        return Item.from_row(row) if row else None

    def update(self, item_id: int, **values: Any) -> None:
        for k in ("dicom", "upload"):
            if k in values and values[k] is not None and not isinstance(values[k], str):
                values[k] = json.dumps(values[k])
        values["updated_at"] = self.clock()
        cols = ", ".join(f"{k}=?" for k in values)
        self.db.execute(f"UPDATE items SET {cols} WHERE id=?", (*values.values(), item_id))  # noqa: S608 - column names are ours

    def active(self) -> list[Item]:
        """Items still to upload, in upload order: a ZIP's members right after the ZIP."""
        rows = self.db.execute(
            "SELECT * FROM items WHERE state IN ('queued','requested','sent')"
            " ORDER BY COALESCE(parent_id, id), id"
        ).fetchall()
        return [Item.from_row(r) for r in rows]

    def to_poll(self, now: float) -> list[Item]:
        rows = self.db.execute(
            "SELECT * FROM items WHERE state='reported' AND next_attempt_at<=? ORDER BY id",
            (now,),
        ).fetchall()
        return [Item.from_row(r) for r in rows]

    def next_poll_at(self) -> float | None:
        row = self.db.execute(
            "SELECT MIN(next_attempt_at) FROM items WHERE state='reported'"
        ).fetchone()
        return row[0]

    def same_content(self, item: Item) -> Item | None:
        """An earlier item with the same bytes still on its way to the server (requested,
        uploaded, being processed): asking again now could upload them twice."""
        row = self.db.execute(
            "SELECT * FROM items WHERE sha256=? AND id<? AND image_id IS NOT NULL"
            " AND state IN ('requested','sent','reported') ORDER BY id LIMIT 1",
            (item.sha256, item.id),
        ).fetchone()
        return Item.from_row(row) if row else None

    def children(self, parent_id: int) -> list[Item]:
        rows = self.db.execute(
            "SELECT * FROM items WHERE parent_id=? ORDER BY id", (parent_id,)
        ).fetchall()
        return [Item.from_row(r) for r in rows]

    def recent(self, limit: int = 20) -> list[Item]:
        rows = self.db.execute("SELECT * FROM items ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [Item.from_row(r) for r in rows]

    def depth(self) -> int:
        row = self.db.execute(
            "SELECT COUNT(*) FROM items WHERE state IN ('queued','requested','sent')"
        ).fetchone()
        return int(row[0])

    def counts(self) -> dict[str, int]:
        rows = self.db.execute(
            "SELECT CASE WHEN state='done' THEN 'done:' || COALESCE(result,'?')"
            " ELSE state END AS k, COUNT(*) FROM items GROUP BY k"
        ).fetchall()
        return {r[0]: r[1] for r in rows}

    def requeue_failed(self) -> int:
        cur = self.db.execute(
            "UPDATE items SET state='queued', attempts=0, next_attempt_at=0, error=NULL,"
            " image_id=NULL, upload=NULL, updated_at=? WHERE state='failed'",
            (self.clock(),),
        )
        return cur.rowcount

    # --- meta -----------------------------------------------------------------------------

    def meta(self, key: str, default: Any = None) -> Any:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def set_meta(self, key: str, value: Any) -> None:
        self.db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, json.dumps(value)),
        )

    # --- transactions ---------------------------------------------------------------------

    def _tx(self):
        return _Tx(self.db)


class _Tx:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, *_: object) -> None:
        self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")
