"""Real-time segmentation of a camera, video, folder or any ``read() -> (ok, frame)`` object.

:func:`stream` (also :meth:`fcn_trt.Segmenter.stream`) runs three things at once:

* a **capture thread** reading the source into a bounded channel. For *live* sources (cameras,
  URLs, GStreamer) the channel holds one frame and the newest frame wins: stale frames are
  dropped and counted, so results never lag behind the camera (no backlog). For files and
  folders the channel is a blocking queue: every frame is processed, in order.
* **inference** through :meth:`Segmenter.submit` / :meth:`Segmenter.collect`: on an asynchronous
  backend (:class:`~fcn_trt.backends.base.AsyncBackend`, e.g. TensorRT) up to two frames are in
  flight; on a synchronous one a worker thread runs :meth:`Segmenter.run`, so inference overlaps
  capture and your loop's own work (drawing, display) on the previous result.
* **your loop**, which receives a :class:`StreamResult` per processed frame.

Shutdown is clean on ``break``, exceptions and Ctrl-C: threads are daemons driven by a stop
event, every wait has a timeout, and the source is released when the stream closes.

Example:
    >>> import fcn_trt
    >>> with fcn_trt.Segmenter("demo") as seg:                               # doctest: +SKIP
    ...     with seg.stream(0, width=1280, height=720, fourcc="MJPG") as frames:
    ...         for r in frames:
    ...             cv2.imshow("seg", r.result.overlay(r.frame))
    ...             print(f"age {r.age_ms:.0f} ms, dropped {r.dropped}")
    ...             if cv2.waitKey(1) == ord("q"):
    ...                 break
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import threading
import time
from typing import Any, Callable, Deque, Generator, Optional, Tuple

import numpy as np

from .._util import Closeable
from ..errors import ConfigError, SourceEndedError
from ..result import SegmentationResult
from .sources import RetryPolicy, Source, open_source

__all__ = ["StreamResult", "Stream", "stream"]

log = logging.getLogger(__name__)

_POLL_S = 0.05  # every wait is cut in slices this long, so stop events and Ctrl-C are seen fast


@dataclasses.dataclass(frozen=True)
class StreamResult:
    """One processed frame of a stream.

    Attributes:
        frame: the frame as the source delivered it (BGR uint8, or nv12 for nv12 pipelines).
        result: its :class:`~fcn_trt.SegmentationResult`.
        sequence: index of the frame among all frames the source delivered (0-based); gaps are
            dropped frames.
        capture_time: ``time.perf_counter()`` when the source returned the frame.
        age_ms: milliseconds from capture to result ready (the end-to-end latency).
        dropped: frames dropped so far in this stream (live sources only).
    """

    frame: np.ndarray
    result: SegmentationResult
    sequence: int
    capture_time: float
    age_ms: float
    dropped: int

    @property
    def labels(self) -> np.ndarray:
        return self.result.labels


class _Frame:
    __slots__ = ("sequence", "time", "frame")

    def __init__(self, sequence: int, t: float, frame: np.ndarray) -> None:
        self.sequence = sequence
        self.time = t
        self.frame = frame


_END = object()


class _Channel:
    """Capture -> inference hand-off: newest-wins slot (live) or bounded blocking FIFO (files)."""

    def __init__(self, latest: bool, maxsize: int) -> None:
        self._latest = latest
        self._maxsize = 1 if latest else max(1, maxsize)
        self._items: Deque[_Frame] = collections.deque()
        self._cond = threading.Condition()
        self._end: Optional[Tuple[str, Optional[BaseException]]] = None
        self.dropped = 0

    def put(self, item: _Frame, stop: threading.Event) -> bool:
        with self._cond:
            if self._latest:
                if self._items:
                    self._items.popleft()
                    self.dropped += 1
            else:
                while len(self._items) >= self._maxsize:
                    if stop.is_set():
                        return False
                    self._cond.wait(_POLL_S)
            self._items.append(item)
            self._cond.notify_all()
            return True

    def finish(self, reason: str, error: Optional[BaseException]) -> None:
        with self._cond:
            if self._end is None:
                self._end = (reason, error)
            self._cond.notify_all()

    @property
    def end(self) -> Optional[Tuple[str, Optional[BaseException]]]:
        return self._end

    def get(self, timeout: float) -> Any:
        """A frame, ``_END`` once the producer finished and the channel is empty, or None on timeout."""
        deadline = time.perf_counter() + timeout
        with self._cond:
            while not self._items and self._end is None:
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    return None
                self._cond.wait(min(remaining, _POLL_S))
            if self._items:
                item = self._items.popleft()
                self._cond.notify_all()
                return item
            return _END


def _capture_loop(source: Source, channel: _Channel, stop: threading.Event,
                  transform: Optional[Callable[[np.ndarray], np.ndarray]]) -> None:
    sequence = 0
    reason, error = "end of source", None  # type: Tuple[str, Optional[BaseException]]
    try:
        while not stop.is_set():
            frame = source.read()
            t = time.perf_counter()
            if frame is None:
                reason = "stopped" if stop.is_set() else "end of source"
                break
            if transform is not None:
                frame = transform(frame)
            if not channel.put(_Frame(sequence, t, frame), stop):
                reason = "stopped"
                break
            sequence += 1
        else:
            reason = "stopped"
    except SourceEndedError as e:
        reason, error = str(e), e
    except BaseException as e:  # noqa: BLE001 - handed to the consumer thread, which re-raises it
        reason, error = f"capture failed: {type(e).__name__}: {e}", e
    finally:
        channel.finish(reason, error)


# --- inference runners: submit(frame) -> handle, collect(handle) -> SegmentationResult ---------
class _Job:
    __slots__ = ("frame", "done", "result", "error")

    def __init__(self, frame: np.ndarray) -> None:
        self.frame = frame
        self.done = threading.Event()
        self.result: Optional[SegmentationResult] = None
        self.error: Optional[BaseException] = None


class _ThreadRunner:
    """Runs ``segmenter.run`` on a worker thread, so it overlaps the caller's own work."""

    def __init__(self, segmenter: Any, stop: threading.Event) -> None:
        self._seg = segmenter
        self._stop = stop
        self._jobs: Deque[_Job] = collections.deque()
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._work, name="fcn_trt-infer", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while not self._stop.is_set():
            with self._cond:
                if not self._jobs:
                    self._cond.wait(_POLL_S)
                    continue
                job = self._jobs.popleft()
            try:
                job.result = self._seg.run(job.frame)
            except BaseException as e:  # noqa: BLE001 - re-raised in the consumer thread
                job.error = e
            job.done.set()

    def submit(self, frame: np.ndarray) -> _Job:
        job = _Job(frame)
        with self._cond:
            self._jobs.append(job)
            self._cond.notify()
        return job

    def collect(self, job: _Job) -> SegmentationResult:
        while not job.done.wait(_POLL_S):
            if not self._thread.is_alive():
                raise RuntimeError("fcn_trt inference thread stopped")  # only after close()
        if job.error is not None:
            raise job.error
        assert job.result is not None
        return job.result

    def join(self, timeout: float) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()


class _SubmitRunner:
    """Keeps frames in flight on an asynchronous backend through ``Segmenter.submit``/``collect``."""

    def __init__(self, segmenter: Any) -> None:
        self.submit = segmenter.submit
        self.collect = segmenter.collect

    def join(self, timeout: float) -> bool:
        return True


# --- the stream ----------------------------------------------------------------------------------
class _State:
    """Everything the generator and the Stream share (the generator never references the Stream,
    so dropping the Stream after ``break`` finalises the generator at once)."""

    def __init__(self, source: Source, close_source: bool, join_timeout_s: float) -> None:
        self.source = source
        self.close_source = close_source
        self.join_timeout_s = join_timeout_s
        self.stop = threading.Event()
        self.channel: Optional[_Channel] = None
        self.capture: Optional[threading.Thread] = None
        self.runner: Any = None
        self.end_reason: Optional[str] = None
        self.processed = 0
        self.closed = False

    @property
    def dropped(self) -> int:
        return self.channel.dropped if self.channel is not None else 0

    def shutdown(self) -> None:
        """Stop threads, release the source. Idempotent; never blocks longer than one join timeout."""
        if self.closed:
            return
        self.closed = True
        self.stop.set()
        self.source.interrupt()  # wakes reconnect waits; read() returns None from now on
        if self.end_reason is None:
            self.end_reason = "closed"
        # both threads were told to stop at once: they wind down together, against one deadline
        deadline = time.perf_counter() + self.join_timeout_s
        capture_done = True
        if self.capture is not None:
            self.capture.join(self.join_timeout_s)
            capture_done = not self.capture.is_alive()
            if not capture_done:
                log.warning("%s: read() still blocked after %.1f s; the capture thread (a daemon) will exit when it "
                            "returns", self.source.name, self.join_timeout_s)
        if self.runner is not None and not self.runner.join(max(0.0, deadline - time.perf_counter())):
            log.warning("inference still running after %.1f s; its daemon thread exits when it finishes",
                        self.join_timeout_s)
        if self.close_source:
            if capture_done:
                self.source.close()
            else:  # never release a capture another thread is reading from: let that thread do it
                threading.Thread(target=_close_after, args=(self.capture, self.source), daemon=True).start()


def _close_after(thread: threading.Thread, source: Source) -> None:
    thread.join()
    source.close()


def _run(state: _State, segmenter: Any, live: bool, queue_size: int, in_flight: int, max_frames: Optional[int],
         on_source_error: str, transform: Optional[Callable[[np.ndarray], np.ndarray]],
         stall_timeout_s: Optional[float]) -> Generator[StreamResult, None, None]:
    channel = state.channel = _Channel(latest=live, maxsize=queue_size)
    pending: Deque[Tuple[_Frame, Any]] = collections.deque()
    done = False
    try:
        if segmenter.asynchronous:
            state.runner = _SubmitRunner(segmenter)
        else:
            state.runner = _ThreadRunner(segmenter, state.stop)
        runner = state.runner
        state.capture = threading.Thread(target=_capture_loop, args=(state.source, channel, state.stop, transform),
                                         name="fcn_trt-capture", daemon=True)
        state.capture.start()

        last_frame = [time.perf_counter()]

        def top_up(block: bool) -> bool:
            """Submit frames until ``in_flight`` are pending; False once the source has ended."""
            while len(pending) < in_flight:
                item = channel.get(_POLL_S if block and not pending else 0.0)
                if item is None:
                    if pending or not block:
                        return True
                    if stall_timeout_s is not None and time.perf_counter() - last_frame[0] > stall_timeout_s:
                        stalled = SourceEndedError(
                            state.source.name, expected=f"a frame at least every {stall_timeout_s:g} s",
                            found=f"no frame for {time.perf_counter() - last_frame[0]:.1f} s (read() is blocked)",
                            hint="check the camera/stream; pass stall_timeout_s=None to wait forever",
                        )
                        channel.finish(str(stalled), stalled)
                        state.source.interrupt()
                        continue
                    continue  # nothing in flight: keep waiting (in slices, so Ctrl-C is seen)
                if item is _END:
                    return False
                last_frame[0] = time.perf_counter()
                pending.append((item, runner.submit(item.frame)))
            return True

        while True:
            if not done:
                done = not top_up(block=True)
            if not pending:
                break
            item, handle = pending.popleft()
            result = runner.collect(handle)
            t_ready = time.perf_counter()
            if not done and (max_frames is None or state.processed + len(pending) + 1 < max_frames):
                done = not top_up(block=False)  # start the next frame before the caller draws this one
            state.processed += 1
            yield StreamResult(
                frame=item.frame, result=result, sequence=item.sequence, capture_time=item.time,
                age_ms=(t_ready - item.time) * 1e3, dropped=channel.dropped,
            )
            if max_frames is not None and state.processed >= max_frames:
                state.end_reason = "max_frames reached"
                return
        end = channel.end
        reason, error = end if end is not None else ("end of source", None)
        state.end_reason = reason
        if error is not None:
            if isinstance(error, SourceEndedError):
                if on_source_error == "raise":
                    raise error
                log.warning("stream ended: %s", reason)
            else:
                raise error
    finally:
        state.shutdown()


class Stream(Closeable):
    """An iterator of :class:`StreamResult`; also a context manager. Made by :func:`stream`.

    Attributes (live, readable while iterating and after the end):
        source: the :class:`~fcn_trt.sources.Source`.
        live: whether frames are sampled (newest wins) or all processed in order.
        end_reason: ``None`` while running; then ``"end of source"``, ``"max_frames reached"``,
            ``"closed"`` or the message of the error that ended the source.
    """

    def __init__(self, segmenter: Any, source: Source, *, live: bool, queue_size: int, in_flight: int,
                 max_frames: Optional[int], on_source_error: str, close_source: bool, join_timeout_s: float,
                 transform: Optional[Callable[[np.ndarray], np.ndarray]] = None,
                 stall_timeout_s: Optional[float] = None) -> None:
        self.source = source
        self.live = live
        self.in_flight = in_flight
        self._state = _State(source, close_source, join_timeout_s)
        self._gen = _run(self._state, segmenter, live, queue_size, in_flight, max_frames, on_source_error, transform,
                         stall_timeout_s)

    def __iter__(self) -> "Stream":
        return self

    def __next__(self) -> StreamResult:
        return next(self._gen)

    def close(self) -> None:
        """Stop capture and inference, join the threads, release the source. Idempotent."""
        self._gen.close()
        self._state.shutdown()

    @property
    def end_reason(self) -> Optional[str]:
        return self._state.end_reason

    @property
    def dropped(self) -> int:
        """Frames dropped so far because a newer one arrived first (live sources)."""
        return self._state.dropped

    @property
    def processed(self) -> int:
        """Results delivered so far."""
        return self._state.processed

    @property
    def closed(self) -> bool:
        return self._state.closed

    def __repr__(self) -> str:
        return (f"Stream({self.source.name!r}, live={self.live}, processed={self.processed}, dropped={self.dropped}, "
                f"end_reason={self.end_reason!r})")


def stream(
    segmenter: Any,
    source: Any,
    *,
    live: Optional[bool] = None,
    retry: Optional[RetryPolicy] = None,
    max_frames: Optional[int] = None,
    queue_size: int = 4,
    in_flight: Optional[int] = None,
    on_source_error: str = "raise",
    close_source: bool = True,
    join_timeout_s: float = 1.0,
    transform: Optional[Callable[[np.ndarray], np.ndarray]] = None,
    stall_timeout_s: Optional[float] = 10.0,
    **source_options: Any,
) -> Stream:
    """Segment every frame of ``source`` (files, folders) or the newest one (live sources).

    Args:
        segmenter: an open :class:`fcn_trt.Segmenter`.
        source: anything :func:`fcn_trt.sources.open_source` accepts (camera index, ``/dev/videoN``,
            file, folder, glob, URL, GStreamer pipeline, ``read()`` object, list of frames, Source).
        live: override the source's kind: True = newest frame wins (drops counted), False = every frame.
        retry: reconnect policy for live sources (default: a dead source ends the stream).
        max_frames: stop after this many results.
        queue_size: frames buffered between capture and inference for non-live sources.
        in_flight: frames submitted before the oldest result is collected (default 2 on
            asynchronous backends (TensorRT) and for non-live sources, else 1 for the lowest latency).
        on_source_error: ``"raise"`` (default) raises :class:`~fcn_trt.errors.SourceEndedError` after
            the last result when a live source dies; ``"stop"`` ends the iteration and leaves the
            message in :attr:`Stream.end_reason`.
        close_source: release the source when the stream ends (a ``read()`` object you passed in is
            never released; only the wrapper is closed).
        join_timeout_s: how long shutdown waits for each thread.
        stall_timeout_s: a live source whose ``read()`` delivers nothing for this long (a camera
            hung in its driver) ends the stream like a dead source (``None``: wait forever; files
            and folders never stall).
        transform: applied to each frame on the capture thread, e.g.
            ``functools.partial(fcn_trt.sources.to_input_format, input_format="nv12")`` to feed a
            BGR camera to an nv12 model; :attr:`StreamResult.frame` is the transformed frame.
        **source_options: ``width``, ``height``, ``fps``, ``fourcc``, ``timeout_s`` for :func:`open_source`.

    Raises:
        SourceOpenError: at once, if the source cannot be opened.
    """
    if on_source_error not in ("raise", "stop"):
        raise ConfigError("on_source_error", expected="'raise' or 'stop'", found=repr(on_source_error))
    if max_frames is not None and (isinstance(max_frames, bool) or not isinstance(max_frames, int) or max_frames < 1):
        raise ConfigError("max_frames", expected="a positive integer or None", found=repr(max_frames))
    if stall_timeout_s is not None and not stall_timeout_s > 0:
        raise ConfigError("stall_timeout_s", expected="a positive number of seconds or None", found=repr(stall_timeout_s))
    if transform is not None and not callable(transform):
        raise ConfigError("transform", expected="a function frame -> frame", found=type(transform).__name__)
    if isinstance(queue_size, bool) or not isinstance(queue_size, int) or queue_size < 1:
        raise ConfigError("queue_size", expected="a positive integer", found=repr(queue_size))
    if in_flight is not None and (isinstance(in_flight, bool) or not isinstance(in_flight, int) or not 1 <= in_flight <= 2):
        raise ConfigError("in_flight", expected="1 or 2", found=repr(in_flight))
    asynchronous = segmenter.asynchronous  # raises ClosedError on a closed Segmenter, before the camera is opened
    src = open_source(source, live=live, retry=retry, **source_options)
    is_live = src.live if live is None else bool(live)
    if in_flight is None:
        in_flight = 2 if (asynchronous or not is_live) else 1
    return Stream(segmenter, src, live=is_live, queue_size=queue_size, in_flight=in_flight, max_frames=max_frames,
                  on_source_error=on_source_error, close_source=close_source, join_timeout_s=join_timeout_s,
                  transform=transform, stall_timeout_s=stall_timeout_s if is_live else None)
