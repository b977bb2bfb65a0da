"""``fcn-trt demo``: segment a generated moving-camera clip with the shipped demo model.

On a CPU-only machine it needs only ``pip install "fcn-trt[demo]"``: the shipped pipeline graph
(``fcn_trt/models/demo_fcn8s_w8.onnx``, exported by ``build_engine`` from
``demo_fcn8s_w8.npz``) runs on ONNX Runtime; pass a TensorRT engine built from it with
``--model`` to run on a GPU. The clip comes from :mod:`fcn_trt.scenes` with a seed the model never
saw in training, so the printed pixel accuracy and mean IU are held-out numbers.

Writes to ``--out``: ``demo_overlay.mp4`` (mp4v, labels blended over each frame, with latency
text and legend) and ``demo_side_by_side.png`` (frame | ground truth | prediction).

Example:
    >>> report = run_demo("/tmp/fcn_trt_demo", frames=4, size=(96, 128))   # doctest: +SKIP
    >>> print(report.summary())                                             # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import numpy as np

from .._util import parse_hw
from ..errors import ConfigError, ModelError, SourceOpenError

__all__ = ["DEMO_CLIP_SEED", "DemoReport", "run_demo", "parse_size", "VIDEO_NAME", "SIDE_BY_SIDE_NAME"]

#: Scene seed of the demo clip (training used frame seeds >= 10**7; this one is held out).
DEMO_CLIP_SEED = 2024
VIDEO_NAME = "demo_overlay.mp4"
SIDE_BY_SIDE_NAME = "demo_side_by_side.png"


@dataclasses.dataclass(frozen=True)
class DemoReport:
    """What one demo run measured and wrote.

    Latencies are ``Segmenter.run`` wall times in milliseconds (first frame excluded as warm-up
    when there is more than one).
    """

    model: str
    backend: str
    frames: int
    size: Tuple[int, int]
    clip_seed: int
    pixel_accuracy: float
    mean_iu: float
    class_iu: Dict[str, float]
    mean_latency_ms: float
    median_latency_ms: float
    video: str
    side_by_side: str
    wall_s: float

    def summary(self) -> str:
        """A few printable lines."""
        lines = [
            "model %s on %s, %d frames of %dx%d (held-out clip seed %d)"
            % (self.model, self.backend, self.frames, self.size[0], self.size[1], self.clip_seed),
            "pixel accuracy %.2f %%   mean IU %.2f %%" % (100 * self.pixel_accuracy, 100 * self.mean_iu),
            "IU per class: " + ", ".join("%s %.1f" % (k, 100 * v) for k, v in self.class_iu.items()),
            "latency %.1f ms/frame mean, %.1f ms median (Segmenter.run)" % (self.mean_latency_ms, self.median_latency_ms),
            "wrote %s" % self.video,
            "wrote %s" % self.side_by_side,
        ]
        return "\n".join(lines)


def parse_size(text: str) -> Tuple[int, int]:
    """``"240x320"`` -> ``(240, 320)``; raises :class:`ConfigError` otherwise (H and W in 32..4096)."""
    return parse_hw(text, "--size", minimum=32, maximum=4096)


def _cv2() -> Any:
    from ..streaming.scenes import _cv2 as scenes_cv2

    return scenes_cv2()


def _caption(cv2: Any, image: np.ndarray, text: str) -> np.ndarray:
    from ..streaming.drawing import draw_text

    return draw_text(image, [text], origin=(4, 4), scale=max(0.35, image.shape[1] / 700.0))


def _side_by_side(frame: np.ndarray, gt_bgr: np.ndarray, pred_bgr: np.ndarray) -> np.ndarray:
    cv2 = _cv2()
    panels = [_caption(cv2, frame.copy(), "frame"), _caption(cv2, gt_bgr.copy(), "ground truth"),
              _caption(cv2, pred_bgr.copy(), "prediction")]
    sep = np.full((frame.shape[0], 4, 3), 255, np.uint8)
    return np.concatenate([panels[0], sep, panels[1], sep, panels[2]], axis=1)


def _open_segmenter(model: str, backend: Optional[str]) -> Any:
    from ..segmenter import Segmenter

    return Segmenter(model, backend=backend)


#: a demo clip is rendered on the CPU (~0.1 s a frame): 100k frames is hours already.
MAX_DEMO_FRAMES = 100_000


def run_demo(
    out_dir: Union[str, Path] = "fcn_trt_demo",
    frames: int = 60,
    size: Tuple[int, int] = (240, 320),
    model: str = "demo",
    backend: Optional[str] = None,
    seed: int = DEMO_CLIP_SEED,
    fps: float = 15.0,
    progress: bool = True,
    segmenter_factory: Optional[Callable[[str, Optional[str]], Any]] = None,
) -> DemoReport:
    """Generate a held-out clip, segment it, write the overlay video and side-by-side image, and
    return the scores. ``segmenter_factory(model, backend)`` opens the segmenter (default
    :class:`fcn_trt.Segmenter`).

    Raises:
        ConfigError: bad ``frames``/``size``.
        ModelError: a model whose classes are not the scene classes.
        SourceOpenError: the output video cannot be written.
    """
    from .._progress import progress as bar
    from ..eval.metrics import ConfusionMatrix
    from ..streaming import scenes
    from ..streaming.drawing import open_video_writer, render

    if isinstance(frames, bool) or not isinstance(frames, int) or not 1 <= frames <= MAX_DEMO_FRAMES:
        raise ConfigError("--frames", expected="a number of frames in 1..%d" % MAX_DEMO_FRAMES, found=repr(frames))
    h, w = parse_size("%sx%s" % tuple(size)) if not isinstance(size, str) else parse_size(size)
    cv2 = _cv2()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    factory = segmenter_factory or _open_segmenter
    t_start = time.perf_counter()
    seg = factory(model, backend)
    writer = None
    try:
        names = tuple(seg.metadata.class_names)
        if names != scenes.CLASS_NAMES:
            raise ModelError(
                "demo model classes", expected="the scene classes %s" % (list(scenes.CLASS_NAMES),),
                found="%s" % (list(names),),
                hint="use the built-in 'demo' model, or an engine built from fcn_trt/models/demo_fcn8s_w8.onnx",
            )
        backend_name = str(getattr(seg.backend, "name", "") or backend or "")
        cm = ConfusionMatrix(scenes.NUM_CLASSES)
        latencies: List[float] = []
        video_path = out / VIDEO_NAME
        writer = open_video_writer(video_path, fps, (w, h), "mp4v")
        keep = frames // 2
        kept: Optional[Tuple[np.ndarray, np.ndarray, np.ndarray]] = None
        clip = scenes.generate_clip(int(seed), frames, (h, w), fps=fps)
        for frame in bar(clip, total=frames, desc="demo", enabled=progress):
            t0 = time.perf_counter()
            result = seg.run(frame.image)
            latencies.append((time.perf_counter() - t0) * 1e3)
            cm.update(frame.labels, result.labels)
            text = ["%s %.0f ms" % (backend_name, latencies[-1])]
            writer.write(render(frame.image, result, mode="overlay", alpha=0.5, text=text))
            if frame.index == keep:
                kept = (frame.image, scenes.colorize_labels(frame.labels), result.colorize())
        writer.release()
        writer = None
    finally:
        if writer is not None:
            writer.release()
        seg.close()
    assert kept is not None  # keep < frames
    side_path = out / SIDE_BY_SIDE_NAME
    if not cv2.imwrite(str(side_path), _side_by_side(*kept)):
        raise SourceOpenError(str(side_path), expected="a writable PNG path", found="cv2.imwrite failed")
    timed = latencies[1:] if len(latencies) > 1 else latencies
    s = cm.scores()
    iu = [float(v) for v in s.per_class_iu]
    return DemoReport(
        model=str(model), backend=backend_name, frames=frames, size=(h, w), clip_seed=int(seed),
        pixel_accuracy=float(s.pixel_accuracy), mean_iu=float(s.mean_iu),
        class_iu=dict(zip(scenes.CLASS_NAMES, iu)),
        mean_latency_ms=float(statistics.fmean(timed)), median_latency_ms=float(statistics.median(timed)),
        video=str(video_path), side_by_side=str(side_path), wall_s=time.perf_counter() - t_start,
    )
