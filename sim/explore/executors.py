"""Executors behind one ``concurrent.futures.Executor`` interface.

``in-process``  :class:`InProcessExecutor`, runs each task at ``submit`` (debugging, benchmarks)
``process``     :class:`concurrent.futures.ProcessPoolExecutor` (the default; ``spawn`` start method)
``dask``        ``dask.distributed.Client(...).get_executor()``: an existing scheduler
                (``tcp://HOST:PORT``; its workers need this package installed) or a
                ``LocalCluster`` of ``N`` single-threaded worker processes

No home-made cluster: Dask does the distribution.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

CONNECT_TIMEOUT_S = 3.0
"""How long to try to reach an existing Dask scheduler before giving up [s]."""


class ExecutorError(RuntimeError):
    """The executor cannot be opened (an unreachable scheduler, a missing extra): bad input, exit 2."""


class InProcessExecutor(Executor):
    """Runs every task immediately in the calling process; futures come back done."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:  # noqa: D102
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as err:  # noqa: BLE001 - handed to the caller through the future
            fut.set_exception(err)
        return fut


def _exit_with_parent(parent_pid: int, interval: float = 1.0) -> None:
    """Worker initializer: exit when the parent process is gone (e.g. the sweep got SIGKILL).

    Without this, pool workers of a killed sweep would linger as orphans.
    """
    import threading
    import time

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


@dataclass(frozen=True)
class ExecutorSpec:
    """Which executor to use: ``kind`` in {'in-process', 'process', 'dask'}.

    ``workers``: processes for 'process' (default: CPU count) or for a Dask
    ``LocalCluster``; ``scheduler``: address of an existing Dask scheduler.
    """

    kind: str = "process"
    workers: int | None = None
    scheduler: str | None = None

    @property
    def parallelism(self) -> int:
        """How many tasks run at once (a guess for remote Dask clusters)."""
        if self.kind == "in-process":
            return 1
        return max(1, self.workers or os.cpu_count() or 1)

    def describe(self) -> str:
        """A short human description."""
        if self.kind == "dask":
            return f"dask scheduler {self.scheduler}" if self.scheduler else f"dask LocalCluster({self.workers})"
        if self.kind == "process":
            return f"{self.parallelism} worker process(es)"
        return "in-process"


@contextmanager
def open_executor(spec: ExecutorSpec) -> Iterator[tuple[Executor, int]]:
    """Open the executor of ``spec``: yields ``(executor, slots)``, slots = tasks that run at once.

    The executor is shut down (and a local cluster closed) on exit.
    """
    if spec.kind == "in-process":
        yield InProcessExecutor(), 1
    elif spec.kind == "process":
        ctx = multiprocessing.get_context("spawn")  # no fork of a threaded parent (progress bar, Dask)
        with ProcessPoolExecutor(
            max_workers=spec.parallelism, mp_context=ctx, initializer=_exit_with_parent, initargs=(os.getpid(),)
        ) as ex:
            yield ex, spec.parallelism
    elif spec.kind == "dask":
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ExecutorError("Dask executors need the 'explore' extra: pip install -e '.[explore]'") from None

        if spec.scheduler:
            try:
                client = Client(spec.scheduler, timeout=CONNECT_TIMEOUT_S)
            except Exception as err:  # noqa: BLE001 - OSError, TimeoutError, ValueError for a bad address, ...
                raise ExecutorError(
                    f"--scheduler {spec.scheduler}: cannot reach a Dask scheduler within {CONNECT_TIMEOUT_S:g} s "
                    f"({type(err).__name__}: {str(err)[:200]})"
                ) from None
            with client:
                yield client.get_executor(pure=False), max(1, sum(client.nthreads().values()))
        else:
            with (
                LocalCluster(
                    n_workers=spec.parallelism, threads_per_worker=1, processes=True,
                    dashboard_address=None, host="127.0.0.1",
                ) as cluster,
                Client(cluster) as client,
            ):
                yield client.get_executor(pure=False), spec.parallelism
    else:
        raise ValueError(f"unknown executor kind {spec.kind!r}")
