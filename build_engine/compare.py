"""The accuracy gate: how much a reduced-precision graph (or engine) changes the labels.

``python -m build_engine compare A.onnx B.onnx --data DIR`` runs both models on the same frames and
reports:

* **label agreement**: the fraction of pixels where B's label equals A's (A is the reference,
  usually the fp32 graph);
* **mean IU of each against ground truth** when the data has labels (a VOC root), and the
  **per-class IoU delta** (B - A, in points);
* **boundary-band error**: disagreement restricted to pixels within ``k`` px of a label boundary
  (of the ground truth, or of A's labels), where reduced precision flips labels first; a low
  overall agreement concentrated in the band is benign, one spread over object interiors is not;
* the **budget** and whether B passes it. Defaults by B's precision (from its metadata): fp16
  >= 99.5 % agreement; int8 >= 97 % agreement and <= 1.0 point mean-IU drop (the drop is only
  checked when ground truth is present); fp32 (e.g. a TensorRT engine against its ONNX) >= 99.5 %.

:func:`compare_models` returns a frozen :class:`ComparisonReport`; :meth:`ComparisonReport.check`
raises :class:`fcn_trt.errors.AccuracyGateError` (exit code 6 from the CLI) when B fails.

Numbers measured with ONNX Runtime on a CPU for an fp16 graph reflect fp16 *storage*, not fp16
arithmetic (ORT's CPU provider has no fp16 Conv kernel and casts to fp32 around each node).

Example:
    >>> report = compare_models("fcn8s.onnx", "fcn8s.int8.onnx", frames)       # doctest: +SKIP
    >>> print(report.format()); report.check()                                  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from fcn_trt._deprecated import moved_names
from fcn_trt._progress import progress
from fcn_trt.errors import AccuracyGateError, ConfigError, InputError
from fcn_trt.eval.metrics import iou_per_class

__all__ = [
    "AccuracyBudget",
    "ComparisonReport",
    "DEFAULT_BUDGETS",
    "default_budget",
    "boundary_mask",
    "compare_models",
    "compare_labels",
]

ModelArg = Union[str, Path, Any]


@dataclasses.dataclass(frozen=True)
class AccuracyBudget:
    """What B may lose against A: agreement in 0..1, mean-IU drop in points (0..100)."""

    min_agreement: float
    max_miou_drop: Optional[float] = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_agreement <= 1.0:
            raise ConfigError("minimum agreement", expected="a fraction in [0, 1]", found=repr(self.min_agreement))
        if self.max_miou_drop is not None and self.max_miou_drop < 0:
            raise ConfigError("maximum mean-IU drop", expected="points >= 0", found=repr(self.max_miou_drop))


DEFAULT_BUDGETS: Dict[str, AccuracyBudget] = {
    "fp32": AccuracyBudget(0.995),
    "fp16": AccuracyBudget(0.995),
    "int8": AccuracyBudget(0.97, 1.0),
}


def default_budget(precision: str) -> AccuracyBudget:
    """The default budget for a model of ``precision`` (fp32, fp16, int8)."""
    if precision not in DEFAULT_BUDGETS:
        raise ConfigError("precision", expected=" | ".join(DEFAULT_BUDGETS), found=repr(precision))
    return DEFAULT_BUDGETS[precision]


@dataclasses.dataclass(frozen=True)
class ComparisonReport:
    """Result of :func:`compare_models` (fractions in 0..1, IoU deltas in points).

    Attributes:
        model_a, model_b: names of the models compared (A is the reference).
        precision_a, precision_b: from the models' metadata ("" if unknown).
        frames, pixels: how much was compared.
        agreement: fraction of pixels where B's label equals A's.
        boundary_px: the band half-width k.
        boundary_fraction: fraction of pixels inside the band.
        boundary_agreement / interior_agreement: agreement inside / outside the band.
        boundary_error: 1 - boundary_agreement (the "boundary-band error").
        disagreement_in_band: share of all disagreeing pixels that lie in the band.
        per_class_iou_b_vs_a: IoU of B's labels against A's, per class (NaN: class in neither).
        mean_iu_a / mean_iu_b: against ground truth (None without labels).
        per_class_iou_a / per_class_iou_b: against ground truth (empty without labels).
        per_class_iou_delta: B - A in points, per class (NaN where undefined).
        miou_drop: (mean IU of A - mean IU of B) in points (None without labels).
        budget, passed, failures: the gate.
        notes: caveats (e.g. CPU fp16, no ground truth).
    """

    model_a: str
    model_b: str
    precision_a: str
    precision_b: str
    class_names: Tuple[str, ...]
    frames: int
    pixels: int
    agreement: float
    boundary_px: int
    boundary_fraction: float
    boundary_agreement: float
    interior_agreement: float
    boundary_error: float
    disagreement_in_band: float
    per_class_iou_b_vs_a: Tuple[float, ...]
    mean_iu_a: Optional[float]
    mean_iu_b: Optional[float]
    per_class_iou_a: Tuple[float, ...]
    per_class_iou_b: Tuple[float, ...]
    per_class_iou_delta: Tuple[float, ...]
    miou_drop: Optional[float]
    budget: AccuracyBudget
    passed: bool
    failures: Tuple[str, ...]
    notes: Tuple[str, ...] = ()

    @property
    def has_ground_truth(self) -> bool:
        return self.mean_iu_a is not None

    def check(self) -> "ComparisonReport":
        """Raise :class:`AccuracyGateError` if B failed its budget; returns ``self`` otherwise."""
        if not self.passed:
            raise AccuracyGateError(
                f"accuracy gate for {self.model_b} ({self.precision_b or 'unknown precision'}) against {self.model_a}",
                expected=_budget_text(self.budget), found="; ".join(self.failures),
                hint="calibrate on more representative frames, try --method percentile/entropy, or keep a "
                "higher precision" if self.precision_b == "int8" else "check the two models come from the same network",
            )
        return self

    def to_dict(self) -> Dict[str, Any]:
        """JSON-ready dict (NaN -> None)."""

        def clean(v):
            if isinstance(v, float) and math.isnan(v):
                return None
            if isinstance(v, (tuple, list)):
                return [clean(x) for x in v]
            if isinstance(v, AccuracyBudget):
                return dataclasses.asdict(v)
            return v

        return {f.name: clean(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def format(self) -> str:
        """A plain-text report (what the CLI prints)."""
        lines = [
            f"A (reference): {self.model_a} [{self.precision_a or '?'}]",
            f"B (candidate): {self.model_b} [{self.precision_b or '?'}]",
            f"frames {self.frames}, pixels {self.pixels}",
            f"label agreement          {100 * self.agreement:8.3f} %",
            f"boundary band (k={self.boundary_px} px): {100 * self.boundary_fraction:.1f} % of pixels, "
            f"agreement {100 * self.boundary_agreement:.3f} %, error {100 * self.boundary_error:.3f} %",
            f"interior agreement       {100 * self.interior_agreement:8.3f} %",
            f"disagreements in band    {100 * self.disagreement_in_band:8.1f} %",
        ]
        if self.has_ground_truth:
            assert self.mean_iu_a is not None and self.mean_iu_b is not None
            lines.append(f"mean IU  A {100 * self.mean_iu_a:.2f}  B {100 * self.mean_iu_b:.2f}  "
                         f"drop {self.miou_drop:+.2f} points")
        w = max([5] + [len(c) for c in self.class_names])
        header = f"{'class':<{w}}  {'IoU B~A %':>9}"
        if self.has_ground_truth:
            header += f"  {'IoU A %':>8}  {'IoU B %':>8}  {'delta':>7}"
        lines += ["", header, "-" * len(header)]
        for i, name in enumerate(self.class_names):
            row = f"{name:<{w}}  {_pct(self.per_class_iou_b_vs_a[i]):>9}"
            if self.has_ground_truth:
                d = self.per_class_iou_delta[i]
                row += (f"  {_pct(self.per_class_iou_a[i]):>8}  {_pct(self.per_class_iou_b[i]):>8}  "
                        f"{'-' if math.isnan(d) else f'{d:+.2f}':>7}")
            lines.append(row)
        lines += ["", f"budget: {_budget_text(self.budget)}",
                  "PASS" if self.passed else "FAIL: " + "; ".join(self.failures)]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def _pct(v: float) -> str:
    return "-" if math.isnan(v) else f"{100 * v:.2f}"


def _budget_text(b: AccuracyBudget) -> str:
    text = f"agreement >= {100 * b.min_agreement:.2f} %"
    if b.max_miou_drop is not None:
        text += f", mean-IU drop <= {b.max_miou_drop:.2f} points (with ground truth)"
    return text


# --- metrics --------------------------------------------------------------------------------------
def _label_boundaries(labels: np.ndarray) -> np.ndarray:
    """Pixels whose 4-neighbourhood holds another label (both sides of every edge)."""
    edge = np.zeros(labels.shape, bool)
    dv = labels[1:, :] != labels[:-1, :]
    dh = labels[:, 1:] != labels[:, :-1]
    edge[1:, :] |= dv
    edge[:-1, :] |= dv
    edge[:, 1:] |= dh
    edge[:, :-1] |= dh
    return edge


def _dilate(mask: np.ndarray, k: int) -> np.ndarray:
    """Square (Chebyshev) dilation by ``k`` px, separable, numpy only."""
    out = mask.copy()
    for axis in (0, 1):
        acc = out.copy()
        n = out.shape[axis]
        for s in range(1, min(k, n - 1) + 1):
            lo = [slice(None)] * 2
            hi = [slice(None)] * 2
            lo[axis], hi[axis] = slice(0, n - s), slice(s, n)
            acc[tuple(lo)] |= out[tuple(hi)]
            acc[tuple(hi)] |= out[tuple(lo)]
        out = acc
    return out


def boundary_mask(*label_maps: Optional[np.ndarray], k: int = 3) -> np.ndarray:
    """Pixels within ``k`` px (Chebyshev distance) of a label boundary of any of ``label_maps``.

    Ground-truth void pixels (255) count as a label of their own, so VOC's void bands (drawn along
    object outlines) lie inside the band.

    Example:
        >>> lab = np.zeros((1, 8), np.uint8); lab[0, 4:] = 1
        >>> boundary_mask(lab, k=1).astype(int).tolist()
        [[0, 0, 1, 1, 1, 1, 0, 0]]
    """
    maps = [m for m in label_maps if m is not None]
    if not maps:
        raise InputError("boundary_mask", expected="at least one label map", found="none")
    edge = np.zeros(maps[0].shape, bool)
    for m in maps:
        edge |= _label_boundaries(m)
    return _dilate(edge, int(k)) if k > 0 else edge


class _Accumulator:
    def __init__(self, num_classes: int, with_gt: bool) -> None:
        from fcn_trt.eval.metrics import ConfusionMatrix

        self.n = num_classes
        self.same = self.total = 0
        self.band_same = self.band_total = 0
        self.ab = ConfusionMatrix(num_classes, ignore_index=None)
        self.ga = ConfusionMatrix(num_classes) if with_gt else None
        self.gb = ConfusionMatrix(num_classes) if with_gt else None
        self.frames = 0

    def update(self, a: np.ndarray, b: np.ndarray, gt: Optional[np.ndarray], k: int) -> None:
        if a.shape != b.shape:
            raise InputError("labels of A and B", expected="the same shape", found=f"{a.shape} and {b.shape}")
        if gt is not None and gt.shape != a.shape:
            raise InputError("ground truth", expected=f"the labels' shape {a.shape}", found=f"{gt.shape}",
                             hint="ground truth must be at frame resolution")
        same = a == b
        band = boundary_mask(gt, a, k=k)
        self.same += int(same.sum())
        self.total += same.size
        self.band_same += int(same[band].sum())
        self.band_total += int(band.sum())
        self.ab.update(a, b)
        if gt is not None:
            assert self.ga is not None and self.gb is not None
            self.ga.update(gt, a)
            self.gb.update(gt, b)
        self.frames += 1


def _report(acc: _Accumulator, names: Sequence[str], k: int, budget: AccuracyBudget, model_a: str, model_b: str,
            prec_a: str, prec_b: str, notes: List[str]) -> ComparisonReport:
    if acc.total == 0:
        raise InputError("compare", expected="at least one frame", found="none")
    agreement = acc.same / acc.total
    band_frac = acc.band_total / acc.total
    band_agree = acc.band_same / acc.band_total if acc.band_total else 1.0
    interior_total = acc.total - acc.band_total
    interior_agree = (acc.same - acc.band_same) / interior_total if interior_total else 1.0
    disagree = acc.total - acc.same
    in_band = (acc.band_total - acc.band_same) / disagree if disagree else 0.0
    iou_ba = tuple(float(v) for v in iou_per_class(acc.ab.matrix))
    failures = []
    if agreement < budget.min_agreement:
        failures.append(f"agreement {100 * agreement:.3f} % < {100 * budget.min_agreement:.2f} %")
    miou_a = miou_b = drop = None
    iou_a: Tuple[float, ...] = ()
    iou_b: Tuple[float, ...] = ()
    delta: Tuple[float, ...] = ()
    if acc.ga is not None and acc.gb is not None and acc.ga.num_pixels > 0:
        sa, sb = acc.ga.scores(), acc.gb.scores()
        miou_a, miou_b = sa.mean_iu, sb.mean_iu
        drop = 100.0 * (miou_a - miou_b)
        iou_a, iou_b = sa.per_class_iu, sb.per_class_iu
        delta = tuple(100.0 * (b - a) for a, b in zip(iou_a, iou_b))
        if budget.max_miou_drop is not None and drop > budget.max_miou_drop:
            failures.append(f"mean-IU drop {drop:.2f} points > {budget.max_miou_drop:.2f}")
    elif budget.max_miou_drop is not None:
        notes.append("no ground truth: the mean-IU budget was not checked (pass a VOC root to --data)")
    return ComparisonReport(
        model_a=model_a, model_b=model_b, precision_a=prec_a, precision_b=prec_b, class_names=tuple(names),
        frames=acc.frames, pixels=acc.total, agreement=agreement, boundary_px=k, boundary_fraction=band_frac,
        boundary_agreement=band_agree, interior_agreement=interior_agree, boundary_error=1.0 - band_agree,
        disagreement_in_band=in_band, per_class_iou_b_vs_a=iou_ba, mean_iu_a=miou_a, mean_iu_b=miou_b,
        per_class_iou_a=tuple(iou_a), per_class_iou_b=tuple(iou_b), per_class_iou_delta=tuple(delta),
        miou_drop=drop, budget=budget, passed=not failures, failures=tuple(failures), notes=tuple(notes),
    )


def compare_labels(
    labels_a: Iterable[np.ndarray],
    labels_b: Iterable[np.ndarray],
    num_classes: int,
    ground_truth: Optional[Iterable[Optional[np.ndarray]]] = None,
    boundary_px: int = 3,
    budget: AccuracyBudget = DEFAULT_BUDGETS["fp32"],
    class_names: Optional[Sequence[str]] = None,
    model_a: str = "A",
    model_b: str = "B",
) -> ComparisonReport:
    """The report for label maps already computed (uint8 [H,W] each); see :func:`compare_models`."""
    acc = _Accumulator(num_classes, ground_truth is not None)
    gts = iter(ground_truth) if ground_truth is not None else None
    for a, b in zip(labels_a, labels_b):
        acc.update(np.asarray(a), np.asarray(b), next(gts) if gts is not None else None, boundary_px)
    names = tuple(class_names) if class_names else tuple(f"class_{i}" for i in range(num_classes))
    return _report(acc, names, boundary_px, budget, model_a, model_b, "", "", [])


def _open(model: ModelArg, options: Dict[str, Any]):
    """(segmenter, owned, name) for a path or an already open Segmenter-like object."""
    if hasattr(model, "run") and hasattr(model, "metadata"):
        return model, False, getattr(model, "model_path", type(model).__name__)
    from fcn_trt.segmenter import Segmenter

    return Segmenter(model, **options), True, str(model)


def compare_models(
    a: ModelArg,
    b: ModelArg,
    frames: Iterable[np.ndarray],
    labels: Optional[Iterable[Optional[np.ndarray]]] = None,
    *,
    boundary_px: int = 3,
    budget: Optional[AccuracyBudget] = None,
    backend_options: Optional[Dict[str, Any]] = None,
    show_progress: bool = False,
) -> ComparisonReport:
    """Run A (reference) and B on the same frames and measure how B's labels differ.

    Args:
        a, b: pipeline ``.onnx`` / engine paths, or open :class:`fcn_trt.Segmenter` objects (not
            closed here).
        frames: uint8 BGR frames ([H,W,3] each; sizes may differ between frames).
        labels: ground-truth label maps (uint8 [H,W], 255 = ignore), one per frame, or None.
        boundary_px: half-width ``k`` of the boundary band.
        budget: the gate; default from B's precision (:data:`DEFAULT_BUDGETS`).
        backend_options: passed to ``Segmenter(...)`` for paths (e.g. ``{"threads": 2}``).

    Returns a :class:`ComparisonReport` (it does not raise on failure: call ``.check()``).
    """
    if not isinstance(boundary_px, (int, np.integer)) or boundary_px < 0:
        raise ConfigError("boundary band width", expected="an integer >= 0 (pixels)", found=repr(boundary_px))
    options = dict(backend_options or {})
    seg_a, own_a, name_a = _open(a, options)
    try:
        seg_b, own_b, name_b = _open(b, options)
        try:
            meta_a, meta_b = seg_a.metadata, seg_b.metadata
            if meta_a.class_names != meta_b.class_names:
                raise ConfigError(
                    "class lists of A and B", expected="the same classes", found=f"{meta_a.num_classes} vs "
                    f"{meta_b.num_classes} classes ({list(meta_a.class_names)[:4]}... vs {list(meta_b.class_names)[:4]}...)",
                    hint="compare two precisions of the same network",
                )
            budget = budget or default_budget(meta_b.precision)
            notes = []
            if "fp16" in (meta_a.precision, meta_b.precision) and _on_cpu(seg_a, seg_b):
                notes.append("fp16 on ONNX Runtime CPU measures fp16 storage, not fp16 arithmetic (no fp16 Conv "
                             "kernel: ORT casts to fp32 around each node)")
            acc = _Accumulator(meta_a.num_classes, labels is not None)
            gts = iter(labels) if labels is not None else None
            for frame in progress(frames, desc="compare", enabled=show_progress):
                la = seg_a.run(frame).labels
                lb = seg_b.run(frame).labels
                gt = next(gts) if gts is not None else None
                if gts is not None and gt is None:
                    raise InputError("ground truth", expected="one label map per frame", found="fewer labels than frames")
                acc.update(la, lb, None if gt is None else np.asarray(gt), int(boundary_px))
            return _report(acc, meta_a.class_names, int(boundary_px), budget, name_a, name_b,
                           meta_a.precision, meta_b.precision, notes)
        finally:
            if own_b:
                seg_b.close()
    finally:
        if own_a:
            seg_a.close()


def _on_cpu(*segs) -> bool:
    for s in segs:
        try:
            d = s.backend.describe()
        except Exception:  # noqa: BLE001 - describe() is informative only
            continue
        if d.get("backend") == "onnxruntime" and "CUDA" not in d.get("device", ""):
            return True
    return False


# --- CLI ------------------------------------------------------------------------------------------


if not TYPE_CHECKING:  # names that moved to the command line (_deprecated.MOVED_NAMES), one release
    __getattr__ = moved_names(__name__)
