"""Run pending cases on local processes or on Dask distributed; hand each result over as it
completes (the caller stores it at once, so an interrupted study keeps what finished)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context

from planner.study.worker import run_case


def run_local(payloads: dict[str, dict], workers: int) -> Iterator[tuple[str, dict]]:
    """(key, result) as cases finish, on `workers` local processes (1 = in this process)."""
    if workers <= 1:
        for key, payload in payloads.items():
            yield key, run_case(payload)
        return
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(run_case, payload): key for key, payload in payloads.items()}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def run_dask(payloads: dict[str, dict], scheduler: str, workers: int,
             on_client: Callable[[object], None] | None = None) -> Iterator[tuple[str, dict]]:
    """The same on Dask: `scheduler` is `local` (start a LocalCluster of `workers` single-thread
    processes) or the address of a running scheduler (tcp://host:port)."""
    from distributed import Client, LocalCluster
    from distributed import as_completed as dask_completed

    cluster = None
    if scheduler == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        if on_client is not None:
            on_client(client)
        keys = list(payloads)
        futures = client.map(run_case, [payloads[k] for k in keys],
                             key=[f"case-{k}" for k in keys], pure=False)
        by_future = dict(zip(futures, keys, strict=True))
        for future in dask_completed(futures):
            yield by_future[future], future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
