"""What a build's pool worker imports, imported once for all of them.

`runners.run_pool` starts its workers from multiprocessing's forkserver, and has the
forkserver import this module first: papermill, nbformat and the renderers (about 1 s
of CPU) are then imported once, and every worker is forked with them already loaded,
instead of each worker importing them for itself. Nothing here starts a thread or
opens a file, so forking after it is safe (a test checks). A worker whose forkserver
could not import this (multiprocessing ignores a preload's ImportError) imports what
it needs itself, as before (runners._warm_worker).
"""

from analysis.reports.reportlist import skip_slow_imports

skip_slow_imports()

import nbformat  # noqa: E402, F401
import papermill  # noqa: E402, F401

try:
    from analysis.reports import render  # noqa: F401
except ImportError:  # no renderer here: notebook-only reports still build
    pass
