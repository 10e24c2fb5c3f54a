"""A pump process of the local stack never outlives the stack (infra/local/workers.py): killed
with SIGKILL, the parent cannot stop its children, so each leaves by itself, by the kernel's
parent-death signal on Linux or, anywhere, by noticing it was re-parented."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]

# The parent: starts a spawned child as pump_in_processes does, prints its pid, then waits to
# be killed.
PARENT = """
import multiprocessing, os, sys, time
from tests.unit.test_local_worker_orphans import child_body
if __name__ == "__main__":
    p = multiprocessing.get_context("spawn").Process(
        target=child_body, args=(os.getpid(), sys.argv[1] == "kernel"), daemon=True
    )
    p.start()
    print(p.pid, flush=True)
    time.sleep(600)
"""


def child_body(parent_pid: int, kernel: bool) -> None:
    """A pump process's guard, then work that never ends by itself (a long image decode)."""
    from infra.local import workers

    if kernel:  # only the kernel's signal can end it in time: the watch looks once an hour
        workers.PARENT_CHECK_S = 3600
    else:  # only the portable watch: as on a system without PR_SET_PDEATHSIG
        workers.sys.platform = "darwin"
    workers.exit_with_parent(parent_pid)
    print("ready", flush=True)
    while True:
        time.sleep(1)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"  # a zombie has exited (its new parent has not reaped it yet)


@pytest.mark.parametrize("guard", ["kernel", "watch"])
def test_a_pump_process_exits_when_its_parent_is_killed(guard):
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, guard], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    lines = {parent.stdout.readline().strip(), parent.stdout.readline().strip()}
    assert "ready" in lines, lines  # the child's guard is in place, its endless work begins
    child = int((lines - {"ready"}).pop())
    try:
        time.sleep(0.5)
        assert alive(child), "the child must run while its parent does"
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        wait_for(lambda: not alive(child), "the orphaned child to exit", timeout_s=10)
    finally:
        if alive(child):
            os.kill(child, signal.SIGKILL)
        parent.kill()
        parent.stdout.close()
