"""Run a real Triton Inference Server for a pipeline ``.onnx``: what ``fcn-trt serve`` does.

The ``tritonserver`` binary comes from the ``nvidia-pytriton`` wheel, which bundles Triton (2.51 in
pytriton 0.7) with the **python backend only**. The server runs a python-backend model
(:mod:`fcn_trt.serve._triton_model`) that calls ONNX Runtime on the pipeline graph, with dynamic
batching; fcn_trt's metadata is published as model-config parameters.

**The server's interpreter.** The python backend runs models in a stub process that embeds a
Python interpreter. Three facts decide which one (measured with pytriton 0.7.0, Triton 2.51):

* the stub is built per Python minor version (pytriton ships one per version): it must match;
* it links ``libpython3.X.so.1.0`` by name, so the dynamic loader may pick the *system* libpython
  while the stdlib comes from another build (a pyenv Python fails with ``'_thread.RLock' object
  has no attribute '_recursion_count'``): the interpreter's ``LIBDIR`` goes first on
  ``LD_LIBRARY_PATH``;
* the embedded interpreter finds ``python3`` on ``PATH`` to locate its prefix (this is how pytriton
  selects the environment: pytriton/server/triton_server.py, ``_get_env``): the interpreter's
  ``bin`` folder goes first on ``PATH``, so a venv's site-packages are used;
* pytriton pins ``numpy<2``, and a python-backend model under numpy 2 returns empty outputs.

So the server side needs an interpreter whose environment has ``nvidia-pytriton``, ``numpy<2`` and
``onnxruntime`` (``pip install "fcn-trt[serve]"`` in a venv of its own gives exactly that); the
rest of fcn_trt (and the client) may live in a numpy-2 environment: pass the server's interpreter
as ``server_python=`` / ``--server-python`` / ``$FCN_TRT_SERVE_PYTHON``.

Example:
    >>> with TritonServer("demo", http_port=8000, grpc_port=8001) as server:      # doctest: +SKIP
    ...     with fcn_trt.Segmenter(server.grpc_url) as seg:
    ...         seg.run(frame).labels
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable, List, Optional, Union

from ..errors import BackendUnavailableError, ConfigError, ServerError, ServerTimeoutError

__all__ = ["ServerEnvironment", "TritonServer", "ServeReport", "serve_until_signalled", "probe_server_python", "free_port",
           "SERVE_PYTHON_ENV", "SERVE_HINT"]

log = logging.getLogger(__name__)

#: environment variable naming the server's interpreter (default: this interpreter).
SERVE_PYTHON_ENV = "FCN_TRT_SERVE_PYTHON"
SERVE_HINT = ('create a server environment: python3 -m venv .venv-serve && .venv-serve/bin/pip install "fcn-trt[serve]", '
              "then pass --server-python .venv-serve/bin/python (or set $%s)" % SERVE_PYTHON_ENV)

# Runs in the server's interpreter: everything the launcher needs to know about it, as JSON.
_PROBE = r"""
import json, os, sys, sysconfig
out = {"version": "%d.%d" % sys.version_info[:2], "executable": sys.executable,
       "libdir": sysconfig.get_config_var("LIBDIR") or "", "ldlibrary": sysconfig.get_config_var("LDLIBRARY") or "",
       "shared": bool(sysconfig.get_config_var("Py_ENABLE_SHARED"))}
for mod in ("numpy", "onnxruntime"):
    try:
        out[mod] = __import__(mod).__version__
    except Exception as e:
        out[mod] = None
        out[mod + "_error"] = "%s: %s" % (type(e).__name__, e)
try:
    import pytriton
    out["pytriton_dir"] = os.path.dirname(pytriton.__file__)
except Exception as e:
    out["pytriton_dir"] = None
    out["pytriton_error"] = "%s: %s" % (type(e).__name__, e)
print(json.dumps(out))
"""


@dataclasses.dataclass(frozen=True)
class ServerEnvironment:
    """What the server's interpreter provides (from :func:`probe_server_python`).

    Attributes:
        python: the interpreter (its ``bin`` folder goes first on the server's ``PATH``).
        version: its ``major.minor``.
        libdir: its ``LIBDIR`` (where ``libpython3.X.so`` lives; first on ``LD_LIBRARY_PATH``).
        tritonserver: the bundled ``tritonserver`` binary.
        backends: the bundled backends folder (``--backend-directory``).
        stub: the python-backend stub for ``version``.
        libs: the folder of the wheel's bundled shared libraries.
        numpy, onnxruntime: versions found there.
    """

    python: Path
    version: str
    libdir: Path
    tritonserver: Path
    backends: Path
    stub: Path
    libs: Path
    numpy: str
    onnxruntime: str


def _missing(what: str, found: str) -> BackendUnavailableError:
    return BackendUnavailableError(f"Triton server environment: {what}", expected="nvidia-pytriton, numpy<2 and onnxruntime",
                                   found=found, hint=SERVE_HINT)


def probe_server_python(python: Union[str, Path, None] = None) -> ServerEnvironment:
    """Check that ``python`` (default ``$FCN_TRT_SERVE_PYTHON``, else this interpreter) can run the server.

    Raises :class:`~fcn_trt.errors.BackendUnavailableError` naming what is missing.
    """
    exe = Path(python or os.environ.get(SERVE_PYTHON_ENV) or sys.executable)
    if not exe.exists():
        raise _missing("interpreter", f"{exe} does not exist")
    try:
        p = subprocess.run([str(exe), "-c", _PROBE], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise _missing("interpreter", f"{exe} does not run ({e})") from None
    if p.returncode != 0:
        raise _missing("interpreter", f"{exe} failed: {p.stderr.strip().splitlines()[-1:] or p.returncode}")
    info = json.loads(p.stdout.strip().splitlines()[-1])
    if not info.get("pytriton_dir"):
        raise _missing(str(exe), "no nvidia-pytriton (%s)" % info.get("pytriton_error"))
    if not info.get("onnxruntime"):
        raise _missing(str(exe), "no onnxruntime (%s)" % info.get("onnxruntime_error"))
    numpy_version = info.get("numpy") or ""
    if not numpy_version or int(numpy_version.split(".")[0]) >= 2:
        # pytriton 0.7 pins numpy<2; with numpy 2 the python backend's models return empty outputs.
        raise _missing(str(exe), f"numpy {numpy_version or '(none)'} (the python backend needs numpy<2)")
    root = Path(info["pytriton_dir"]) / "tritonserver"
    libdir = Path(info["libdir"])
    if not info.get("shared") or not (libdir / info["ldlibrary"]).exists():
        raise _missing(str(exe), "a Python without a shared libpython (the backend stub embeds it)")
    env = ServerEnvironment(
        python=exe, version=info["version"], libdir=libdir, tritonserver=root / "bin" / "tritonserver",
        backends=root / "backends", stub=root / "python_backend_stubs" / info["version"] / "triton_python_backend_stub",
        libs=root.parent.parent / "nvidia_pytriton.libs", numpy=numpy_version, onnxruntime=info["onnxruntime"],
    )
    for path in (env.tritonserver, env.stub):
        if not path.exists():
            raise _missing(str(exe), f"no {path.name} in nvidia-pytriton for Python {env.version}")
    return env


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    # prctl(PR_SET_PDEATHSIG, SIGTERM): the kernel sends SIGTERM to the server when the thread that
    # started it dies, even by SIGKILL (PR_SET_PDEATHSIG = 1, linux/prctl.h; man 2 PR_SET_PDEATHSIG).
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM), 0, 0, 0)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now (for tests and benchmarks)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class TritonServer:
    """A ``tritonserver`` process serving one pipeline ``.onnx`` (python backend + ONNX Runtime).

    Args:
        model: a pipeline ``.onnx`` or a built-in name (``"demo"``).
        http_port, grpc_port: ports of Triton's HTTP/REST and gRPC endpoints.
        host: address both endpoints bind (``"127.0.0.1"``: this machine only; ``"0.0.0.0"``: all).
        model_name: the name clients use (``grpc://HOST:PORT/NAME``).
        max_batch: Triton's ``max_batch_size`` (dynamic batching forms batches up to it).
        instances: model instances (each one ONNX Runtime session in its own stub process).
        threads: ONNX Runtime intra-op threads per instance (0 = its default).
        queue_delay_us: how long the dynamic batcher may wait to fill a batch.
        server_python: the interpreter with nvidia-pytriton, numpy<2, onnxruntime (see module doc).
        log_verbose: Triton's ``--log-verbose`` level.
        die_with_parent: (Linux) the server gets SIGTERM when the *thread* that called :meth:`start`
            ends, even if this process is killed; ``fcn-trt serve`` sets it (it starts from its main
            thread). Leave it off when a thread that ends early starts the server.

    :meth:`start` returns once the model is ready; :meth:`stop` (or leaving the ``with`` block)
    sends SIGTERM and waits; a server that does not exit within ``stop_timeout`` is killed.
    """

    def __init__(
        self, model: Union[str, Path], http_port: int = 8000, grpc_port: int = 8001, host: str = "127.0.0.1",
        model_name: str = "fcn_trt", max_batch: int = 8, instances: int = 1, threads: int = 0,
        queue_delay_us: int = 0, server_python: Union[str, Path, None] = None, log_verbose: int = 0,
        die_with_parent: bool = False,
    ) -> None:
        from ..models import resolve_model

        for what, port in (("--http-port", http_port), ("--grpc-port", grpc_port)):
            if not isinstance(port, int) or not 0 < port < 65536:
                raise ConfigError(what, expected="a TCP port 1..65535", found=repr(port))
        if http_port == grpc_port:
            raise ConfigError("ports", expected="different HTTP and gRPC ports", found=f"both {http_port}")
        if ":" in host:  # measured: its HTTP endpoint given --http-address=::1 listens on 255.255.255.255 only
            raise ConfigError("--host", expected="an IPv4 address or a host name (the bundled tritonserver's HTTP "
                              "endpoint cannot bind an IPv6 address)", found=repr(host),
                              hint="use 127.0.0.1 (this machine only) or 0.0.0.0 (every IPv4 interface)")
        self.model_path = resolve_model(model)
        self.http_port, self.grpc_port, self.host = http_port, grpc_port, host
        self.model_name = model_name
        self._options = dict(max_batch=max_batch, instances=instances, threads=threads, queue_delay_us=queue_delay_us)
        self._server_python = server_python
        self._log_verbose = int(log_verbose)
        self._die_with_parent = bool(die_with_parent) and sys.platform.startswith("linux")
        self._proc: Optional[subprocess.Popen] = None
        self._workdir: Optional[Path] = None
        self._log_path: Optional[Path] = None
        self.environment: Optional[ServerEnvironment] = None

    # --- addresses ----------------------------------------------------------------------------
    @property
    def _client_host(self) -> str:
        return "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host

    @property
    def grpc_url(self) -> str:
        """``grpc://HOST:PORT/NAME`` for :class:`fcn_trt.Segmenter`."""
        return f"grpc://{self._client_host}:{self.grpc_port}/{self.model_name}"

    @property
    def http_url(self) -> str:
        """``http://HOST:PORT/NAME`` for :class:`fcn_trt.Segmenter`."""
        return f"http://{self._client_host}:{self.http_port}/{self.model_name}"

    @property
    def pid(self) -> Optional[int]:
        return self._proc.pid if self._proc is not None else None

    def log_tail(self, lines: int = 12) -> str:
        """The server log's error lines (Triton's ``E``-prefixed ones) and its last lines."""
        if self._log_path is None or not self._log_path.exists():
            return ""
        text = self._log_path.read_text(errors="replace").splitlines()
        errors = [t for t in text if t[:1] == "E" and t[1:5].isdigit()]
        return "\n".join(errors[-lines:] + [t for t in text[-lines:] if t not in errors])

    # --- lifetime -----------------------------------------------------------------------------
    def _command(self, env: ServerEnvironment, repo: Path, backends: Path) -> List[str]:
        return [
            str(env.tritonserver), f"--model-repository={repo}", f"--backend-directory={backends}",
            f"--http-address={self.host}", f"--http-port={self.http_port}",
            f"--grpc-address={self.host}", f"--grpc-port={self.grpc_port}",
            "--allow-metrics=false", "--allow-gpu-metrics=false", "--strict-readiness=true",
            "--exit-on-error=true", "--exit-timeout-secs=5", f"--log-verbose={self._log_verbose}",
            "--disable-auto-complete-config",
        ]

    def _environ(self, env: ServerEnvironment) -> dict:
        environ = dict(os.environ)
        # See the module docstring: the interpreter's libpython first, then the wheel's libraries;
        # its bin folder first on PATH (pytriton/server/triton_server.py, _get_env).
        ld = [str(env.libdir), str(env.libs)] + [p for p in environ.get("LD_LIBRARY_PATH", "").split(":") if p]
        environ["LD_LIBRARY_PATH"] = ":".join(ld)
        environ["PATH"] = str(env.python.parent) + os.pathsep + environ.get("PATH", "")
        environ.pop("PYTHONHOME", None)
        environ.pop("PYTHONPATH", None)
        return environ

    def write_repository(self, repo: Path) -> None:
        """Write the model repository the server loads (a subclass may add models next to the pipeline)."""
        from .repository import write_python_model

        write_python_model(self.model_path, repo, self.model_name, **self._options)

    def start(self, timeout: float = 120.0, cancel: Optional[threading.Event] = None) -> "TritonServer":
        """Write the model repository, start ``tritonserver`` and wait until the model is ready.

        Setting ``cancel`` ends the wait early (the server is left starting: call :meth:`stop`).
        """
        if self._proc is not None:
            return self
        env = self.environment = probe_server_python(self._server_python)
        self._workdir = Path(tempfile.mkdtemp(prefix="fcn_trt_triton_"))
        try:
            repo = self._workdir / "models"
            self.write_repository(repo)
            # Triton 2.51's python backend looks for its stub only in its own folder, so the backend
            # is laid out anew with the stub of the server interpreter's Python version (as pytriton
            # does: pytriton/triton.py, _prepare_triton_inference_server).
            backends = self._workdir / "backends"
            shutil.copytree(env.backends, backends, ignore=shutil.ignore_patterns("__pycache__", "triton_python_backend_stub"))
            shutil.copy2(env.stub, backends / "python" / "triton_python_backend_stub")
            self._log_path = self._workdir / "tritonserver.log"
            log.info("starting tritonserver (python %s, numpy %s, onnxruntime %s) on %s, http %d, grpc %d",
                     env.version, env.numpy, env.onnxruntime, self.host, self.http_port, self.grpc_port)
            with open(self._log_path, "wb") as logfile:
                self._proc = subprocess.Popen(
                    self._command(env, repo, backends), stdout=logfile, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, env=self._environ(env), start_new_session=True,
                    preexec_fn=_die_with_parent if self._die_with_parent else None)
            self._wait_ready(timeout, cancel)
        except BaseException:
            self.stop()
            raise
        if cancel is None or not cancel.is_set():
            log.info("tritonserver ready: %s, %s", self.grpc_url, self.http_url)
        return self

    def _wait_ready(self, timeout: float, cancel: Optional[threading.Event] = None) -> None:
        url = f"http://{self._client_host}:{self.http_port}/v2/models/{self.model_name}/ready"
        deadline = time.monotonic() + timeout
        no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never via $http_proxy
        while cancel is None or not cancel.is_set():
            code = self._proc.poll() if self._proc is not None else -1
            if code is not None:
                raise ServerError("tritonserver", expected="a server that starts", found=f"it exited with status {code}",
                                  hint="its log ends with:\n" + self.log_tail())
            try:
                with no_proxy.open(url, timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise ServerTimeoutError("tritonserver", expected=f"model {self.model_name!r} ready within {timeout:.0f} s",
                                         found="not ready", hint="its log ends with:\n" + self.log_tail())
            time.sleep(0.2)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def wait(self, timeout: Optional[float] = None) -> Optional[int]:
        """Wait for the server process to exit (``None``: forever); its exit status, or None on timeout."""
        if self._proc is None:
            return None
        try:
            return self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout: float = 10.0) -> Optional[int]:
        """SIGTERM the server, wait up to ``timeout`` s (then SIGKILL), remove its files. Idempotent."""
        proc, self._proc = self._proc, None
        code = None
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    log.warning("tritonserver did not stop within %.0f s: killing it", timeout)
                    os.killpg(proc.pid, signal.SIGKILL)  # its stub processes are in its session
                    proc.wait(5)
            code = proc.returncode
            try:  # stubs left behind by a killed server
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        workdir, self._workdir = self._workdir, None
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
        return code

    def __enter__(self) -> "TritonServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"TritonServer({str(self.model_path)!r}, {self.grpc_url}, {self.http_url}, {state})"


@dataclasses.dataclass(frozen=True)
class ServeReport:
    """How :func:`serve_until_signalled` ended.

    Attributes:
        reason: the signal that stopped it (``"SIGTERM"``, ``"SIGINT"``).
        exit_status: ``tritonserver``'s exit status (0: a clean stop).
        stop_seconds: from the signal to the server's exit.
    """

    reason: str
    exit_status: Optional[int]
    stop_seconds: float


def serve_until_signalled(server: TritonServer, on_ready: Optional[Callable[[TritonServer], Any]] = None,
                          start_timeout: float = 120.0) -> ServeReport:
    """Start ``server``, call ``on_ready(server)``, serve until SIGINT (Ctrl-C) or SIGTERM, then stop it.

    Call it from the main thread (Python delivers signals there). The server also stops when
    anything else ends this function. A server that exits by itself raises
    :class:`~fcn_trt.errors.ServerError` with its log lines.

    Example:
        >>> report = serve_until_signalled(TritonServer("demo"), on_ready=print)    # doctest: +SKIP
        >>> report.reason, report.exit_status
        ('SIGTERM', 0)
    """
    stop = threading.Event()
    received: List[str] = []

    def on_signal(signum: int, _frame: Any) -> None:
        received.append(signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    t_signal = None
    try:
        server.start(timeout=start_timeout, cancel=stop)  # Ctrl-C while the model loads stops at once
        if on_ready is not None and not stop.is_set():
            on_ready(server)
        while not stop.is_set() and server.running:
            stop.wait(0.5)
        if not stop.is_set():
            raise ServerError("tritonserver", expected="a server running until stopped",
                              found=f"it exited with status {server.wait(0)}", hint="its log ends with:\n" + server.log_tail())
        t_signal = time.monotonic()
    finally:
        code = server.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)
    return ServeReport(reason=received[0], exit_status=code, stop_seconds=time.monotonic() - t_signal)
