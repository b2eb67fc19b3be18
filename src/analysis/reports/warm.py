"""Warm kernels: pay interpreter start and imports once per worker, not once per report.

A report's kernel used to cost a fresh Python, ipykernel's start and the imports of
pandas, matplotlib, pint and `analysis` (about 1.5 s of CPU on the project's 2-core
machine) before its first cell ran, for cells that take about 0.5 s. Two designs were
measured against that:

- a pool of pre-started single-use kernels hides the start-up behind other work but
  still pays it, in full, per report: with every core busy that saves nothing;
- a *fork server* pays it once. A template process (`python -m analysis.reports.warm`)
  imports the report stack (`PRELOAD`) and ipykernel, then waits. Every kernel is a
  `fork()` of that template which then becomes a brand-new ipykernel (`IPKernelApp`)
  on the connection file jupyter_client wrote. A local build starts one template that
  all its pool workers share (`SharedTemplate`: they connect to its socket), so the
  stack is imported once per build, not once per worker; a Dask worker, or a build
  that runs its reports in its own process, has a template of its own.
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
inputs and publishes results (in its own process). Within one worker the next report's
kernel starts only after this report is rendered, and the worker's core idles while its
kernel starts and while the two trade messages: so a local build runs one worker more
than the cores (build.default_jobs), which fills those gaps. A worker renders with one
Typst compiler and one set of nbconvert exporters and Jinja templates, loaded once
(reports.render), and nothing else.

Faults: a template whose imports fail is not restarted: every report on that worker
fails at once with the import error (it would fail the same way in the notebook). A
template that dies (killed, out of memory) is a transient fault: the kernel start
fails, the task retries once on a new template (a worker of a shared one that died
starts one of its own), and says so. When a worker goes, its template sees its pipe or
connection close and kills the kernels that worker asked for; a template of its own
then exits, the shared one exits when the build goes; a kernel whose template is gone
exits too (ipykernel's parent poller).
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback

from analysis.errors import KernelStartError, WarmStateError

# Imported once by the template; a kernel forked from it starts with them.
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
    """The client of one template process; thread-safe (a Dask worker may run threads).

    Its own template (started here, spoken to over its stdin and stdout), or, with
    `address`, the build's shared one (`SharedTemplate`), spoken to over a socket. If
    the shared one cannot be reached or dies, the next start is a template of its own.
    """

    def __init__(self, preload=PRELOAD, python_args: tuple[str, ...] = (),
                 address: str | None = None):
        self.preload = tuple(preload)
        self.python_args = tuple(python_args)
        self.address = address
        self.lock = threading.Lock()
        self.proc: subprocess.Popen | None = None  # a template of its own
        self.sock = None  # or a connection to the shared one
        self._rfile = self._wfile = None
        self._pid: int | None = None
        self._gone = False  # the template closed the connection or died
        self.broken: str | None = None  # the import error, once known
        self.starts = 0  # templates started or joined (one per transient fault)

    def start(self) -> None:
        """Start the template; returns at once (it imports while the worker does other work)."""
        with self.lock:
            self._start()

    def _running(self) -> bool:
        if self.sock is not None:
            return not self._gone
        return self.proc is not None and self.proc.poll() is None

    def _start(self) -> None:
        if self._running():
            return
        self._disconnect()
        self._ready, self._gone, self._pid = False, False, None
        self.starts += 1
        if self.address is not None:
            sock = _connect(self.address)
            if sock is not None:
                self.sock = sock
                self._rfile, self._wfile = sock.makefile("rb"), sock.makefile("wb")
                return
            self.address = None  # the shared template is not there: start one here
        self.proc = _start_template(self.preload, self.python_args)
        self._rfile, self._wfile, self._pid = self.proc.stdout, self.proc.stdin, self.proc.pid

    def _died(self, detail: str, when: str = "") -> KernelStartError:
        self._gone = True
        if self.proc is not None:
            detail = f"exit code {self.proc.wait()}"
        return KernelStartError(f"the worker's kernel template died {when}({detail})")

    def _ask(self, request: dict) -> dict:
        """One request, one answer; KernelStartError if the template is gone."""
        if self.broken:
            raise WarmStateError(self.broken)
        if not self._running():
            raise KernelStartError("the worker's kernel template is not running")
        try:
            if not self._ready:
                self._ready_answer()
            self._wfile.write(json.dumps(request).encode() + b"\n")
            self._wfile.flush()
            line = self._rfile.readline()
        except (OSError, ValueError) as exc:
            raise self._died(str(exc)) from None
        if not line:
            raise self._died("it closed the connection")
        return json.loads(line)

    def _ready_answer(self) -> None:
        line = self._rfile.readline()  # the template's first line: ready, or why not
        if not line:
            raise self._died("it closed the connection", "while importing ")
        answer = json.loads(line)
        if "error" in answer:
            self.broken = (f"the worker could not import the report stack: "
                           f"{answer['error']}")
            if self.proc is not None:
                self.proc.wait()
            raise WarmStateError(self.broken)
        self._pid = answer.get("pid", self._pid)
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
        """After a failed start: a new template if the old one died (a template of its
        own, if the shared one did). False if the stack cannot be imported."""
        with self.lock:
            if self.broken:
                return False
            if not self._running():
                if self.sock is not None:
                    self.address = None
                self._start()
            return True

    def pid(self) -> int | None:
        """The template's pid: its own at once, the shared one's once it has answered."""
        return self._pid

    def _disconnect(self) -> None:
        if self.sock is not None:
            _close(self._rfile, self._wfile, self.sock)
            self.sock = None

    def close(self) -> None:
        """Stop the template; it kills any kernel it forked that is still running (the
        shared one: any kernel this worker asked for)."""
        with self.lock:
            proc, self.proc = self.proc, None
            self._disconnect()
        if proc is not None:
            _stop_template(proc)


def _start_template(preload, python_args, address: str | None = None) -> subprocess.Popen:
    """`python -m analysis.reports.warm`: spoken to over its stdin and stdout, or, with
    `address`, over that socket (its stdin is then only the build's lifeline)."""
    env = {**os.environ, "MPLBACKEND": INLINE_BACKEND}
    env.pop("JPY_PARENT_PID", None)
    return subprocess.Popen(
        [sys.executable, *python_args, "-m", "analysis.reports.warm",
         json.dumps(list(preload)), *([address] if address else [])],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL if address else subprocess.PIPE,
        stderr=subprocess.DEVNULL, env=env, cwd="/", close_fds=True,
    )


def _stop_template(proc: subprocess.Popen) -> None:
    """Close the template's stdin (it then kills the kernels it forked and exits); kill
    it if it has not gone within 5 s."""
    try:
        proc.stdin.close()
    except OSError:
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


def _close(*files) -> None:
    """Close each of `files` that is there, ignoring one already gone."""
    for f in files:
        if f is not None:
            try:
                f.close()
            except OSError:
                pass


CONNECT_TIMEOUT = 10.0  # seconds for a shared template to bind its socket


def _connect(address: str):
    """A connection to the shared template at `address`, or None if there is none."""
    import socket

    deadline = time.monotonic() + CONNECT_TIMEOUT
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(address)
            return sock
        except (FileNotFoundError, ConnectionRefusedError):
            sock.close()
            if time.monotonic() > deadline:
                return None
            time.sleep(0.02)  # the template has not bound it yet
        except OSError:
            sock.close()
            return None


class SharedTemplate:
    """One template for all of a build's local workers (runners.run_pool).

    N workers with a template each import the report stack N times (about 3 s of CPU
    and 150 MB each); with one, the stack is imported once and every kernel of the
    build is a fork of it. The build starts it and holds its stdin: when the build
    ends, or dies, the template kills every kernel it forked and exits. It listens on
    a socket in a folder only this user can open; each worker connects to it
    (`start(address=...)`). None if no such socket can be made here."""

    def __init__(self, proc: subprocess.Popen, folder: str, address: str):
        self.proc, self.folder, self.address = proc, folder, address

    @classmethod
    def start(cls, preload=PRELOAD) -> SharedTemplate | None:
        import tempfile

        try:
            folder = tempfile.mkdtemp(prefix="analysis-warm-")  # mode 0700
        except OSError:  # no temporary folder: each worker starts a template of its own
            return None
        address = os.path.join(folder, "template.sock")
        if len(address.encode()) > 100:  # AF_UNIX paths are short (108 bytes)
            os.rmdir(folder)
            return None
        return cls(_start_template(preload, _python_args(), address), folder, address)

    def close(self) -> None:
        import shutil

        _stop_template(self.proc)
        shutil.rmtree(self.folder, ignore_errors=True)


_server: ForkServer | None = None
_server_lock = threading.Lock()


def server(preload=None, address: str | None = None) -> ForkServer:
    """This process's fork server, started on first use (or by `start`); with
    `address`, the client of that shared template (SharedTemplate)."""
    global _server
    with _server_lock:
        if _server is None or (preload is not None and tuple(preload) != _server.preload) or (
                address is not None and address != _server.address):
            if _server is not None:
                _server.close()
            _server = ForkServer(PRELOAD if preload is None else preload, _python_args(),
                                 address=address)
            _server.start()
        return _server


def start(preload=None, address: str | None = None) -> ForkServer:
    """Start this process's template now (or join the shared one at `address`), so its
    imports overlap other work."""
    return server(preload, address)


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


@functools.cache
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


@functools.cache
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


@functools.cache
def kernel_manager_class():
    """An AsyncKernelManager whose kernels come from this worker's fork server.

    One class a process (cached, as the two below): traitlets sets up each new class's
    traits, about 1.3 ms a report when every task made its own."""
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


class _Conn:
    """One client of the template: a worker's pipe pair, or its socket connection.

    The protocol is one JSON line per request and one per answer, and a client sends
    its next request only after reading the answer (ForkServer holds a lock), so a
    buffered reader never holds a line the selector has not seen."""

    def __init__(self, rfile, wfile, sock=None):
        self.rfile, self.wfile, self.sock = rfile, wfile, sock
        self.kernels: set[int] = set()

    def send(self, answer: dict) -> bool:
        try:
            self.wfile.write(json.dumps(answer).encode() + b"\n")
            self.wfile.flush()
            return True
        except OSError:  # the client is gone; its EOF is handled when read
            return False

    def close(self) -> None:
        _close(self.rfile, self.wfile, self.sock)


def _template(preload: list[str], address: str | None = None) -> None:
    """Import the stack, say so, then fork a kernel per request.

    Without `address` the one client is the worker on stdin and stdout, and the
    template ends when stdin closes. With `address` (a build's shared template) the
    socket is bound first, so workers can connect while the stack imports; each
    connection is a worker's, and stdin is only the build's lifeline: when it closes,
    the template kills every kernel it forked and exits; when a worker's connection
    closes, the kernels that worker asked for are killed."""
    import gc
    import importlib
    import selectors
    import socket

    # The protocol gets private copies of stdin and stdout: whatever an import prints
    # goes to /dev/null, not into an answer.
    commands, answers = os.fdopen(os.dup(0), "rb"), os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    listener = None
    if address is not None:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(address)
        listener.listen(64)
    start_dir = sys.path[0]
    error = None
    try:
        for name in (*KERNEL_MODULES, *preload):
            importlib.import_module(name)
    except BaseException as exc:  # ImportError, or anything a module raises on import
        error = f"{type(exc).__name__}: {exc}"
    else:
        if WARM_UP.rpartition(".")[0] in preload:
            importlib.import_module(WARM_UP).run()  # first-use costs too; never raises
        kernel_app_class()  # made once here, not in every kernel
        gc.collect()
        gc.freeze()  # the imported objects stay put: children do not copy their pages
    first = {"error": error} if error else {"ready": True, "pid": os.getpid()}
    children: dict[int, int | None] = {}
    selector = selectors.DefaultSelector()
    if listener is None:
        owner = _Conn(commands, answers)
        owner.send(first)
        if error:
            return
        selector.register(commands, selectors.EVENT_READ, owner)
    else:
        owner = None
        selector.register(commands, selectors.EVENT_READ, "lifeline")
        selector.register(listener, selectors.EVENT_READ, "accept")

    conns: list[_Conn] = [] if owner is None else [owner]
    running = True
    while running:
        for key, _ in selector.select():
            if key.data == "lifeline":
                if not commands.read(1):
                    running = False  # the build is gone: so are its kernels
                continue
            if key.data == "accept":
                sock, _ = listener.accept()
                conn = _Conn(sock.makefile("rb"), sock.makefile("wb"), sock)
                if conn.send(first) and not error:
                    conns.append(conn)
                    selector.register(conn.rfile, selectors.EVENT_READ, conn)
                else:
                    conn.close()
                continue
            conn = key.data
            try:
                line = conn.rfile.readline()
            except OSError:  # reset: a worker closed, or was killed, with an answer unread
                line = b""
            try:
                request = json.loads(line) if line.endswith(b"\n") else None
            except ValueError:
                request = None
            if request is None:  # the worker is gone (or cut off mid-line): so are the
                # kernels it asked for
                selector.unregister(conn.rfile)
                conns.remove(conn)
                _kill(children, conn.kernels)
                conn.close()
                if conn is owner:
                    running = False
                continue
            op = request.get("op") if isinstance(request, dict) else None
            if op == "spawn":
                try:
                    pid = os.fork()
                except OSError as exc:
                    answer = {"error": f"cannot fork a kernel: {exc}"}
                else:
                    if pid == 0:
                        # or a worker, or the build, would wait on a dead template
                        selector.close()
                        for c in conns:
                            c.close()
                        for f in (commands, answers, listener):
                            if f is not None:
                                f.close()
                        _become_kernel(request, start_dir)  # never returns
                    children[pid] = None
                    conn.kernels.add(pid)
                    answer = {"pid": pid}
            elif op == "poll":
                _reap(children)
                answer = {"returncode": children.get(request["pid"], -signal.SIGKILL)}
            else:
                answer = {"error": f"unknown request {op!r}"}
            conn.send(answer)
    _kill(children, set(children))
    for pid, code in children.items():
        if code is None:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


def _kill(children: dict, pids: set[int]) -> None:
    """SIGKILL the process groups of those of `pids` still running; a kernel forked so
    recently that it has no group of its own yet (setsid is its first step), itself.
    Without that, the template waited forever on a kernel its kill had missed."""
    _reap(children)
    for pid in pids:
        if children.get(pid, 0) is None:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            except OSError:
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


@functools.cache
def kernel_app_class():
    """ipykernel's IPKernelApp, told its connection file without an argument parser.

    To read a command line, traitlets builds an argparse parser of every option of every
    class ipykernel configures: about 12 ms of CPU and 1,000 copied pages of every forked
    kernel, measured, for `-f FILE`, which is all a kernel spec's `{connection_file}`
    gives (jupyter_client passes an absolute path). For exactly that command line this
    sets the configuration traitlets would have made of it (traitlets reads a path with
    no leading `~` or quote as it is) as the command line's, which IPython applies again
    over any config file; any other command line is parsed by traitlets, as
    ipykernel_launcher would. Tested against traitlets' own parse. Made once, in the
    template (a class costs traitlets about 1 ms to set up)."""
    from ipykernel.kernelapp import IPKernelApp
    from traitlets.config import Config

    class ForkedKernelApp(IPKernelApp):
        def parse_command_line(self, argv=None):
            if (argv is not None and len(argv) == 2 and argv[0] == "-f"
                    and os.path.isabs(argv[1])):
                self.argv = list(argv)
                self.cli_config = Config({"IPKernelApp": {"connection_file": argv[1]}})
                self.update_config(self.cli_config)
                self.extra_args = []
                return
            super().parse_command_line(argv)

    return ForkedKernelApp


def _kernel_app(args: list[str], parent: int):
    """The app `python -m ipykernel_launcher ARGS` would start, initialized in this
    process, watching `parent` (the template: a kernel outlives no template).
    `parent_handle` is configuration, as it was on the command line, so that no config
    file can unset it."""
    from traitlets.config import Config

    sys.argv = ["ipykernel_launcher", *args]
    app = kernel_app_class().instance(config=Config({"IPKernelApp": {"parent_handle": parent}}))
    app.initialize(list(args))
    return app


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
        _kernel_app(request["args"], os.getppid()).start()
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
    _template(json.loads(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else None)
