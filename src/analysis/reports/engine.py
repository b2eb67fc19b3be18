"""The papermill engine the build runs notebooks with.

Registered under papermill's `papermill.engine` entry point as `analysis`, the way
the nbconvert exporters are, so papermill finds it by name and nothing is defined
or registered at run time. Papermill imports this module while its own `engines`
module is loading; import papermill, never this module, to get the engine.
"""

from __future__ import annotations

from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine
from papermill.utils import merge_kwargs, remove_args


class ProgressEngine(NBClientEngine):
    """NBClientEngine.execute_managed_notebook, plus a per-cell callback (for progress and
    errors) and the kernel's stderr sent to a file (its chatter would fill cron mail; a
    crash message in it goes into the error)."""

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
        kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
        final = merge_kwargs(kwargs, timeout=execution_timeout, startup_timeout=start_timeout,
                             kernel_name=kernel_name, log_output=log_output)
        client = PapermillNotebookClient(nb_man, **final)
        if kernel_stderr is None:
            return client.execute()
        return client.execute(stderr=kernel_stderr)
