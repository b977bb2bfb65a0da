"""Scale-out on NVIDIA Triton Inference Server: serve a pipeline, export model repositories.

* :class:`~fcn_trt.serve.server.TritonServer` (``fcn-trt serve``): a real ``tritonserver`` (from the
  ``nvidia-pytriton`` wheel) serving a pipeline ``.onnx`` through its python backend and ONNX
  Runtime, with dynamic batching; class names and palette are model-config parameters.
* :func:`~fcn_trt.serve.repository.export_repository` (``fcn-trt export-triton``): a standard model
  repository (``tensorrt_plan`` from an ``.engine``, ``onnxruntime_onnx`` from an ``.onnx``) for the
  official ``tritonserver`` on GPU machines.
* Clients: ``fcn_trt.Segmenter("grpc://HOST:PORT/NAME")`` or ``"http://HOST:PORT/NAME"``
  (:mod:`fcn_trt.backends.triton`).

Install with ``pip install "fcn-trt[serve]"`` in an environment of its own (it pins numpy<2; see
:mod:`fcn_trt.serve.server`). Nothing here is imported by ``import fcn_trt``.

Example:
    >>> from fcn_trt.serve.server import TritonServer                 # doctest: +SKIP
    >>> with TritonServer("demo", grpc_port=8001, http_port=8000) as server, \\
    ...         fcn_trt.Segmenter(server.grpc_url) as seg:
    ...     seg.run(frame).labels
"""
