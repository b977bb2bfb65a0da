"""Scale-out on NVIDIA Triton Inference Server: serve a pipeline, export model repositories.

* :class:`TritonServer` (``fcn-trt serve``): a real ``tritonserver`` (from the ``nvidia-pytriton``
  wheel) serving a pipeline ``.onnx`` through its python backend and ONNX Runtime, with dynamic
  batching; class names and palette are model-config parameters. :func:`serve_until_signalled`
  runs one until Ctrl-C or SIGTERM.
* :func:`export_repository` (``fcn-trt export-triton``): a standard model repository
  (``tensorrt_plan`` from an ``.engine``, ``onnxruntime_onnx`` from an ``.onnx``) for the official
  ``tritonserver`` on GPU machines, checked with :func:`parse_model_config` against Triton's schema.
* Clients: ``fcn_trt.Segmenter("grpc://HOST:PORT/NAME")`` or ``"http://HOST:PORT/NAME"``
  (:mod:`fcn_trt.backends.triton`).

Install with ``pip install "fcn-trt[serve]"`` in an environment of its own (it pins numpy<2; see
:mod:`fcn_trt.serve.server`). ``import fcn_trt`` does not import this package; importing it needs
no third-party package (tritonclient and onnxruntime are imported when used).

Example:
    >>> from fcn_trt.serve import TritonServer                         # doctest: +SKIP
    >>> with TritonServer("demo", grpc_port=8001, http_port=8000) as server, \\
    ...         fcn_trt.Segmenter(server.grpc_url) as seg:
    ...     seg.run(frame).labels
"""

from .repository import export_repository, parse_model_config
from .server import ServeReport, TritonServer, probe_server_python, serve_until_signalled

__all__ = ["TritonServer", "serve_until_signalled", "ServeReport", "export_repository", "parse_model_config",
           "probe_server_python"]
