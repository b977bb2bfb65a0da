"""`fcn-trt serve` (fcn_trt/cli/serve.py) in a subprocess: a real tritonserver, stopped by a signal or
by the death of its parent, and a missing server environment reported in one line."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

import fcn_trt
from fcn_trt.serve.server import free_port
from tests._triton import ROOT, server_python, tiny_frames


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def _serve_cli(pipeline):
    """`fcn-trt serve pipeline` in a subprocess: yields (process, http port, grpc port); kills it at the
    end if it still runs."""
    python = server_python()
    http_port, grpc_port = free_port(), free_port()
    cmd = [sys.executable, "-m", "fcn_trt.cli", "serve", str(pipeline), "--http-port", str(http_port),
           "--grpc-port", str(grpc_port), "--model-name", "cam", "--server-python", str(python), "--threads", "1"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        yield proc, http_port, grpc_port
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_fcn_trt_serve_stops_on_sigterm_or_ctrl_c_within_seconds(triton_pipeline, signum):
    with _serve_cli(triton_pipeline) as (proc, http_port, grpc_port):
        first = proc.stdout.readline()  # the "serving ..." line once the model is ready (or an error)
        assert first.startswith("serving "), first + proc.stdout.read()
        assert f"grpc://127.0.0.1:{grpc_port}/cam" in first
        with fcn_trt.Segmenter(f"http://127.0.0.1:{http_port}/cam") as seg:
            assert seg.run(tiny_frames(1, 40, 50)[0]).labels.shape == (40, 50)
        t0 = time.monotonic()
        proc.send_signal(signum)
        code = proc.wait(60)
        elapsed = time.monotonic() - t0
        rest = proc.stdout.read()
    assert code == 0, rest
    assert f"stopped ({signum.name}; tritonserver exit status 0, " in rest
    assert elapsed < 30  # measured ~2 s; generous for a loaded machine
    assert not _port_open(grpc_port) and not _port_open(http_port)


def test_server_goes_when_fcn_trt_serve_is_killed(triton_pipeline):
    with _serve_cli(triton_pipeline) as (proc, http_port, grpc_port):
        first = proc.stdout.readline()
        assert first.startswith("serving "), first + proc.stdout.read()
        proc.kill()  # no chance to clean up: the kernel's parent-death signal stops tritonserver
        proc.wait(30)
        deadline = time.monotonic() + 60
        while (_port_open(grpc_port) or _port_open(http_port)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _port_open(grpc_port) and not _port_open(http_port)


def test_serve_cli_reports_a_missing_server_environment_in_one_line(tmp_path):
    p = subprocess.run([sys.executable, "-m", "fcn_trt.cli", "serve", "demo", "--server-python", str(tmp_path / "python"),
                        "--http-port", str(free_port()), "--grpc-port", str(free_port())],
                       cwd=ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, "CI": ""})
    assert p.returncode != 0
    assert "Traceback" not in p.stderr and "does not exist" in p.stderr
