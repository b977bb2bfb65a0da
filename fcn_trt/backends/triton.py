"""Triton client backend: a pipeline served by Triton Inference Server, used like a local model.

``Segmenter("grpc://HOST:PORT/NAME")`` or ``Segmenter("http://HOST:PORT/NAME")`` opens this backend;
run, run_batch, stream, close and metadata behave as with a local ``.onnx``/``.engine``. The server
is any Triton that serves a pipeline: ``fcn-trt serve`` (python backend + ONNX Runtime) or the
official ``tritonserver`` on a repository from ``fcn-trt export-triton`` (TensorRT plan).

Only bytes cross the network: the uint8 frame in (3 B/pixel), the uint8 labels out (1 B/pixel, +4
for ``confidence``). When the server is on this host (a loopback address), tensors go through
system shared memory (Triton's ``system_shared_memory`` extension) instead of the socket.

Requests run on a small pool of threads, each with its own client (tritonclient's HTTP client is
gevent-based and must stay on the thread that made it); :meth:`TritonBackend.submit` returns at
once, so a stream keeps several frames in flight.

Example:
    >>> from fcn_trt import Segmenter
    >>> with Segmenter("grpc://127.0.0.1:8001/fcn_trt") as seg:         # doctest: +SKIP
    ...     seg.run(frame).labels.shape
    (480, 640)
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import ipaddress
import json
import itertools
import logging
import os
import socket
import threading
import urllib.parse
from typing import Any, Dict, List, Mapping, Optional, Tuple, TypeVar

import numpy as np

from .._frames import frame_hw
from .._imports import require
from ..errors import (
    ConfigError, MetadataError, ModelFormatError, RemoteModelNotFoundError, ServerError, ServerTimeoutError,
    ServerUnreachableError,
)
from ..metadata import METADATA_KEY, PipelineMetadata
from .base import Backend

__all__ = ["TritonBackend", "TritonURL", "parse_triton_url", "is_triton_url", "config_parameters",
           "metadata_from_parameters", "SCHEMES"]

log = logging.getLogger(__name__)

#: URL scheme -> (tritonclient module, default port).
SCHEMES: Mapping[str, Tuple[str, int]] = {"grpc": ("tritonclient.grpc", 8001), "http": ("tritonclient.http", 8000)}
_CLIENT_HINT = 'pip install "tritonclient[grpc,http]"'
_DTYPE_BYTES = {"UINT8": 1, "FP32": 4}
_NP_DTYPES = {"UINT8": np.uint8, "FP32": np.float32}
_SERVE_OUTPUTS = ("labels", "confidence")
_T = TypeVar("_T")
_counter = itertools.count()


@dataclasses.dataclass(frozen=True)
class TritonURL:
    """A parsed ``grpc://HOST:PORT/NAME`` or ``http://HOST:PORT/NAME``."""

    scheme: str
    host: str
    port: int
    model: str

    @property
    def address(self) -> str:
        """``HOST:PORT`` as tritonclient takes it (IPv6 hosts in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def __str__(self) -> str:
        return f"{self.scheme}://{self.address}/{self.model}"

    @property
    def is_local(self) -> bool:
        """Whether the server is on this host (loopback), so system shared memory can reach it."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def is_triton_url(model: object) -> bool:
    """Whether ``model`` is a ``grpc://`` or ``http://`` string (a served model, not a file).

    Example:
        >>> is_triton_url("grpc://127.0.0.1:8001/fcn_trt"), is_triton_url("fcn8s.onnx")
        (True, False)
    """
    return isinstance(model, str) and model.split("://", 1)[0].lower() in SCHEMES and "://" in model


def parse_triton_url(url: str) -> TritonURL:
    """Parse a served model's URL; the port defaults to Triton's (8001 gRPC, 8000 HTTP).

    Example:
        >>> parse_triton_url("grpc://10.0.0.5/fcn8s")
        TritonURL(scheme='grpc', host='10.0.0.5', port=8001, model='fcn8s')
    """
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    expected = "grpc://HOST:PORT/NAME or http://HOST:PORT/NAME"
    if scheme not in SCHEMES:
        raise ConfigError("server URL", expected=expected, found=repr(url), hint="https is not supported; use grpc:// or http://")
    name = parts.path.strip("/")
    try:
        port = parts.port or SCHEMES[scheme][1]
    except ValueError:
        raise ConfigError("server URL", expected=expected + " with a numeric port", found=repr(url)) from None
    if not parts.hostname or not name or "/" in name or parts.query or parts.fragment:
        raise ConfigError("server URL", expected=expected, found=repr(url),
                          hint="name the model after the port, e.g. grpc://127.0.0.1:8001/fcn_trt")
    return TritonURL(scheme, parts.hostname, port, name)


def config_parameters(meta: PipelineMetadata) -> Dict[str, str]:
    """The model-config ``parameters`` that publish a pipeline's metadata (what a server declares).

    ``fcn_trt`` holds the whole metadata record (the JSON of the ONNX ``metadata_props`` entry);
    ``class_names`` and ``palette`` repeat the two fields a client in any language needs, as JSON.

    Example:
        >>> meta = PipelineMetadata(class_names=("bg", "person"), palette=((0, 0, 0), (255, 0, 0)))
        >>> config_parameters(meta)["class_names"]
        '["bg", "person"]'
    """
    return {
        METADATA_KEY: meta.to_json(),
        "class_names": json.dumps(list(meta.class_names)),
        "palette": json.dumps([list(c) for c in meta.palette]),
    }


def metadata_from_parameters(params: Mapping[str, Any], source: str) -> PipelineMetadata:
    """The :class:`PipelineMetadata` a served model publishes (``params``: name -> string or ``{"string_value": ...}``)."""
    raw = params.get(METADATA_KEY)
    if isinstance(raw, Mapping):
        raw = raw.get("string_value")
    elif raw is not None and hasattr(raw, "string_value"):
        raw = raw.string_value
    if not raw:
        raise MetadataError(
            f"{source} publishes no fcn_trt metadata", expected=f"a model-config parameter {METADATA_KEY!r}",
            found="parameters %s" % sorted(params),
            hint="serve the model with `fcn-trt serve` or export its repository with `fcn-trt export-triton`",
        )
    return PipelineMetadata.from_json(str(raw))


def _is_timeout(e: BaseException) -> bool:
    if isinstance(e, (socket.timeout, TimeoutError)):
        return True
    text = f"{type(e).__name__} {getattr(e, 'status', lambda: '')()} {e}".lower()
    return "deadline" in text or "timed out" in text or "timeout" in text


def _is_unreachable(e: BaseException) -> bool:
    if isinstance(e, (ConnectionError, socket.gaierror)) or (isinstance(e, OSError) and not _is_timeout(e)):
        return True
    text = f"{getattr(e, 'status', lambda: '')()} {e}".lower()
    return "unavailable" in text or "connection refused" in text or "failed to connect" in text


def _server_error(url: TritonURL, doing: str, e: BaseException, timeout: float) -> ServerError:
    """The typed error for an exception tritonclient (or its transport) raised."""
    detail = str(e).strip().splitlines()[0][:300] if str(e).strip() else type(e).__name__
    if _is_timeout(e):
        return ServerTimeoutError(f"{url}: {doing}", expected=f"an answer within {timeout:g} s", found=detail,
                                  hint="raise timeout= (Segmenter(url, timeout=30)), or check the server's load")
    if _is_unreachable(e):
        return ServerUnreachableError(f"{url}: {doing}", expected="a Triton server answering there", found=detail,
                                      hint="start one with `fcn-trt serve MODEL`, or check the host, port and scheme "
                                           "(gRPC and HTTP use different ports, 8001 and 8000 by default)")
    return ServerError(f"{url}: {doing}", expected="a successful answer", found=detail)


class _Region:
    """One system shared-memory region (registered with the server) that one thread reuses."""

    def __init__(self, backend: "TritonBackend", client: Any, size: int) -> None:
        shm = backend._shm
        n = next(_counter)
        self.name = f"fcn_trt_{os.getpid()}_{backend.url.scheme}_{n}"
        self.key = "/" + self.name
        self.size = size
        self.handle = shm.create_shared_memory_region(self.name, self.key, size)
        try:
            client.register_system_shared_memory(self.name, self.key, size)
        except BaseException:
            shm.destroy_shared_memory_region(self.handle)
            raise


class TritonBackend(Backend):
    """A pipeline served by Triton, opened from its URL.

    Args:
        url: ``grpc://HOST:PORT/NAME`` or ``http://HOST:PORT/NAME``.
        timeout: seconds to wait for any answer (connect, metadata, one inference).
        shared_memory: ``"auto"`` (system shared memory when the host is a loopback address, with a
            fallback to the socket if the server cannot map it), ``"system"`` (required) or ``"none"``.
        max_in_flight: requests :meth:`submit` may have outstanding (threads, one client each).

    Raises:
        ServerUnreachableError: nothing answers at the URL.
        RemoteModelNotFoundError: the server does not serve a ready model of that name.
        ModelFormatError: the model's inputs/outputs are not a pipeline's (uint8 ``frame`` -> ``labels``).
        MetadataError: it publishes no fcn_trt metadata (class names, palette).
        ServerTimeoutError: no answer within ``timeout``.
    """

    name = "triton"
    title = "Triton Inference Server"
    computes_locally = False

    def __init__(self, url: str, timeout: float = 10.0, shared_memory: str = "auto", max_in_flight: int = 4) -> None:
        self.url = parse_triton_url(url)
        if shared_memory not in ("auto", "system", "none"):
            raise ConfigError("shared_memory", expected="'auto', 'system' or 'none'", found=repr(shared_memory))
        if not (isinstance(max_in_flight, int) and max_in_flight >= 1):
            raise ConfigError("max_in_flight", expected="an integer >= 1", found=repr(max_in_flight))
        if not timeout or timeout <= 0:
            raise ConfigError("timeout", expected="seconds > 0", found=repr(timeout))
        module, _port = SCHEMES[self.url.scheme]
        self._tc = require(module, f"the Triton client backend ({self.url.scheme}://)", "tritonclient", _CLIENT_HINT)
        self._utils = require("tritonclient.utils", "the Triton client backend", "tritonclient", _CLIENT_HINT)
        self.timeout = float(timeout)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._active = 0  # infer() calls in progress (close() waits for them before freeing regions)
        self._clients: List[Any] = []
        self._regions: List[_Region] = []
        self._closed = False
        self._executor: Optional[concurrent.futures.ThreadPoolExecutor] = None
        self._max_in_flight = max_in_flight
        self._shm: Any = None  # tritonclient.utils.shared_memory, when tensors go through it
        try:
            self._open_model()
            if shared_memory == "system" or (shared_memory == "auto" and self.url.is_local):
                self._shm = self._open_shared_memory(required=shared_memory == "system")
        except BaseException:
            self.close()
            raise
        self.path = None
        log.info("opened %s (%s, max batch %d, shared memory %s)", self.url, ",".join(self._outputs),
                 self._max_batch, "system" if self._shm is not None else "off")

    # --- connection ---------------------------------------------------------------------------
    def _client(self) -> Any:
        client = getattr(self._local, "client", None)
        if client is None:
            self._check_open()
            if self.url.scheme == "http":
                client = self._tc.InferenceServerClient(self.url.address, connection_timeout=self.timeout,
                                                        network_timeout=self.timeout)
            else:
                client = self._tc.InferenceServerClient(self.url.address)
            self._keep("client", client, self._clients)
        return client

    def _keep(self, attr: str, obj: _T, owned: List[_T]) -> None:
        """Make ``obj`` this thread's ``attr`` (a client or a region) and remember it for :meth:`close`."""
        setattr(self._local, attr, obj)
        with self._lock:
            owned.append(obj)

    @property
    def _call_timeout(self) -> Dict[str, float]:
        """Per-call keyword for :attr:`timeout`: the gRPC client takes a deadline per call (read now, so a
        changed ``timeout`` applies); the HTTP client has its timeouts from when it was made."""
        return {"client_timeout": self.timeout} if self.url.scheme == "grpc" else {}

    def _call(self, doing: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (self._utils.InferenceServerException, OSError, TimeoutError) as e:
            raise _server_error(self.url, doing, e, self.timeout) from None
        except Exception as e:  # gevent's Timeout and transport errors are not OSError subclasses
            if _is_timeout(e) or _is_unreachable(e):
                raise _server_error(self.url, doing, e, self.timeout) from None
            raise

    def _json(self, doing: str, fn: Any, *args: Any) -> Dict[str, Any]:
        kwargs: Dict[str, Any] = dict(self._call_timeout, as_json=True) if self.url.scheme == "grpc" else {}
        return self._call(doing, fn, *args, **kwargs)  # type: ignore[no-any-return]

    def _open_model(self) -> None:
        client = self._client()
        name = self.url.model
        live = self._call("is the server live?", client.is_server_live, **self._call_timeout)
        if not live:
            raise ServerUnreachableError(str(self.url), expected="a live Triton server", found="it answers but is not live")
        ready = self._call("is the model ready?", client.is_model_ready, name, **self._call_timeout)
        if not ready:
            index = self._json("list its models", client.get_model_repository_index)
            models = index.get("models", index) if isinstance(index, dict) else index
            names = sorted({m.get("name", "?") + ("" if m.get("state", "READY") == "READY" else f" ({m.get('state')})")
                            for m in models})
            raise RemoteModelNotFoundError(f"{self.url}", expected=f"a ready model named {name!r}",
                                           found="models " + (", ".join(names) or "(none)"),
                                           hint="use one of those names after the port")
        meta = self._json("read the model's metadata", client.get_model_metadata, name)
        config = self._json("read the model's configuration", client.get_model_config, name)
        config = config.get("config", config)
        self._check_io(meta)
        self._metadata: PipelineMetadata = metadata_from_parameters(config.get("parameters", {}), str(self.url))
        self._max_batch = int(config.get("max_batch_size", 0) or 0)
        if not self._max_batch:  # no batch dimension in the config: the graph's own dims decide
            self._max_batch = max(int(meta["inputs"][0]["shape"][0]), 1)
            self._batched = False
        else:
            self._batched = True

    def _check_io(self, meta: Mapping[str, Any]) -> None:
        inputs = meta.get("inputs", [])
        outputs = {o["name"]: o for o in meta.get("outputs", [])}
        ok = (len(inputs) == 1 and inputs[0]["name"] == "frame" and inputs[0]["datatype"] == "UINT8"
              and "labels" in outputs and outputs["labels"]["datatype"] == "UINT8")
        if not ok:
            raise ModelFormatError(
                f"{self.url}", expected="a pipeline model: one UINT8 input 'frame' and a UINT8 output 'labels'",
                found="inputs %s, outputs %s" % ([(i["name"], i["datatype"]) for i in inputs], [(n, o["datatype"]) for n, o in outputs.items()]),
                hint="serve a pipeline graph (`fcn-trt serve MODEL.onnx` or `fcn-trt export-triton`), not a bare network",
            )
        self._outputs = tuple(n for n in _SERVE_OUTPUTS if n in outputs)
        self._out_dtypes = {n: outputs[n]["datatype"] for n in self._outputs}

    def _open_shared_memory(self, required: bool) -> Any:
        try:
            shm = require("tritonclient.utils.shared_memory", "system shared memory", "tritonclient", _CLIENT_HINT)
        except Exception as e:
            if required:
                raise
            log.info("no system shared memory (%s): tensors go through the socket", e)
            return None
        self._shm = shm
        try:
            region = _Region(self, self._client(), 1 << 20)
        except Exception as e:
            if required:
                raise ServerError(f"{self.url}: system shared memory", expected="a server on this host that maps it",
                                  found=str(e).splitlines()[0][:200], hint="pass shared_memory='none'") from None
            log.info("server cannot use system shared memory (%s): tensors go through the socket", e)
            return None
        self._keep("region", region, self._regions)
        return shm

    # --- Backend ------------------------------------------------------------------------------
    @property
    def shared_memory(self) -> bool:
        """Whether tensors travel through system shared memory."""
        return self._shm is not None

    def _output_hw(self, h: int, w: int) -> Tuple[int, int]:
        meta = self._metadata
        if meta.inference_size and not meta.resize_back:
            return tuple(meta.inference_size)  # type: ignore[return-value]
        return h, w

    def _region(self, client: Any, size: int) -> _Region:
        region: Optional[_Region] = getattr(self._local, "region", None)
        if region is not None and region.size >= size:
            return region
        if region is not None:
            self._drop_region(client, region)
        region = _Region(self, client, max(size, 1 << 20))
        self._keep("region", region, self._regions)
        return region

    def _drop_region(self, client: Any, region: _Region) -> None:
        with self._lock:
            if region in self._regions:
                self._regions.remove(region)
        try:
            client.unregister_system_shared_memory(region.name)
        except Exception as e:  # the server may be gone; the local region is still ours to free
            log.debug("unregister %s: %s", region.name, e)
        self._shm.destroy_shared_memory_region(region.handle)

    def infer(self, frames: np.ndarray) -> Dict[str, np.ndarray]:
        """Send one validated batch and wait for its outputs."""
        with self._lock:
            self._check_open()
            self._active += 1
        try:
            return self._infer(frames)
        finally:
            with self._lock:
                self._active -= 1
                self._idle.notify_all()

    def _infer(self, frames: np.ndarray) -> Dict[str, np.ndarray]:
        client = self._client()
        tc = self._tc
        frames = np.ascontiguousarray(frames)
        h, w = frame_hw(frames, self._metadata.input_format)
        oh, ow = self._output_hw(h, w)
        n = len(frames)
        inp = tc.InferInput("frame", list(frames.shape), "UINT8")
        requested = [tc.InferRequestedOutput(name) for name in self._outputs]
        region = None
        if self._shm is not None:
            sizes = [frames.nbytes] + [n * oh * ow * _DTYPE_BYTES[self._out_dtypes[o]] for o in self._outputs]
            region = self._region(client, sum(sizes))
            self._shm.set_shared_memory_region(region.handle, [frames])
            inp.set_shared_memory(region.name, frames.nbytes)
            offset = frames.nbytes
            for out, size in zip(requested, sizes[1:]):
                out.set_shared_memory(region.name, size, offset=offset)
                offset += size
        else:
            inp.set_data_from_numpy(frames)
        result = self._call(f"segment {n} frame(s) of {h}x{w}", client.infer, self.url.model, [inp],
                            outputs=requested, **self._call_timeout)
        outs: Dict[str, np.ndarray] = {}
        offset = frames.nbytes
        for name in self._outputs:
            if region is None:
                arr = result.as_numpy(name)
                if arr is None:
                    raise ServerError(f"{self.url}", expected=f"output {name!r}", found="no such output in the answer")
                outs[name] = np.array(arr, copy=True)
                continue
            info = result.get_output(name)
            shape = [int(d) for d in (info["shape"] if isinstance(info, dict) else info.shape)]
            dtype = _NP_DTYPES[self._out_dtypes[name]]
            outs[name] = np.array(self._shm.get_contents_as_numpy(region.handle, dtype, shape, offset=offset), copy=True)
            offset += n * oh * ow * _DTYPE_BYTES[self._out_dtypes[name]]
        if not self._batched:
            outs = {k: v.reshape((n,) + v.shape[-2:]) for k, v in outs.items()}
        return outs

    # --- AsyncBackend -------------------------------------------------------------------------
    def submit(self, frames: np.ndarray) -> "concurrent.futures.Future[Dict[str, np.ndarray]]":
        """Queue one validated batch on the request threads; returns a ticket for :meth:`result`."""
        self._check_open()
        with self._lock:
            if self._executor is None:
                self._executor = concurrent.futures.ThreadPoolExecutor(self._max_in_flight, thread_name_prefix="fcn_trt-triton")
        return self._executor.submit(self.infer, np.array(frames, copy=True))

    def result(self, ticket: "concurrent.futures.Future[Dict[str, np.ndarray]]") -> Dict[str, np.ndarray]:
        """Wait for a submitted batch and return its outputs."""
        return ticket.result()

    def describe(self) -> Dict[str, str]:
        return {"backend": self.name, "version": "tritonclient", "device": str(self.url),
                "shared_memory": "system" if self._shm is not None else "none"}

    def close(self) -> None:
        """Free the shared-memory regions, close the clients and the request threads. Idempotent."""
        if not self._first_close():
            return
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)
        with self._lock:  # requests still running on other threads finish before their regions go
            if not self._idle.wait_for(lambda: self._active == 0, timeout=self.timeout + 5):
                log.warning("%s: %d request(s) still running at close(); their shared memory is left", self.url, self._active)
                self._regions = []
            regions, self._regions = list(self._regions), []
            clients, self._clients = list(self._clients), []
        if regions:
            # one unregister call from a fresh client on this thread (gevent clients stay on their thread)
            try:
                client = self._tc.InferenceServerClient(self.url.address)
                for region in regions:
                    try:
                        client.unregister_system_shared_memory(region.name)
                    except Exception as e:
                        log.warning("%s: could not unregister shared memory %s: %s", self.url, region.name, e)
                client.close()
            except Exception as e:
                log.warning("%s: could not unregister shared memory: %s", self.url, e)
            for region in regions:
                self._shm.destroy_shared_memory_region(region.handle)
        for client in clients:
            try:
                client.close()
            except Exception as e:  # closing a gevent client from another thread may complain
                log.debug("close client: %s", e)
