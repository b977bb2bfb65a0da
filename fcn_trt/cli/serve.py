"""``fcn-trt serve MODEL``: a real Triton Inference Server for a pipeline, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
from typing import Any

from ..serve.server import SERVE_PYTHON_ENV, TritonServer, serve_until_signalled
from .args import add_command, non_negative_int, positive_int


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = add_command(
        sub, "serve", command, "serve a pipeline with Triton Inference Server (grpc:// and http:// clients)",
        description="Start a real Triton Inference Server (nvidia-pytriton's bundled tritonserver, python backend "
                    "running ONNX Runtime) that serves MODEL's pipeline with dynamic batching; clients open it with "
                    "Segmenter('grpc://HOST:PORT/NAME') or Segmenter('http://HOST:PORT/NAME'). Runs until Ctrl-C or "
                    "SIGTERM. See docs/triton.md.",
    )
    p.add_argument("model", help="pipeline .onnx or a built-in name (demo, selfie)")
    p.add_argument("--http-port", type=positive_int, default=8000, help="HTTP/REST port (default 8000)")
    p.add_argument("--grpc-port", type=positive_int, default=8001, help="gRPC port (default 8001)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only; 0.0.0.0: all)")
    p.add_argument("--model-name", default="fcn_trt", help="name clients use after the port (default fcn_trt)")
    p.add_argument("--max-batch", type=positive_int, default=8, help="largest batch the dynamic batcher forms (default 8)")
    p.add_argument("--instances", type=positive_int, default=1, help="model instances, one process each (default 1)")
    p.add_argument("--threads", type=non_negative_int, default=0, help="ONNX Runtime threads per instance (default 0: its own choice)")
    p.add_argument("--queue-delay-us", type=non_negative_int, default=0, help="how long the batcher may wait to fill a batch (default 0)")
    p.add_argument("--server-python", default=None,
                   help=f"interpreter with nvidia-pytriton, numpy<2 and onnxruntime (default ${SERVE_PYTHON_ENV} or this one)")
    p.add_argument("--start-timeout", type=float, default=120.0, help="seconds to wait for the model to load (default 120)")
    return p


def command(args: argparse.Namespace) -> int:
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
