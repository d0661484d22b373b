"""Local worker processes that die with their parent, and the error a dead worker becomes.

Replications and study cases run on `spawn` process pools. Each worker asks Linux to kill it
when its parent dies (prctl PR_SET_PDEATHSIG), and checks at once that the parent is still
there, so a killed `planner` leaves no worker (nor, once they are gone, the resource tracker)
running for minutes. A worker that dies itself breaks the pool; that becomes WorkerLost, which
the CLI reports as one line.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")
_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_PARENT_POLL_S = 1.0  # where prctl is missing: how often a worker looks for its parent
# When a worker is killed, the multiprocessing resource tracker cleans up the semaphores it held
# and warns about them on stderr at shutdown; the cleanup is its job, the warning is noise that
# would break the one-line report of the lost worker. The tracker takes its -W options from
# sys.warnoptions when it starts.
_QUIET_TRACKER = "ignore::UserWarning:multiprocessing.resource_tracker"


class WorkerLost(Exception):
    """A worker process died (killed, out of memory) before it returned its work."""

    def __init__(self, keys: Sequence[str], message: str):
        super().__init__(message)
        self.keys = list(keys)  # what it (or the broken pool) was working on


def die_with_parent(parent_pid: int) -> None:
    """Process pool initializer: end this worker when `parent_pid` ends."""
    libc_name = ctypes.util.find_library("c") if sys.platform.startswith("linux") else None
    if libc_name:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    else:  # no prctl: a watcher thread
        def watch() -> None:
            while os.getppid() == parent_pid:
                time.sleep(_PARENT_POLL_S)
            os._exit(1)

        threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent_pid:  # the parent died before the death signal was armed
        os._exit(1)


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def map_in_processes(fn: Callable[[T], R], items: Sequence[T],
                     workers: int | None = None) -> list[R]:
    """[fn(item) for item in items], in order, on at most `workers` spawned processes (default:
    all cores; in this process when one is enough). `fn` must be importable by the workers."""
    n = min(workers or default_workers(), len(items))
    if n <= 1:
        return [fn(item) for item in items]
    with process_pool(n) as pool:
        return list(pool.map(fn, items))


def process_pool(workers: int) -> ProcessPoolExecutor:
    """`workers` spawned processes that die with this one."""
    if _QUIET_TRACKER not in sys.warnoptions:
        sys.warnoptions.append(_QUIET_TRACKER)
    return ProcessPoolExecutor(workers, mp_context=get_context("spawn"),
                               initializer=die_with_parent, initargs=(os.getpid(),))
