"""The local stack's write-ahead journal as files (infra/local/journal.py): lines come back in
the order written, a line torn by a crash mid-append is ignored, a new run never appends after
it, and only segments a snapshot covers are deleted."""

from __future__ import annotations

import os

import pytest

from infra.local import journal
from infra.local.journal import Journal


def put(n: int) -> list[dict]:
    return [{"t": "T", "put": {"PK": {"S": "p"}, "SK": {"S": f"s{n}"}, "n": {"N": str(n)}}}]


def test_lines_come_back_in_the_order_written_across_segments(tmp_path):
    j = Journal(tmp_path)
    j.append(put(1))
    j.append(put(2) + put(3))  # one line: the operations of one call, applied as a whole
    j.rotate()
    j.append(put(4))
    j.close()
    later = Journal(tmp_path)  # the next run
    later.append(put(5))
    later.close()
    entries, ignored = journal.read(tmp_path)
    assert entries == [put(1), put(2) + put(3), put(4), put(5)] and ignored == 0
    assert journal.segment_numbers(tmp_path) == [1, 2, 3]


def test_every_append_is_on_disk_when_it_returns(tmp_path):
    j = Journal(tmp_path)
    j.append(put(1))
    # read by another reader while the writer keeps its file open: nothing is buffered
    assert journal.read(tmp_path) == ([put(1)], 0)
    j.close()


@pytest.mark.parametrize(
    "tail",
    [
        b'[{"t":"T","put":{"PK":{"S":"p"},"SK":{"S":"s9"',  # cut in the middle of the line
        b'[{"t":"T","del":{"PK":{"S":"p"},"SK":{"S":"s1"}}}]',  # whole but for the newline
        b"\x00" * 24,  # the blocks a power cut left unwritten
    ],
)
def test_a_line_torn_by_a_crash_mid_append_is_ignored(tmp_path, tail):
    j = Journal(tmp_path)
    j.append(put(1))
    j.append(put(2))
    j.close()
    with open(j.segment(1), "ab") as f:
        f.write(tail)
    entries, ignored = journal.read(tmp_path)
    assert entries == [put(1), put(2)] and ignored == 1
    # the next run starts a segment of its own: its lines are not glued to the torn one
    again = Journal(tmp_path)
    again.append(put(3))
    again.close()
    assert journal.read(tmp_path) == ([put(1), put(2), put(3)], 1)


def test_an_unreadable_line_in_the_middle_costs_only_itself(tmp_path):
    j = Journal(tmp_path)
    j.append(put(1))
    j.close()
    with open(j.segment(1), "ab") as f:
        f.write(b"not json\n")
    j = Journal(tmp_path)
    j.append(put(2))
    j.close()
    assert journal.read(tmp_path) == ([put(1), put(2)], 1)


def test_a_failed_append_seals_its_segment(tmp_path, monkeypatch):
    """A write that fails half way (disk full) may leave half a line: later lines go to a new
    segment, so that half line stays a last line and cannot swallow the next one."""
    j = Journal(tmp_path)
    j.append(put(1))
    real_write = os.write

    def half_then_fail(fd, data):
        real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(journal.os, "write", half_then_fail)
    with pytest.raises(OSError):
        j.append(put(2))
    monkeypatch.setattr(journal.os, "write", real_write)
    j.append(put(3))
    j.close()
    assert journal.read(tmp_path) == ([put(1), put(3)], 1)


def test_a_snapshot_deletes_only_the_segments_it_covers(tmp_path):
    j = Journal(tmp_path)
    assert not j.dirty
    j.append(put(1))
    assert j.dirty
    sealed = j.rotate()  # the snapshot begins: what follows is not in it for sure
    j.append(put(2))
    j.drop_through(sealed)  # the snapshot is on disk
    assert journal.read(tmp_path) == ([put(2)], 0)
    assert j.dirty  # put(2) is in no snapshot yet
    j.drop_through(j.rotate())
    assert not j.dirty and journal.read(tmp_path) == ([], 0)
    j.close()


def test_segments_left_by_an_earlier_run_are_unsaved_until_a_snapshot(tmp_path):
    j = Journal(tmp_path)
    j.append(put(1))
    j.close()
    later = Journal(tmp_path)
    assert later.dirty
    later.drop_through(later.rotate())
    assert not later.dirty and journal.segment_numbers(tmp_path) == []


def test_write_durable_replaces_a_file_whole(tmp_path):
    target = tmp_path / "a" / "b" / "object"
    journal.write_durable(target, b"one")
    journal.write_durable(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["object"]  # no temporary left behind
