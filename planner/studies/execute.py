"""Run pending cases on local processes or on Dask distributed; hand each result over as it
completes (the caller stores it at once, so an interrupted study keeps what finished)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from concurrent.futures import as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager

from planner.parallel import WorkerLost, process_pool
from planner.studies.worker import run_case

__all__ = ["SCHEDULER_TIMEOUT_S", "SchedulerUnreachable", "WorkerLost", "check_scheduler",
           "dask_client", "run_dask", "run_local"]

SCHEDULER_TIMEOUT_S = 5.0  # to connect to a running Dask scheduler
_ADDRESS = re.compile(r"^(tcp|tls)://[A-Za-z0-9.\-_\[\]:]+:\d{1,5}$")


class SchedulerUnreachable(Exception):
    """No Dask scheduler answered at the address given."""


def check_scheduler(scheduler: str) -> str | None:
    """What is wrong with a --scheduler value, or None: `local`, or tcp://host:port."""
    if scheduler == "local" or _ADDRESS.match(scheduler):
        return None
    return "must be `local` or the address of a running scheduler, tcp://host:port"


def run_local(payloads: dict[str, dict], workers: int) -> Iterator[tuple[str, dict]]:
    """(key, result) as cases finish, on `workers` local processes (1 = in this process).
    A worker that dies ends the run with WorkerLost naming the cases not finished."""
    if workers <= 1:
        for key, payload in payloads.items():
            yield key, run_case(payload)
        return
    with process_pool(workers) as pool:
        futures = {pool.submit(run_case, payload): key for key, payload in payloads.items()}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        except BrokenProcessPool:
            lost = [key for future, key in futures.items()
                    if not future.done() or future.exception() is not None]
            raise WorkerLost(lost, "a worker process died (killed, or out of memory)") from None
        finally:
            for future in futures:
                future.cancel()


@contextmanager
def dask_client(scheduler: str, workers: int) -> Iterator[object]:
    """A Dask client, closed (with its cluster) on exit: `scheduler` is `local` (a LocalCluster
    of `workers` single-thread processes) or the address of a running scheduler
    (tcp://host:port), reached within SCHEDULER_TIMEOUT_S or SchedulerUnreachable."""
    from distributed import Client, LocalCluster

    cluster = None
    if scheduler == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout=SCHEDULER_TIMEOUT_S)
        except (OSError, TimeoutError) as err:
            raise SchedulerUnreachable(
                f"no Dask scheduler answered at {scheduler} within {SCHEDULER_TIMEOUT_S:g} s "
                f"({' '.join(str(err).split())[:120]})") from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_dask(payloads: dict[str, dict], scheduler: str, workers: int,
             on_client: Callable[[object], None] | None = None) -> Iterator[tuple[str, dict]]:
    """The same on Dask (dask_client: `local` or tcp://host:port)."""
    from distributed import as_completed as dask_completed

    with dask_client(scheduler, workers) as client:
        if on_client is not None:
            on_client(client)
        keys = list(payloads)
        futures = client.map(run_case, [payloads[k] for k in keys],
                             key=[f"case-{k}" for k in keys], pure=False)
        by_future = dict(zip(futures, keys, strict=True))
        pending = set(keys)
        for future in dask_completed(futures):
            key = by_future[future]
            try:
                result = future.result()
            except Exception as err:  # noqa: BLE001 - KilledWorker and the like
                raise WorkerLost(sorted(pending), f"Dask lost case work: {type(err).__name__}") \
                    from None
            pending.discard(key)
            yield key, result
