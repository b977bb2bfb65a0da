"""``fcn-trt serve`` and ``fcn-trt export-triton``.

Example::

    fcn-trt serve demo --grpc-port 8001 --http-port 8000 --server-python .venv-serve/bin/python
    fcn-trt export-triton fcn8s.engine --out model_repository --name fcn8s --max-batch 8
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

__all__ = ["add_serve_parser", "add_export_triton_parser", "serve_command", "export_triton_command", "TRITON_CONTAINER_COMMAND"]

log = logging.getLogger(__name__)

#: how the official Triton container serves an exported repository (REPO: its folder).
TRITON_CONTAINER_COMMAND = ("docker run --gpus all --rm -p 8000:8000 -p 8001:8001 -v {repo}:/models "
                            "nvcr.io/nvidia/tritonserver:<yy.mm>-py3 tritonserver --model-repository=/models")


def _int(minimum: int) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, found {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, found {value}")
        return value
    return parse


def serve_command(args: argparse.Namespace) -> int:
    from .server import TritonServer, serve_until_signalled

    server = TritonServer(
        args.model, http_port=args.http_port, grpc_port=args.grpc_port, host=args.host, model_name=args.model_name,
        max_batch=args.max_batch, instances=args.instances, threads=args.threads, queue_delay_us=args.queue_delay_us,
        server_python=args.server_python, log_verbose=1 if args.verbose else 0, die_with_parent=True,
    )

    def ready(s: TritonServer) -> None:
        print(f"serving {s.model_path.name} as {s.grpc_url} and {s.http_url} "
              f"(max batch {args.max_batch}, {args.instances} instance(s)); Ctrl-C or SIGTERM stops", flush=True)

    report = serve_until_signalled(server, on_ready=ready, start_timeout=args.start_timeout)
    print(f"stopped ({report.reason}; tritonserver exit status {report.exit_status}, {report.stop_seconds:.1f} s)", flush=True)
    return 0


def export_triton_command(args: argparse.Namespace) -> int:
    from .repository import export_repository

    model_dir = export_repository(args.model, args.out, name=args.name, max_batch=args.max_batch,
                                  instances=args.instances, queue_delay_us=args.queue_delay_us)
    print(f"wrote {model_dir}/config.pbtxt and {model_dir}/1/ (checked against Triton's model-config schema)")
    print("serve it on a GPU machine with NVIDIA's Triton container:\n  " + TRITON_CONTAINER_COMMAND.format(repo=args.out))
    return 0


def add_serve_parser(sub: Any) -> None:
    from .server import SERVE_PYTHON_ENV

    p = sub.add_parser(
        "serve", help="serve a pipeline with Triton Inference Server (grpc:// and http:// clients)",
        description="Start a real Triton Inference Server (nvidia-pytriton's bundled tritonserver, python backend "
                    "running ONNX Runtime) that serves MODEL's pipeline with dynamic batching; clients open it with "
                    "Segmenter('grpc://HOST:PORT/NAME') or Segmenter('http://HOST:PORT/NAME'). Runs until Ctrl-C or SIGTERM.",
    )
    p.add_argument("model", help="pipeline .onnx or a built-in name (demo, selfie)")
    p.add_argument("--http-port", type=_int(1), default=8000, help="HTTP/REST port (default 8000)")
    p.add_argument("--grpc-port", type=_int(1), default=8001, help="gRPC port (default 8001)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only; 0.0.0.0: all)")
    p.add_argument("--model-name", default="fcn_trt", help="name clients use after the port (default fcn_trt)")
    p.add_argument("--max-batch", type=_int(1), default=8, help="largest batch the dynamic batcher forms (default 8)")
    p.add_argument("--instances", type=_int(1), default=1, help="model instances, one process each (default 1)")
    p.add_argument("--threads", type=_int(0), default=0, help="ONNX Runtime threads per instance (default 0: its own choice)")
    p.add_argument("--queue-delay-us", type=_int(0), default=0, help="how long the batcher may wait to fill a batch (default 0)")
    p.add_argument("--server-python", default=None,
                   help=f"interpreter with nvidia-pytriton, numpy<2 and onnxruntime (default ${SERVE_PYTHON_ENV} or this one)")
    p.add_argument("--start-timeout", type=float, default=120.0, help="seconds to wait for the model to load (default 120)")
    p.set_defaults(func=serve_command)


def add_export_triton_parser(sub: Any) -> None:
    p = sub.add_parser(
        "export-triton", help="write a Triton model repository (tensorrt_plan / onnxruntime_onnx)",
        description="Write REPO/NAME/config.pbtxt and REPO/NAME/1/model.plan|model.onnx for the official tritonserver: "
                    ".engine -> tensorrt_plan, .onnx -> onnxruntime_onnx, with dynamic batching, instance groups and the "
                    "class names/palette as parameters. The config is checked against Triton's model-config schema.",
    )
    p.add_argument("model", help="TensorRT .engine (with its .engine.json sidecar) or pipeline .onnx")
    p.add_argument("--out", required=True, help="model repository folder (created if missing)")
    p.add_argument("--name", default="fcn_trt", help="model name in the repository (default fcn_trt)")
    p.add_argument("--max-batch", type=_int(0), default=None,
                   help="max_batch_size (default 8, or the engine profile's maximum batch when smaller)")
    p.add_argument("--instances", type=_int(1), default=1, help="instance_group count (default 1)")
    p.add_argument("--queue-delay-us", type=_int(0), default=100, help="dynamic batcher's max queue delay (default 100)")
    p.set_defaults(func=export_triton_command)


def add_serve_parsers(sub: Any) -> None:
    """Both subcommands (what fcn_trt.cli's plugin table calls)."""
    add_serve_parser(sub)
    add_export_triton_parser(sub)
