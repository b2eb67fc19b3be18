"""Warm kernels: pay interpreter start and imports once per worker, not once per report.

A report's kernel used to cost a fresh Python, ipykernel's start and the imports of
pandas, matplotlib, pint and `analysis` (about 1.5 s of CPU on the project's 2-core
machine) before its first cell ran, for cells that take about 0.5 s. Two designs were
measured against that:

- a pool of pre-started single-use kernels hides the start-up behind other work but
  still pays it, in full, per report: with every core busy that saves nothing;
- a *fork server* pays it once. Each worker starts one template process (`python -m
  analysis.reports.warm`) that imports the report stack (`PRELOAD`) and ipykernel,
  then waits. Every kernel is a `fork()` of that template which then becomes a
  brand-new ipykernel (`IPKernelApp`) on the connection file jupyter_client wrote.
  Forking costs milliseconds and shares the imported modules copy-on-write. Before
  its first fork the template also takes the stack's first-use paths once (fonts,
  unit and parser caches: `analysis.notebook.warmup`, on made-up figures), which had
  cost every kernel about 50 ms of CPU.

The fork server is what the build uses. Each report still runs in its own fresh
process: what a notebook does to its globals, to matplotlib's rcParams, to a module
or to open files dies with its process, and the template never runs notebook code.
The child starts with a new session (its own process group, so interrupts and kills
reach only it), the kernel's working directory and environment, its own random seeds
(Python's `random` reseeds itself at fork; NumPy's global generator is reseeded here)
and the template's `sys.path` without the template's folder, as `ipykernel_launcher`
would leave it. Papermill still executes each notebook and records its parameters;
only the `Popen` of the kernel command is replaced, through a jupyter_client
provisioner (`ForkProvisioner`) that the build's kernel manager (`WarmKernelManager`)
uses; a kernel spec that is not this interpreter's ipykernel starts cold as before.

Overlap: a kernel is its own process, so while one worker's kernel computes, the other
worker renders (nbconvert, pandoc, Typst, in the worker) and the build process hashes
inputs and publishes results (in its own process); with `--jobs` equal to the cores no
core waits on another's kernel. Within one worker the next report's kernel starts only
after this report is rendered; a worker renders with one Typst compiler and one set of
nbconvert exporters and Jinja templates, loaded once (reports.render), and nothing else.

Faults: a template whose imports fail is not restarted: every report on that worker
fails at once with the import error (it would fail the same way in the notebook). A
template that dies (killed, out of memory) is a transient fault: the kernel start
fails, the task retries once on a new template, and says so. When the worker goes,
the template sees its command pipe close, kills the kernels it forked and exits; a
kernel whose template is gone exits too (ipykernel's parent poller).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback

from analysis.errors import KernelStartError, WarmStateError

# Imported once per worker by the template; a kernel forked from it starts with them.
PRELOAD = (
    "numpy", "pandas", "matplotlib", "matplotlib.pyplot", "pint", "yaml",
    "IPython.display", "analysis.figures", "analysis.notebook",
)
# What ipykernel itself needs to start and run a cell, imported in the template too:
# a kernel imports these lazily, which cost every forked kernel about 0.2 s of CPU (the
# debugger alone 0.15 s) until the template paid for them once.
KERNEL_MODULES = (
    "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.debugger",
    "matplotlib_inline.backend_inline", "jupyter_client.session",
    "IPython.core.debugger", "IPython.core.completerlib", "IPython.core.oinspect",
    "IPython.core.logger", "IPython.extensions.storemagic", "sqlite3",
    "tornado.platform.asyncio", "tornado.queues", "matplotlib.backends.backend_svg",
)
# Run once in the template after the imports: the stack's first-use costs (fonts, unit
# caches), about 50 ms of every kernel's CPU, paid before the forks (notebook/warmup.py).
WARM_UP = "analysis.notebook.warmup"
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
START_TIMEOUT = 120.0  # seconds for a template to import the stack (a loaded machine)


# --- the worker side: one template process, asked to fork kernels -------------------


class ForkServer:
    """The client of one template process; thread-safe (a Dask worker may run threads)."""

    def __init__(self, preload=PRELOAD, python_args: tuple[str, ...] = ()):
        self.preload = tuple(preload)
        self.python_args = tuple(python_args)
        self.lock = threading.Lock()
        self.proc: subprocess.Popen | None = None
        self.broken: str | None = None  # the import error, once known
        self.starts = 0  # templates started (the first, and one per transient fault)

    def start(self) -> None:
        """Start the template; returns at once (it imports while the worker does other work)."""
        with self.lock:
            self._start()

    def _start(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        env = {**os.environ, "MPLBACKEND": INLINE_BACKEND}
        env.pop("JPY_PARENT_PID", None)
        self.proc = subprocess.Popen(
            [sys.executable, *self.python_args, "-m", "analysis.reports.warm",
             json.dumps(self.preload)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=env, cwd="/", close_fds=True,
        )
        self.starts += 1
        self._ready = False

    def _ask(self, request: dict) -> dict:
        """One request, one answer; KernelStartError if the template is gone."""
        if self.broken:
            raise WarmStateError(self.broken)
        if self.proc is None or self.proc.poll() is not None:
            raise KernelStartError("the worker's kernel template is not running")
        try:
            if not self._ready:
                self._ready_answer()
            self.proc.stdin.write(json.dumps(request).encode() + b"\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        except (OSError, ValueError) as exc:
            raise KernelStartError(f"the worker's kernel template died ({exc})") from None
        if not line:
            raise KernelStartError(
                f"the worker's kernel template died (exit code {self.proc.wait()})")
        return json.loads(line)

    def _ready_answer(self) -> None:
        line = self.proc.stdout.readline()  # the template's first line: ready, or why not
        if not line:
            raise KernelStartError(
                f"the worker's kernel template died while importing (exit code "
                f"{self.proc.wait()})")
        answer = json.loads(line)
        if "error" in answer:
            self.broken = (f"the worker could not import the report stack: "
                           f"{answer['error']}")
            self.proc.wait()
            raise WarmStateError(self.broken)
        self._ready = True

    def spawn(self, args: list[str], cwd: str | None, env: dict | None,
              output: str | None) -> int:
        """Fork a kernel: `args` are ipykernel's (`-f CONNECTION_FILE` ...); returns its pid."""
        with self.lock:
            answer = self._ask({"op": "spawn", "args": list(args), "cwd": cwd,
                                "env": dict(env) if env is not None else None,
                                "output": output})
        if "error" in answer:
            raise KernelStartError(answer["error"])
        return int(answer["pid"])

    def poll(self, pid: int) -> int | None:
        with self.lock:
            try:
                return self._ask({"op": "poll", "pid": pid}).get("returncode")
            except (KernelStartError, WarmStateError):
                return -signal.SIGKILL  # the template is gone; so is its kernel

    def restart_if_dead(self) -> bool:
        """After a failed start: a new template if the old one died. False if broken."""
        with self.lock:
            if self.broken:
                return False
            if self.proc is None or self.proc.poll() is not None:
                self._start()
            return True

    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def close(self) -> None:
        """Stop the template; it kills any kernel it forked that is still running."""
        with self.lock:
            proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


_server: ForkServer | None = None
_server_lock = threading.Lock()


def server(preload=None) -> ForkServer:
    """This process's fork server, started on first use (or by `start`)."""
    global _server
    with _server_lock:
        if _server is None or (preload is not None and tuple(preload) != _server.preload):
            if _server is not None:
                _server.close()
            _server = ForkServer(PRELOAD if preload is None else preload, _python_args())
            _server.start()
        return _server


def start(preload=None) -> ForkServer:
    """Start this process's template now, so its imports overlap other work."""
    return server(preload)


def stop() -> None:
    global _server
    with _server_lock:
        if _server is not None:
            _server.close()
            _server = None


def _python_args() -> tuple[str, ...]:
    """The interpreter options of the python3 kernel spec (e.g. -Xfrozen_modules=off)."""
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        argv = KernelSpecManager().get_kernel_spec("python3").argv
    except Exception:  # no kernel spec: the template runs with no options
        return ()
    if "-m" not in argv:
        return ()
    return tuple(argv[1:argv.index("-m")])


def kernel_args(cmd: list[str]) -> list[str] | None:
    """ipykernel's arguments if `cmd` starts this interpreter's ipykernel as the
    template would; None when the kernel must start cold (another interpreter)."""
    try:
        i = cmd.index("-m")
    except ValueError:
        return None
    if cmd[i + 1:i + 2] != ["ipykernel_launcher"]:
        return None
    if os.path.realpath(cmd[0]) != os.path.realpath(sys.executable):
        return None
    if tuple(cmd[1:i]) != server().python_args:
        return None
    return cmd[i + 2:]


# --- jupyter_client: a provisioner that forks instead of Popen ---------------------


def _provisioner_class():
    from jupyter_client.provisioning import LocalProvisioner

    class ForkProvisioner(LocalProvisioner):
        """LocalProvisioner whose kernel is forked from the worker's template."""

        async def launch_kernel(self, cmd, **kwargs):
            args = kernel_args(cmd)
            if args is None:
                return await super().launch_kernel(cmd, **kwargs)
            fork = server()
            output = getattr(kwargs.get("stderr"), "name", None)
            pid = fork.spawn(args, kwargs.get("cwd"), kwargs.get("env"),
                             output if isinstance(output, str) else None)
            self.process = _Forked(fork, pid)
            self.pid = self.pgid = pid  # the child leads its own session
            self.cwd = kwargs.get("cwd")
            return self.connection_info

    return ForkProvisioner


class _Forked:
    """What LocalProvisioner needs of a Popen, for a kernel the template forked."""

    stdin = stdout = stderr = None

    def __init__(self, fork: ForkServer, pid: int):
        self.fork, self.pid, self.returncode = fork, pid, None

    def poll(self):
        if self.returncode is None:
            self.returncode = self.fork.poll(self.pid)
        return self.returncode

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum):
        try:
            os.killpg(self.pid, signum)
        except ProcessLookupError:
            pass

    def kill(self):
        self.send_signal(signal.SIGKILL)

    def terminate(self):
        self.send_signal(signal.SIGTERM)


READY_POLL = 0.05  # seconds to wait for a kernel_info's status on IOPub before asking again
RECONNECT = 10  # ms before the client's sockets retry a kernel not yet listening (ZeroMQ: 100)
EXIT_POLL = 0.005  # seconds between checks that a killed kernel has gone


def _client_class():
    import asyncio
    from queue import Empty

    from jupyter_client.asynchronous import AsyncKernelClient

    class WarmKernelClient(AsyncKernelClient):
        """Ready as soon as the kernel has answered and IOPub is known to be connected.

        jupyter_client's own check waits for its IOPub channel to stay silent for 0.2 s,
        and lets its status poll sleep 0.1 s: fine once per notebook in a notebook
        server, a third of a second of an idle core for every report of a build. Here the
        proof that IOPub is connected is the kernel's `idle` status for this very
        kernel_info request; anything before it is flushed. If IOPub joined too late to
        see it (ZeroMQ drops what a subscriber missed), the request is sent again."""

        async def _async_wait_for_ready(self, timeout=None):
            deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
            while True:
                msg_id = self.kernel_info()
                reply = await self._ready_reply(msg_id, deadline)
                if reply is not None and await self._idle_seen(msg_id, READY_POLL):
                    self._handle_kernel_info_reply(reply)
                    return
                if not await self._async_is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")
                await asyncio.sleep(0)

        wait_for_ready = _async_wait_for_ready  # the name nbclient calls

        def start_channels(self, *args, **kwargs):
            # The client connects while the forked kernel is still binding its ports; a
            # refused connection is retried after ZMQ_RECONNECT_IVL, 100 ms by default.
            import zmq

            self.context.setsockopt(zmq.RECONNECT_IVL, RECONNECT)
            return super().start_channels(*args, **kwargs)

        async def _ready_reply(self, msg_id, deadline):
            while True:
                wait = min(1.0, max(0.0, deadline - time.monotonic()))
                try:
                    msg = await self.shell_channel.get_msg(timeout=wait)
                except Empty:
                    return None
                if (msg["msg_type"] == "kernel_info_reply"
                        and msg["parent_header"].get("msg_id") == msg_id):
                    return msg

        async def _idle_seen(self, msg_id, wait):
            end = time.monotonic() + wait
            while True:
                try:
                    msg = await self.iopub_channel.get_msg(
                        timeout=max(0.0, end - time.monotonic()))
                except Empty:
                    return False
                if (msg["msg_type"] == "status"
                        and msg["content"].get("execution_state") == "idle"
                        and msg["parent_header"].get("msg_id") == msg_id):
                    return True

    return WarmKernelClient


def kernel_manager_class():
    """An AsyncKernelManager whose kernels come from this worker's fork server."""
    from jupyter_client.manager import AsyncKernelManager

    provisioner = _provisioner_class()
    client = _client_class()

    class WarmKernelManager(AsyncKernelManager):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.client_factory = client

        async def _async_pre_start_kernel(self, **kw):
            if self.provisioner is None:
                import uuid

                self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
                self.provisioner = provisioner(kernel_id=self.kernel_id,
                                               kernel_spec=self.kernel_spec, parent=self)
            return await super()._async_pre_start_kernel(**kw)

        async def _async_wait(self, pollinterval: float = EXIT_POLL) -> None:
            # after a kill: a forked kernel is gone within milliseconds; the default
            # 0.1 s poll left the core idle for half of that on average
            await super()._async_wait(pollinterval=min(pollinterval, EXIT_POLL))

    return WarmKernelManager


# --- Dask: keep the template between tasks ------------------------------------------
# A Dask worker is a long-lived process: the module-level server above outlives each
# task, so the second report on a worker forks from the template the first one started.
# `analysis build --scheduler` also registers `dask_plugin()` so every worker starts
# its template when the build begins; `dask worker --preload analysis.reports.warm`
# starts it with the worker itself.


def dask_setup(worker=None) -> None:
    """`dask worker ... --preload analysis.reports.warm`: warm up as the worker starts."""
    start()


def dask_teardown(worker=None) -> None:
    stop()


def dask_plugin():
    """A Dask WorkerPlugin: the worker's template starts on registration, stops with it."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class WarmKernels(WorkerPlugin):
        name = "analysis-warm-kernels"

        def setup(self, worker):
            start()

        def teardown(self, worker):
            stop()

    return WarmKernels()


# --- the template process ------------------------------------------------------------


def _template(preload: list[str]) -> None:
    """Import the stack, say so, then fork a kernel per request until stdin closes."""
    import gc
    import importlib

    # The protocol gets private copies of stdin and stdout: whatever an import prints
    # goes to /dev/null, not into an answer.
    commands, answers = os.fdopen(os.dup(0), "rb"), os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    start_dir = sys.path[0]
    try:
        for name in (*KERNEL_MODULES, *preload):
            importlib.import_module(name)
    except BaseException as exc:  # ImportError, or anything a module raises on import
        answers.write(json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode() + b"\n")
        answers.flush()
        return
    if WARM_UP.rpartition(".")[0] in preload:
        importlib.import_module(WARM_UP).run()  # first-use costs too; never raises
    gc.collect()
    gc.freeze()  # the imported objects stay put: children do not copy their pages
    answers.write(b'{"ready": true}\n')
    answers.flush()
    children: dict[int, int | None] = {}
    while True:
        line = commands.readline()
        if not line:
            break
        request = json.loads(line)
        op = request["op"]
        if op == "spawn":
            try:
                pid = os.fork()
            except OSError as exc:
                answer = {"error": f"cannot fork a kernel: {exc}"}
            else:
                if pid == 0:
                    commands.close()  # or the worker would wait on a dead template
                    answers.close()
                    _become_kernel(request, start_dir)  # never returns
                children[pid] = None
                answer = {"pid": pid}
        elif op == "poll":
            _reap(children)
            answer = {"returncode": children.get(request["pid"], -signal.SIGKILL)}
        else:
            answer = {"error": f"unknown request {op!r}"}
        answers.write(json.dumps(answer).encode() + b"\n")
        answers.flush()
    # The worker is gone: so are its kernels.
    _reap(children)
    for pid, code in children.items():
        if code is None:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
    for pid, code in children.items():
        if code is None:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


def _reap(children: dict) -> None:
    for pid, code in children.items():
        if code is None:
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                children[pid] = -signal.SIGKILL
                continue
            if done:
                children[pid] = os.waitstatus_to_exitcode(status)


def _become_kernel(request: dict, start_dir: str) -> None:
    """In the forked child: a fresh session, the kernel's files and environment, then
    ipykernel, exactly as `python -m ipykernel_launcher ARGS` would start."""
    code = 1
    try:
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        out = devnull
        if request.get("output"):
            out = os.open(request["output"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.dup2(devnull, 0)  # the template's command pipe: never the kernel's
        os.dup2(out, 1)
        os.dup2(out, 2)
        if request.get("cwd"):
            os.chdir(request["cwd"])
        if request.get("env") is not None:
            os.environ.clear()
            os.environ.update(request["env"])
        if sys.path and sys.path[0] == start_dir:
            del sys.path[0]  # as ipykernel_launcher does; the shell adds '' back
        if "numpy" in sys.modules:
            sys.modules["numpy"].random.seed()  # fresh entropy, as a new process has
        from ipykernel.kernelapp import IPKernelApp

        sys.argv = ["ipykernel_launcher", *request["args"]]
        IPKernelApp.launch_instance(
            argv=[*request["args"], f"--IPKernelApp.parent_handle={os.getppid()}"])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:
            pass
        os._exit(code)


if __name__ == "__main__":
    _template(json.loads(sys.argv[1]))
