"""Warm kernels (reports.warm): each report in a fresh process forked from one template.

The isolation notebook first checks that nothing is left from whatever ran before it
on the same worker, then leaves everything it can behind: a global, a builtin, a
changed matplotlib rcParam, a monkeypatched module, an open file. Three reports of it
run one after another on one worker; the later ones must find none of it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from test_build import make_project, run, write_notebook

from analysis.reports import warm

ISOLATION_PARAMETERS = '''figures_out = ""
label = ""'''

# What a report leaves behind must not reach the next one on the same worker.
CHECK_AND_LEAK = '''import builtins, json, os, statistics
import matplotlib
import pint
leftovers = []
if "LEAKED_GLOBAL" in globals():
    leftovers.append("a global")
if hasattr(builtins, "LEAKED_BUILTIN"):
    leftovers.append("a builtin")
if matplotlib.rcParams["lines.linewidth"] == 9.5:
    leftovers.append("an rcParam")
if getattr(pint.UnitRegistry, "leaked", False) or statistics.mean([1, 3]) != 2:
    leftovers.append("a monkeypatched module")
fds = [os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")
       if os.path.exists(f"/proc/self/fd/{fd}")]
if any("leaked-handle" in target for target in fds):
    leftovers.append("an open file")
assert not leftovers, f"{label} found {leftovers} left by an earlier report"
with open(figures_out, "w") as f:
    json.dump({"figures": [{"pid": os.getpid(), "ppid": os.getppid()}]}, f)
LEAKED_GLOBAL = 1
builtins.LEAKED_BUILTIN = 1
matplotlib.rcParams["lines.linewidth"] = 9.5
def _patched(*a, **k):
    return "patched"
_patched.leaked = True
statistics.mean = _patched
pint.UnitRegistry.leaked = True
LEAKED_HANDLE = open("leaked-handle.txt", "w")'''

ISOLATION_YAML = """\
formats: [ipynb]
reports:
  - {name: first, notebook: notebooks/leak.ipynb, parameters: {label: first}}
  - {name: second, notebook: notebooks/leak.ipynb, parameters: {label: second}}
  - {name: third, notebook: notebooks/leak.ipynb, parameters: {label: third}}
"""


def isolation_project(tmp_path) -> Path:
    root = make_project(tmp_path, ISOLATION_YAML)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    params = nbformat.v4.new_code_cell(ISOLATION_PARAMETERS)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(CHECK_AND_LEAK)]
    nbformat.write(nb, root / "notebooks" / "leak.ipynb")
    return root


@pytest.fixture
def fresh_server():
    """A template of this test's own (the default preload), stopped afterwards."""
    warm.stop()
    yield
    warm.stop()


def published_pids(root, name):
    return json.loads((root / f"reports/{name}/figures.json").read_text())["figures"][0]


def test_reports_on_one_worker_share_nothing_but_the_template(tmp_path, fresh_server):
    root = isolation_project(tmp_path)
    summary, _ = run(root, jobs=1)  # one worker: this process; its template forks each
    assert summary.failed == []
    assert summary.built == ["first", "second", "third"]
    template = warm.server().pid()
    pids = [published_pids(root, n) for n in summary.built]
    # Each report ran in its own process, forked from this worker's one template.
    assert len({p["pid"] for p in pids}) == 3
    assert {p["ppid"] for p in pids} == {template}
    assert warm.server().starts == 1


def test_isolation_holds_in_a_process_pool(tmp_path):
    root = isolation_project(tmp_path)
    summary, _ = run(root, jobs=2)
    assert summary.failed == [] and len(summary.built) == 3
    pids = [published_pids(root, n) for n in summary.built]
    # Two workers, one template they share (the build's); three reports, three kernels.
    assert len({p["pid"] for p in pids}) == 3
    assert len({p["ppid"] for p in pids}) == 1
    [template] = {p["ppid"] for p in pids}
    assert not _alive(template)  # the build has ended: so has its template


def test_the_stack_is_imported_before_the_first_cell(tmp_path, fresh_server):
    root = make_project(tmp_path)
    write_notebook(root / "notebooks" / "tiny.ipynb", extra_cells=[
        "import sys\n"
        "assert {'pandas', 'matplotlib', 'pint', 'analysis.notebook'} <= set(sys.modules)"])
    summary, _ = run(root, "main")
    assert summary.failed == []


def test_what_a_kernel_imports_to_start_and_run_a_cell_comes_from_the_template(
        tmp_path, fresh_server):
    # Lazily imported by ipykernel and IPython (the debugger alone is 0.15 s of CPU):
    # already in a forked kernel's sys.modules before its first cell, because the
    # template imported them; in a cold kernel they are imported during start-up.
    root = make_project(tmp_path)
    write_notebook(root / "notebooks" / "tiny.ipynb", extra_cells=[
        "import sys\n"
        f"missing = set({sorted(warm.KERNEL_MODULES)!r}) - set(sys.modules)\n"
        "assert not missing, missing"])
    summary, _ = run(root, "main")
    assert summary.failed == []


def test_a_kernel_starts_with_the_stacks_first_use_costs_paid_and_nothing_else(
        tmp_path, fresh_server):
    # notebook/warmup.py ran in the template, before the fork, and left no figure open
    # and no rcParam changed behind it
    root = make_project(tmp_path)
    write_notebook(root / "notebooks" / "tiny.ipynb", extra_cells=[
        "import matplotlib, matplotlib.pyplot as plt\n"
        "from analysis.notebook import warmup\n"
        "assert warmup.ran, 'the template did not warm up'\n"
        "assert plt.get_fignums() == [], plt.get_fignums()\n"
        "assert matplotlib.rcParams['font.size'] == 10.0\n"
        "assert matplotlib.rcParams['svg.hashsalt'] is None"])
    summary, _ = run(root, "main")
    assert summary.failed == []


def test_warming_up_leaves_no_state_and_never_raises(monkeypatch):
    import matplotlib
    import matplotlib.pyplot as plt

    from analysis.notebook import plots, warmup

    before = dict(matplotlib.rcParams)
    warmup.run()
    assert warmup.ran
    assert plt.get_fignums() == [] and dict(matplotlib.rcParams) == before

    def broken(*args, **kwargs):
        raise RuntimeError("a chart that cannot be drawn")

    monkeypatch.setattr(plots, "range_chart", broken)
    warmup.run()  # only a saving: a failure is not the template's failure
    with pytest.raises(RuntimeError):
        warmup._run()


def test_the_executed_notebook_is_not_rewritten_after_every_cell(tmp_path, fresh_server):
    # papermill saves the notebook before and after each cell; a build writes it when the
    # run starts and when it ends (engine.py), never between cells. The kernel's working
    # folder is the task's, where the notebook is written.
    root = make_project(tmp_path)
    write_notebook(root / "notebooks" / "tiny.ipynb", extra_cells=[
        "first = open('.executed.ipynb').read()",
        "print('a cell with output')",
        "assert open('.executed.ipynb').read() == first, 'saved mid-run'"])
    summary, _ = run(root, "main")
    assert summary.failed == []


@pytest.mark.parametrize("argv", [
    ["-f", "/tmp/kernel-1.json"],
    ["-f", "/tmp/a folder/kernel=2 ü.json"],
    ["-f", "/tmp/'quoted'"],
])
def test_a_forked_kernel_reads_its_connection_file_as_traitlets_would(argv):
    # kernel_app_class skips traitlets' argument parser for `-f FILE`, the kernel spec's
    # whole command line: the configuration it sets must be the one traitlets' parse
    # makes of the same command line, as the command line's (cli_config, which
    # BaseIPythonApplication applies again over any config file).
    parsed, fast = _parsed_both_ways(argv)
    assert fast.cli_config == parsed.cli_config
    assert (fast.argv, fast.extra_args, fast.connection_file) == (
        parsed.argv, parsed.extra_args, parsed.connection_file)


def _parsed_both_ways(argv):
    """`argv` read by traitlets for ipykernel_launcher, and by kernel_app_class."""
    from ipykernel.kernelapp import IPKernelApp

    parsed, fast = IPKernelApp(), warm.kernel_app_class()()
    parsed.parse_command_line(list(argv))
    fast.parse_command_line(list(argv))
    return parsed, fast


def test_any_other_kernel_command_line_is_parsed_by_traitlets():
    app = warm.kernel_app_class()()
    app.parse_command_line(["-f", "k.json", "--IPKernelApp.parent_handle=7", "--debug"])
    assert (app.connection_file, app.parent_handle, app.log_level) == ("k.json", 7, 10)


def test_a_config_file_cannot_unset_what_a_forked_kernel_is_told(tmp_path):
    # Found by a review: parent_handle given to the app as a keyword was overridden by a
    # config file (and the kernel would outlive its template); the connection file, too,
    # is the command line's. Initialized in a child process: the app starts threads.
    profile = tmp_path / "ipython" / "profile_default"
    profile.mkdir(parents=True)
    (profile / "ipython_kernel_config.py").write_text(
        "c.IPKernelApp.parent_handle = 1\n"
        "c.IPKernelApp.connection_file = '/tmp/not-this-one.json'\n")
    connection = tmp_path / "kernel.json"
    script = (
        "import json, os\n"
        "from analysis.reports import warm\n"
        f"app = warm._kernel_app(['-f', {str(connection)!r}], os.getppid())\n"
        "os.write(1, json.dumps([app.parent_handle, os.getppid(),\n"  # sys.stdout is
        "    type(app.poller).__name__, app.connection_file]).encode())\n"  # the kernel's
        "os._exit(0)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**os.environ, "IPYTHONDIR": str(tmp_path / "ipython")},
                          timeout=120)
    handle, ppid, poller, connection_file = json.loads(done.stdout)
    assert (handle, poller, connection_file) == (ppid, "ParentPollerUnix", str(connection))


@pytest.mark.filterwarnings("ignore:Supporting extra quotes:DeprecationWarning")
@pytest.mark.parametrize("argv", [["-f", "~/kernel.json"], ["-f", '"/tmp/kernel.json"'],
                                  ["-f", "relative.json"]])
def test_a_connection_file_traitlets_would_rewrite_is_left_to_traitlets(argv):
    # Found by a review: traitlets expands a leading ~ and drops surrounding quotes. Only
    # an absolute path, which it reads as it is, takes the fast path.
    parsed, fast = _parsed_both_ways(argv)
    assert fast.connection_file == parsed.connection_file
    assert fast.argv == parsed.argv and "ForkedKernelApp" in fast.cli_config  # traitlets'
    if argv[1] != "relative.json":
        assert fast.connection_file != argv[1]


@contextlib.asynccontextmanager
async def _ready_client(km):
    """A client of a kernel `km` starts, ready; the kernel is shut down afterwards."""
    await km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        await kc.wait_for_ready(timeout=60)
        yield kc
    finally:
        kc.stop_channels()
        await km.shutdown_kernel(now=True)


def test_a_forked_kernel_knows_its_connection_file_and_its_template(fresh_server, tmp_path):
    # The connection file comes from the fast path; parent_handle (the template's pid,
    # which ipykernel's parent poller watches so that a kernel outlives no template) is
    # given to the app as configuration.
    import asyncio

    km = warm.kernel_manager_class()(kernel_name="python3")
    km.connection_file = str(tmp_path / "kernel.json")
    code = ("from ipykernel.kernelapp import IPKernelApp\n"
            "app = IPKernelApp.instance()\n"
            "print(app.connection_file, app.parent_handle, os.getppid())")

    async def ask():
        async with _ready_client(km) as kc:
            kc.execute("import os\n" + code)
            while True:
                msg = await kc.get_iopub_msg(timeout=30)
                if msg["msg_type"] == "stream":
                    return msg["content"]["text"].split()

    connection_file, handle, ppid = asyncio.run(ask())
    assert connection_file == km.connection_file
    assert handle == ppid == str(warm.server().pid())


def test_every_task_of_a_worker_uses_the_same_kernel_manager_class():
    # a new class a task made traitlets set up its traits again for every report
    assert warm.kernel_manager_class() is warm.kernel_manager_class()
    km = warm.kernel_manager_class()(kernel_name="python3")
    assert type(km.client()) is warm._client_class()


def test_a_ready_kernel_has_no_stale_messages_waiting(fresh_server):
    # WarmKernelClient's readiness check ends on the kernel's `idle` for its kernel_info
    # request, so the first IOPub message after it belongs to the first execute request.
    import asyncio

    km = warm.kernel_manager_class()(kernel_name="python3")

    async def first_parent():
        async with _ready_client(km) as kc:
            msg_id = kc.execute("1 + 1")
            first = await kc.get_iopub_msg(timeout=30)
            return msg_id, first["parent_header"].get("msg_id"), first["msg_type"]

    msg_id, parent, kind = asyncio.run(first_parent())
    assert (parent, kind) == (msg_id, "status")


def test_a_broken_warm_state_fails_every_report_with_the_import_error_once(
        tmp_path, fresh_server):
    root = make_project(tmp_path)
    broken = warm.server(preload=("analysis_no_such_module_for_test",))
    summary, _ = run(root)
    messages = dict(summary.failed)
    assert sorted(messages) == ["main", "source-a", "source-b"]
    for message in messages.values():
        assert ("the worker could not import the report stack: ModuleNotFoundError: "
                "No module named 'analysis_no_such_module_for_test'") in message
        assert "retried" not in message
    assert broken.starts == 1  # imported once for the worker, not once per report
    log = (root / "reports/build.log").read_text()
    assert "\tretry\t" not in log


def test_a_kernel_that_fails_to_start_is_retried_once_and_logged(tmp_path, fresh_server):
    root = make_project(tmp_path)
    fork = warm.server()  # the worker's template dies, as if the OOM killer took it
    os.kill(fork.pid(), signal.SIGKILL)
    fork.proc.wait()
    summary, _ = run(root, "main")
    assert summary.failed == [] and summary.built == ["main"]
    assert fork.starts == 2
    [line] = [ln for ln in (root / "reports/build.log").read_text().splitlines()
              if "\tretry\t" in ln]
    assert "\tmain\tthe kernel failed to start (" in line
    assert line.endswith("retried once")


def test_a_cell_error_is_never_retried(tmp_path, fresh_server):
    root = make_project(tmp_path)
    runs = tmp_path / "runs.txt"
    write_notebook(root / "notebooks" / "tiny.ipynb", extra_cells=[
        f"open({str(runs)!r}, 'a').write('ran\\n')\nraise ValueError('boom')"])
    summary, _ = run(root, "main")
    [(name, message)] = summary.failed
    assert "raised ValueError: boom" in message
    assert runs.read_text() == "ran\n"
    assert "\tretry\t" not in (root / "reports/build.log").read_text()


def test_a_dead_worker_takes_its_template_and_kernels_with_it(tmp_path):
    # A worker (here a plain process) starts a template and a kernel that sleeps, then is
    # killed: the template sees its pipe close and kills the kernel, then exits.
    script = tmp_path / "worker.py"
    script.write_text(
        "import json, sys, time\n"
        "from analysis.reports import warm\n"
        "fork = warm.server()\n"
        f"pid = fork.spawn(['-f', {str(tmp_path / 'kernel.json')!r}], {str(tmp_path)!r}, "
        "None, None)\n"
        "print(json.dumps([fork.pid(), pid]), flush=True)\n"
        "time.sleep(600)\n")
    worker = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    template, kernel = json.loads(worker.stdout.readline())
    worker.kill()
    worker.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (_alive(template) or _alive(kernel)):
        time.sleep(0.1)
    assert not _alive(template) and not _alive(kernel)


def test_a_kernel_killed_before_it_leads_its_own_group_is_killed_all_the_same():
    """Found when test_a_dead_worker_takes_its_template_and_kernels_with_it failed on a
    loaded machine (2026-11-27): a worker killed right after a spawn made the template
    kill a kernel that had not yet called setsid. killpg found no such group, the kernel
    lived, and the template waited on it forever. Here the child never calls setsid."""
    pid = os.fork()
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    children = {pid: None}
    try:
        warm._kill(children, {pid})
        deadline, gone = time.monotonic() + 10, False
        while not gone and time.monotonic() < deadline:
            gone = os.waitpid(pid, os.WNOHANG)[0] == pid
            time.sleep(0.02)
        assert gone, "the kernel outlived its kill"
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


def _kernel_args(tmp_path, name):
    return ["-f", str(tmp_path / f"{name}.json")], str(tmp_path), None, None


def test_workers_share_one_template_and_take_only_their_own_kernels_with_them(tmp_path):
    shared = warm.SharedTemplate.start()
    a, b = _join(shared), _join(shared)
    try:
        ka, kb = a.spawn(*_kernel_args(tmp_path, "a")), b.spawn(*_kernel_args(tmp_path, "b"))
        assert a.pid() == b.pid() == shared.proc.pid  # one template for both workers
        assert stat.S_IMODE(os.stat(shared.folder).st_mode) == 0o700  # this user's only
        a.close()  # a worker goes: its kernel goes, the other worker's stays
        _wait_until(lambda: not _alive(ka))
        assert _alive(kb) and _alive(shared.proc.pid) and b.poll(kb) is None
    finally:
        b.close()
        shared.close()
    _wait_until(lambda: not _alive(kb))
    assert shared.proc.returncode is not None and not os.path.exists(shared.folder)


def test_a_worker_whose_shared_template_died_retries_on_a_template_of_its_own(tmp_path):
    shared = warm.SharedTemplate.start()
    fork = _join(shared)
    try:
        fork.spawn(*_kernel_args(tmp_path, "a"))
        shared.proc.kill()  # as if the OOM killer took it
        shared.proc.wait()
        with pytest.raises(warm.KernelStartError, match="template died"):
            fork.spawn(*_kernel_args(tmp_path, "b"))
        assert fork.restart_if_dead()
        kernel = fork.spawn(*_kernel_args(tmp_path, "c"))
        assert fork.proc is not None and fork.pid() == fork.proc.pid != shared.proc.pid
        assert fork.starts == 2 and fork.poll(kernel) is None
    finally:
        fork.close()
        shared.close()


def test_a_shared_template_that_cannot_import_fails_each_worker_once():
    shared = warm.SharedTemplate.start(preload=("analysis_no_such_module_for_test",))
    fork = _join(shared)
    try:
        for _ in "ab":
            with pytest.raises(warm.WarmStateError, match="analysis_no_such_module_for_test"):
                fork.spawn(["-f", "k.json"], None, None, None)
        assert not fork.restart_if_dead() and fork.starts == 1
    finally:
        fork.close()
        shared.close()


def _join(shared):
    fork = warm.ForkServer(address=shared.address)
    fork.start()
    return fork


def _wait_until(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_worker_stack_imports_once_and_starts_no_thread():
    # runners.run_pool's forkserver imports it before forking every worker: safe only if
    # importing it leaves the process with one thread and nothing else running
    code = ("import sys, threading\n"
            "import analysis.reports.workerstack\n"
            "assert threading.active_count() == 1, threading.enumerate()\n"
            "assert {'nbformat', 'papermill', 'analysis.reports.render'} <= set(sys.modules)\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_without_a_folder_for_its_socket_there_is_no_shared_template(tmp_path, monkeypatch):
    # run_pool then passes no address, and each worker starts a template of its own
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    assert warm.SharedTemplate.start() is None


def test_a_worker_cut_off_mid_request_does_not_take_the_shared_template_down(tmp_path):
    import select
    import socket

    shared = warm.SharedTemplate.start()
    fork = _join(shared)
    try:
        fork.spawn(*_kernel_args(tmp_path, "a"))  # the template is up and serving
        for garbage in (b'{"op": "spa', b"not json\n"):
            cut = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            cut.connect(shared.address)
            # wait for the template's first line and leave it unread: closing then
            # resets the connection, and the template's read of it raised
            # ConnectionResetError and took the template down (a flaky failure of this
            # test under load; a worker killed mid-answer would do the same)
            select.select([cut], [], [], 10)
            cut.sendall(garbage)
            cut.close()
        kernel = fork.spawn(*_kernel_args(tmp_path, "b"))
        assert fork.poll(kernel) is None and shared.proc.poll() is None
    finally:
        fork.close()
        shared.close()
