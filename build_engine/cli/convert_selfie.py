"""``python -m build_engine convert-selfie --out selfie.onnx``: the MediaPipe selfie recipe (TensorFlow tooling)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from fcn_trt._hashing import file_sha256
from fcn_trt.cli.args import add_command
from fcn_trt.errors import BackendUnavailableError, SourceOpenError

from ..recipes.mediapipe_selfie import convert_selfie, export_selfie_pipeline, fetch_selfie_tflite


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``convert-selfie`` to ``python -m build_engine``."""
    p = add_command(subparsers, "convert-selfie", command, "convert MediaPipe's selfie segmenter (.tflite, Apache-2.0) to an fcn_trt pipeline",
                    "Fetch the selfie model from the mediapipe wheel, convert it with tf2onnx (run by --tf-python), "
                    "repair its custom op, verify it against TFLite and write the pipeline ONNX.")
    p.add_argument("--out", required=True, help="pipeline ONNX to write (uint8 frame in, labels out)")
    p.add_argument("--bare-out", help="also keep the bare converted network here (NHWC float 0..1 -> probability)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--tflite", help="use this .tflite instead of downloading the wheel")
    src.add_argument("--wheel", help="extract from this already downloaded mediapipe wheel")
    p.add_argument("--landscape", action="store_true", help="the 144x256 landscape model")
    p.add_argument("--tf-python", help="interpreter with tensorflow + tf2onnx (default $FCN_TRT_TF_PYTHON or this one)")
    p.add_argument("--verify-image", help="image file to compare ONNX with the TFLite interpreter on")
    p.add_argument("--max-abs-error", type=float, default=1e-3, help="verification budget (default 1e-3)")
    return p


def _read_rgb(path: str) -> np.ndarray:
    try:
        import cv2
    except ImportError:
        cv2 = None  # type: ignore[assignment]
    if cv2 is not None:
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        if img is None:
            raise SourceOpenError("--verify-image", expected="a readable image file", found=path)
        return img[:, :, ::-1].copy()
    try:
        from PIL import Image
    except ImportError:
        raise BackendUnavailableError("--verify-image", expected="opencv-python or pillow", found="neither",
                                      hint="pip install opencv-python-headless") from None
    try:
        return np.asarray(Image.open(path).convert("RGB"))
    except OSError as e:
        raise SourceOpenError("--verify-image", expected="a readable image file", found=f"{path}: {e}") from None


def command(args: argparse.Namespace) -> int:
    """Handler of ``convert-selfie``."""
    image = _read_rgb(args.verify_image) if args.verify_image else None
    with tempfile.TemporaryDirectory(prefix="selfie-") as tmp:
        if args.tflite:
            tflite = Path(args.tflite)
        else:
            tflite = fetch_selfie_tflite(tmp, args.landscape, wheel=args.wheel)
        bare = Path(args.bare_out) if args.bare_out else Path(tmp) / "bare.onnx"
        res = convert_selfie(tflite, bare, args.landscape, tf_python=args.tf_python, verify_image=image,
                             max_abs_error=args.max_abs_error)
        out = export_selfie_pipeline(bare, args.out, args.landscape)
        if args.bare_out:
            print(f"bare network: {bare} (sha256 {res.onnx_sha256})")
    print(f"source: {tflite.name} sha256 {res.source_sha256}; converter: tf2onnx {res.converter['tf2onnx']}, "
          f"tensorflow {res.converter['tensorflow']}")
    if res.verification is not None:
        v = res.verification
        print(f"vs TFLite: max abs error {v.max_abs_error:.3g}, mask agreement {v.mask_agreement:.6f}, IoU {v.iou:.6f}")
    print(f"wrote {out} (sha256 {file_sha256(out)})")
    return 0
