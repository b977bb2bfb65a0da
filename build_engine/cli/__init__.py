"""``python -m build_engine``: export, quantize, compare, build, convert, check.

Every subcommand prints one readable line and exits non-zero on a user mistake (no traceback);
``--verbose`` shows tracebacks for bug reports.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import List, Optional, Sequence

from fcn_trt.cli import add_plugin_parsers, int_in_range, parse_hw, run_parsed
from fcn_trt.errors import ConfigError

from ..cli_args import add_trt_check_arguments

__all__ = ["main", "parse_hw", "parse_floats", "add_trt_check_arguments"]

log = logging.getLogger("build_engine")

# Subcommands living in their own modules: (module, function adding the parser).
_PLUGINS = (
    ("build_engine.cli.quantize", "add_parser"),
    ("build_engine.cli.compare", "add_parser"),
    ("build_engine.cli.fp16", "add_parser"),
    ("build_engine.cli.build", "add_parser"),
    ("build_engine.cli.check", "add_parser"),
    ("build_engine.cli.convert_selfie", "add_parser"),
)

PRESETS = {
    # pytorch-fcn's VOC checkpoints (Caffe): BGR, mean subtraction, no division.
    "caffe": ("bgr", (104.00698793, 116.66876762, 122.67891434), (1.0, 1.0, 1.0)),
    # torchvision / most PyTorch models: RGB, ImageNet mean/std in 0..255 units.
    "imagenet": ("rgb", (123.675, 116.28, 103.53), (58.395, 57.12, 57.375)),
    # models that take RGB scaled to 0..1 (MediaPipe, many TF models).
    "unit": ("rgb", (0.0, 0.0, 0.0), (255.0, 255.0, 255.0)),
}


def parse_floats(text: str, what: str, n: int = 3) -> tuple:
    try:
        vals = tuple(float(v) for v in text.split(","))
    except ValueError:
        vals = ()
    if len(vals) != n:
        raise ConfigError(what, expected=f"{n} comma-separated numbers", found=repr(text))
    return vals


def _add_export_parser(sub) -> None:
    p = sub.add_parser(
        "export", help="build the pipeline ONNX (FCN from weights, or wrap an existing ONNX network)",
        description="Write the fcn_trt pipeline graph: uint8 frame in, uint8 labels out.",
    )
    src = p.add_argument_group("network")
    src.add_argument("--weights", help="pytorch-fcn weights (.npz or .pth); random bilinear-initialised if omitted")
    src.add_argument("--onnx", help="wrap this bare ONNX segmentation network instead of building an FCN")
    src.add_argument("--variant", default="fcn8s", choices=("fcn8s", "fcn16s", "fcn32s", "fcn8s-atonce"))
    # labels are uint8: at most 256 classes; VGG's narrowest layer has 64 channels
    src.add_argument("--num-classes", type=int_in_range(1, 256), help="classes (default: from the weights, or 21)")
    src.add_argument("--width-divisor", type=int_in_range(1, 64),
                     help="divide every VGG width by this (default: from the weights, or 1)")
    src.add_argument("--seed", type=int, default=0, help="seed of random weights")
    src.add_argument("--input-name", help="network input to connect (--onnx)")
    src.add_argument("--output-name", help="network score output (--onnx)")
    src.add_argument("--input-layout", choices=("nchw", "nhwc"), help="network input layout (--onnx; default: guessed)")
    src.add_argument("--output-layout", choices=("nchw", "nhwc"), help="network output layout (default: input layout)")
    src.add_argument("--output-kind", default="logits", choices=("logits", "probability", "sigmoid_logits"))
    src.add_argument("--threshold", type=float, default=0.5, help="threshold of single-channel outputs")
    pre = p.add_argument_group("preprocessing (inside the graph)")
    pre.add_argument("--input-format", default="bgr", choices=("bgr", "rgb", "nv12"), help="layout of the uint8 frames you will feed")
    pre.add_argument("--preset", choices=sorted(PRESETS), help="channel order + mean/std preset (default: caffe for FCN, imagenet for --onnx)")
    pre.add_argument("--channel-order", choices=("bgr", "rgb"), help="channel order the network was trained on")
    pre.add_argument("--mean", help="per-channel mean in 0..255 units, in --channel-order, e.g. 104,117,123")
    pre.add_argument("--std", help="per-channel std in 0..255 units (1,1,1 = no division)")
    pre.add_argument("--size", help="resize frames to HxW inside the graph (latency control)")
    pre.add_argument("--no-resize-back", action="store_true", help="return labels at --size instead of frame size")
    out = p.add_argument_group("outputs and metadata")
    out.add_argument("--confidence", action="store_true", help="add a 'confidence' output (max softmax probability)")
    out.add_argument("--logits", action="store_true", help="add a 'logits' output (debugging; float scores)")
    out.add_argument("--class-names", help="comma-separated class names, or a file with one name per line")
    out.add_argument("--palette", help="voc, cityscapes, or a file with one 'R,G,B' per line")
    out.add_argument("--precision", default="fp32", choices=("fp32", "fp16"), help="fp16: weights and compute in fp16")
    out.add_argument("--name", default="", help="model name stored in the metadata")
    p.add_argument("--out", required=True, help="output pipeline .onnx")
    add_trt_check_arguments(p)
    p.set_defaults(func=run_export)


_FILE_SUFFIXES = (".txt", ".csv", ".names", ".json", ".lst")


def _file_rows(path: Path) -> List[str]:
    """The non-blank lines of a ``--class-names`` / ``--palette`` file, stripped."""
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def _read_names(text: Optional[str]) -> Optional[List[str]]:
    if not text:
        return None
    path = Path(text)
    if path.is_file():
        return _file_rows(path)
    if "," not in text and ("/" in text or path.suffix.lower() in _FILE_SUFFIXES):
        raise ConfigError("--class-names", expected="comma-separated names or an existing file (one name a line)",
                          found="%r (no such file)" % text, hint="check the path")
    names = [v.strip() for v in text.split(",") if v.strip()]
    if not names:
        raise ConfigError("--class-names", expected="at least one name", found=repr(text))
    return names


def _read_palette(text: Optional[str], n: int):
    if not text:
        return None
    from fcn_trt.palettes import get_palette

    path = Path(text)
    if path.is_file():
        colours = []
        for i, row in enumerate(_file_rows(path)):
            parts = [v.strip() for v in row.split(",")]
            if len(parts) != 3 or not all(p.isdigit() and int(p) <= 255 for p in parts):
                raise ConfigError("--palette %s line %d" % (path, i + 1), expected="'R,G,B' with integers 0..255",
                                  found=repr(row))
            colours.append(tuple(int(p) for p in parts))
        if len(colours) != n:
            raise ConfigError("--palette %s" % path, expected="one colour per class (%d lines)" % n,
                              found="%d lines" % len(colours))
        return colours
    if text not in ("voc", "cityscapes"):
        raise ConfigError("--palette", expected="voc, cityscapes or an existing file with one 'R,G,B' per line",
                          found="%r (no such file)" % text, hint="check the path")
    if text == "voc":  # the VOC colour scheme extends to any class count
        from fcn_trt.palettes import voc_palette

        return voc_palette(n)
    return get_palette(text)


def _preprocessing(args, default_preset: str):
    order, mean, std = PRESETS[args.preset or default_preset]
    if args.channel_order:
        order = args.channel_order
    if args.mean:
        mean = parse_floats(args.mean, "--mean")
    if args.std:
        std = parse_floats(args.std, "--std")
    return order, mean, std


def run_export(args) -> int:
    from fcn_trt.metadata import PipelineMetadata

    from ..pipeline import NetworkSpec, export_fcn_pipeline, save_model, wrap_network

    if args.palette and args.palette not in ("voc", "cityscapes") and not Path(args.palette).is_file():
        _read_palette(args.palette, 0)  # fails before anything is exported or written
    size = parse_hw(args.size) if args.size else None
    outputs = ("labels",) + (("confidence",) if args.confidence else ()) + (("logits",) if args.logits else ())
    names = _read_names(args.class_names)
    if args.onnx:
        from fcn_trt.palettes import get_palette

        from ..onnx_io import load_onnx

        path = Path(args.onnx)
        network = load_onnx(path, what="--onnx")
        order, mean, std = _preprocessing(args, "imagenet")
        n = len(names) if names else (2 if args.output_kind != "logits" else args.num_classes)
        if not n:
            raise ConfigError("--class-names / --num-classes", expected="the number of classes of the wrapped network", found="neither")
        names = names or (["background", "foreground"] if args.output_kind != "logits" else [f"class_{i}" for i in range(n)])
        from ..weights import weights_sha256

        meta = PipelineMetadata(
            class_names=tuple(names), palette=tuple(_read_palette(args.palette, len(names)) or get_palette(len(names))),
            input_format=args.input_format, channel_order=order, mean=mean, std=std, inference_size=size,
            resize_back=not args.no_resize_back, outputs=outputs, variant="custom", precision=args.precision,
            weights_sha256=weights_sha256(path), model_name=args.name or path.stem,
        )
        spec = NetworkSpec(
            input_name=args.input_name, output_name=args.output_name, input_layout=args.input_layout,
            input_size=size, output_layout=args.output_layout, output_kind=args.output_kind, threshold=args.threshold,
        )
        if args.precision == "fp16":
            from ..precision import network_to_fp16

            network = network_to_fp16(network)
        out = save_model(wrap_network(network, meta, spec), args.out, trt_targets=args.trt,
                         allow_incompatible=args.allow_trt_incompatible)
    else:
        order, mean, std = _preprocessing(args, "caffe")
        # The class count (and so the palette's length) is known only once the weights are read:
        # with --palette the graph is staged beside --out and renamed only if the palette fits.
        out = Path(args.out)
        staged = out.with_name(out.name + ".staged.onnx") if args.palette else out
        try:
            export_fcn_pipeline(
                staged, args.variant, args.num_classes, args.width_divisor, args.weights,
                class_names=names, palette=None, input_format=args.input_format, channel_order=order, mean=mean,
                std=std, inference_size=size, resize_back=not args.no_resize_back, outputs=outputs,
                precision=args.precision, seed=args.seed, model_name=args.name, trt_targets=args.trt,
                allow_incompatible=args.allow_trt_incompatible,
            )
            if args.palette:
                _write_with_palette(staged, out, args.palette, args.allow_trt_incompatible)
        finally:
            if staged != out and staged.exists():
                staged.unlink()
    print(f"wrote {out}")
    return 0


def _write_with_palette(source: Path, path: Path, palette_arg: str, allow_incompatible: bool) -> None:
    """Write ``source`` to ``path`` with the palette ``palette_arg`` in its metadata."""
    import onnx

    from fcn_trt.metadata import read_model_metadata, write_model_metadata

    model = onnx.load(str(source))
    meta = read_model_metadata(model)
    meta = meta.replace(palette=tuple(tuple(c) for c in _read_palette(palette_arg, meta.num_classes)))
    write_model_metadata(model, meta)
    from ..pipeline import save_model

    save_model(model, path, allow_incompatible=allow_incompatible)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m build_engine",
        description="Offline tools: export the FCN pipeline ONNX, make fp16/int8 graphs, build TensorRT engines.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging and tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    _add_export_parser(sub)
    add_plugin_parsers(sub, _PLUGINS)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    return run_parsed(make_parser(), argv, "build_engine", logging.INFO)
