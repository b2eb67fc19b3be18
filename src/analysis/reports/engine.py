"""The papermill engine the build runs notebooks with.

Registered under papermill's `papermill.engine` entry point as `analysis`, the way
the nbconvert exporters are, so papermill finds it by name and nothing is defined
or registered at run time. Papermill imports this module while its own `engines`
module is loading; import papermill, never this module, to get the engine.
"""

from __future__ import annotations

from nbclient.util import run_sync
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine
from papermill.utils import merge_kwargs, remove_args

from analysis.reports.warm import KernelStartError, WarmStateError


class _Client(PapermillNotebookClient):
    """Tells a kernel that did not start (worth one retry) from a notebook's fault."""

    async def async_start_new_kernel(self, **kwargs):
        try:
            return await super().async_start_new_kernel(**kwargs)
        except (KernelStartError, WarmStateError):
            raise
        except Exception as exc:
            raise KernelStartError(f"{type(exc).__name__}: {exc}") from exc

    async def async_start_new_kernel_client(self):
        try:
            return await super().async_start_new_kernel_client()
        except Exception as exc:
            raise KernelStartError(f"{type(exc).__name__}: {exc}") from exc

    # nbclient binds the sync names to its own coroutines: rebind them to these.
    start_new_kernel = run_sync(async_start_new_kernel)
    start_new_kernel_client = run_sync(async_start_new_kernel_client)


class ProgressEngine(NBClientEngine):
    """NBClientEngine.execute_managed_notebook, plus a per-cell callback (for progress and
    errors), the kernel's stderr sent to a file (its chatter would fill cron mail; a
    crash message in it goes into the error), and a kernel that fails to start raised as
    `warm.KernelStartError`, so the task can retry it and never a cell."""

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, on_cell=None,
                                 kernel_stderr=None, log_output=False, start_timeout=60,
                                 execution_timeout=None, **kwargs):
        if on_cell is not None:
            start = nb_man.cell_start

            def cell_start(cell, cell_index=None, **kw):
                on_cell(cell_index, cell)
                return start(cell, cell_index, **kw)

            nb_man.cell_start = cell_start
        # papermill writes the whole notebook to disk (validated JSON) before and after
        # every cell, so a long run can be watched. A build task's notebook is a temporary
        # file nobody watches: keep it in memory, and let papermill write it once when it
        # returns (with an error marker if a cell failed). Only when the run itself breaks
        # (the kernel died, a cell timed out) is the notebook saved as it stands, by
        # papermill's notebook_complete, so a failed report still leaves its notebook.
        # About 0.3 s of CPU a report.
        save = nb_man.save
        nb_man.save = lambda **kw: None
        try:
            return cls._execute(nb_man, kernel_name, on_cell, kernel_stderr, log_output,
                                start_timeout, execution_timeout, **kwargs)
        except BaseException:
            nb_man.save = save
            raise

    @classmethod
    def _execute(cls, nb_man, kernel_name, on_cell, kernel_stderr, log_output, start_timeout,
                 execution_timeout, **kwargs):
        kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
        final = merge_kwargs(kwargs, timeout=execution_timeout, startup_timeout=start_timeout,
                             kernel_name=kernel_name, log_output=log_output)
        client = _Client(nb_man, **final)
        if kernel_stderr is None:
            return client.execute()
        return client.execute(stderr=kernel_stderr)
