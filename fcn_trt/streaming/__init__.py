"""Frames in, results out, in real time: sources, the stream, rendering (layer L4).

* :mod:`~fcn_trt.streaming.sources`: cameras, files, folders, URLs, GStreamer -> :class:`Source`;
* :mod:`~fcn_trt.streaming.stream`: :class:`Stream` over :meth:`fcn_trt.Segmenter.submit` /
  :meth:`~fcn_trt.Segmenter.collect` (capture thread, newest-frame-wins, frames in flight);
* :mod:`~fcn_trt.streaming.drawing`: overlays, legend, FPS text, temporal smoothing, files -> files;
* :mod:`~fcn_trt.streaming.scenes`: the procedural moving-camera scenes behind the ``"synthetic"``
  source, the demo and the demo model's training data.

Example:
    >>> from fcn_trt.streaming import open_source, render        # doctest: +SKIP
    >>> with seg.stream(0) as frames:                             # doctest: +SKIP
    ...     for r in frames:
    ...         cv2.imshow("seg", render(r.frame, r.result))
"""

from .drawing import (
    RENDER_MODES,
    FpsMeter,
    LabelSmoother,
    SegmentedFile,
    SegmentFilesReport,
    draw_legend,
    draw_text,
    open_video_writer,
    render,
    segment_files,
    to_bgr,
)
from .sources import RetryPolicy, Source, open_source, to_input_format
from .stream import Stream, StreamResult

__all__ = [
    "Source", "RetryPolicy", "open_source", "to_input_format",
    "Stream", "StreamResult",
    "render", "draw_legend", "draw_text", "to_bgr", "FpsMeter", "LabelSmoother", "open_video_writer", "RENDER_MODES",
    "segment_files", "SegmentFilesReport", "SegmentedFile",
]
