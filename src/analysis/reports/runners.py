"""Running many tasks: one after another, in a local process pool, or on a Dask cluster.

Each runner yields a `TaskResult` per task as it finishes, in any order; only the
process that runs `analysis build` publishes them.
"""

from __future__ import annotations

import os
import threading
import time

from analysis.errors import UsageError
from analysis.reports.task import TaskResult, run_task

SCHEDULER_CONNECT_TIMEOUT = 30  # seconds to reach a Dask scheduler before giving up


def _warm_worker(build_pid: int | None = None, template: str | None = None) -> None:
    """Pool initializer: join the build's kernel template (at the socket `template`;
    else start one of the worker's own), which imports the report stack (reports.warm);
    the worker's own stack (papermill, the renderers) came with the fork (workerstack).
    Leave, with the kernels this worker started, as soon as the build is gone."""
    if build_pid is not None:
        threading.Thread(target=_exit_with, args=(build_pid,), daemon=True,
                         name="exit-with-build").start()
    from analysis.reports import warm

    warm.start(address=template)
    import analysis.reports.workerstack  # noqa: F401 - imported by the forkserver already


def _exit_with(build_pid: int) -> None:
    # A SIGKILLed build cannot stop its pool: the workers are children of the forkserver,
    # and their kernels live in sessions of their own, so both would wait for minutes.
    import psutil

    while True:
        time.sleep(0.5)
        try:
            if psutil.Process(build_pid).status() != psutil.STATUS_ZOMBIE:
                continue
        except psutil.Error:
            pass
        for child in psutil.Process().children(recursive=True):
            try:
                child.kill()
            except psutil.Error:
                pass
        os._exit(1)


def run_serial(tasks, on_cell, on_start):
    for task in tasks:
        on_start(task.name)
        yield run_task(task, on_cell)


def run_pool(tasks, jobs, on_cell, on_start):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    from analysis.reports import warm

    # forkserver: workers start from a clean small process (no threads, no copy of
    # this one's state) that has imported their stack once (workerstack), while the
    # one kernel template they share imports the report stack.
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["analysis.reports.runners", "analysis.reports.workerstack"])
    template = warm.SharedTemplate.start()
    manager = queue = pump = None
    if on_cell is not None:
        manager = ctx.Manager()
        queue = manager.Queue()
        pump = threading.Thread(target=_pump, args=(queue, on_cell), daemon=True)
        pump.start()
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_warm_worker,
                                 initargs=(os.getpid(), template and template.address)
                                 ) as pool:
            futures = {}
            for task in tasks:
                futures[pool.submit(run_task, task, queue)] = task
                on_start(task.name)
            for fut in as_completed(futures):
                task = futures[fut]
                try:
                    yield fut.result()
                except BrokenProcessPool as exc:
                    yield TaskResult(task.name, task.key, False,
                                 error=f"report '{task.name}': its worker process died ({exc})")
    finally:
        if queue is not None:
            queue.put(None)
            pump.join(timeout=2)
            manager.shutdown()
        if template is not None:
            template.close()


def _pump(queue, on_cell):
    while True:
        try:
            event = queue.get()
        except (EOFError, OSError):
            return
        if event is None:
            return
        on_cell(*event)


def run_dask(tasks, scheduler, on_start):
    try:
        from dask.distributed import Client, as_completed
    except ImportError as exc:
        raise UsageError(
            "--scheduler needs Dask distributed: pip install 'analysis[distributed]'"
        ) from exc
    try:
        client = Client(scheduler, timeout=SCHEDULER_CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:  # ValueError: not an address
        raise UsageError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    with client:
        from analysis.reports import warm

        # Each worker keeps a kernel template between tasks (reports.warm).
        client.register_plugin(warm.dask_plugin())
        futures = {}
        for task in tasks:
            task.verify_code = True
            futures[client.submit(run_task, task, pure=False)] = task
            on_start(task.name)
        for fut in as_completed(futures):
            task = futures[fut]
            try:
                yield fut.result()
            except Exception as exc:  # the worker died or could not unpickle the task
                yield TaskResult(task.name, task.key, False,
                             error=f"report '{task.name}': the Dask task failed: {exc}")


