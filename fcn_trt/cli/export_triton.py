"""``fcn-trt export-triton MODEL --out REPO``: a Triton model repository for the official tritonserver."""

from __future__ import annotations

import argparse
from typing import Any

from ..serve.repository import TRITON_CONTAINER_COMMAND, export_repository
from .args import add_command, non_negative_int, positive_int


def add_parser(sub: Any) -> argparse.ArgumentParser:
    p = add_command(
        sub, "export-triton", command, "write a Triton model repository (tensorrt_plan / onnxruntime_onnx)",
        description="Write REPO/NAME/config.pbtxt and REPO/NAME/1/model.plan|model.onnx for the official tritonserver: "
                    ".engine -> tensorrt_plan, .onnx -> onnxruntime_onnx, with dynamic batching, instance groups and the "
                    "class names/palette as parameters. The config is checked against Triton's model-config schema.",
    )
    p.add_argument("model", help="TensorRT .engine (with its .engine.json sidecar) or pipeline .onnx")
    p.add_argument("--out", required=True, help="model repository folder (created if missing)")
    p.add_argument("--name", default="fcn_trt", help="model name in the repository (default fcn_trt)")
    p.add_argument("--max-batch", type=non_negative_int, default=None,
                   help="max_batch_size (default 8, or the engine profile's maximum batch when smaller)")
    p.add_argument("--instances", type=positive_int, default=1, help="instance_group count (default 1)")
    p.add_argument("--queue-delay-us", type=non_negative_int, default=100, help="dynamic batcher's max queue delay (default 100)")
    return p


def command(args: argparse.Namespace) -> int:
    model_dir = export_repository(args.model, args.out, name=args.name, max_batch=args.max_batch,
                                  instances=args.instances, queue_delay_us=args.queue_delay_us)
    print(f"wrote {model_dir}/config.pbtxt and {model_dir}/1/ (checked against Triton's model-config schema)")
    print("serve it on a GPU machine with NVIDIA's Triton container:\n  " + TRITON_CONTAINER_COMMAND.format(repo=args.out))
    return 0
