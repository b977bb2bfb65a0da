"""Frame sources from one spec: cameras, video files, image folders, URLs, GStreamer pipelines.

:func:`open_source` turns whatever the user has into a :class:`Source` with one method that
matters, :meth:`Source.read`, which returns the next BGR frame, ``None`` at the normal end of a
file or folder, or raises :class:`~fcn_trt.errors.SourceEndedError` when a live source dies (after
reconnecting, if a :class:`RetryPolicy` allows it).

======================================  =========================================  =====
spec                                    opened with                                live
======================================  =========================================  =====
``0``, ``"0"``, ``"/dev/video2"``       ``cv2.VideoCapture`` (V4L2 on Linux)        yes
``"rtsp://..."``, ``"http(s)://..."``   ``cv2.VideoCapture`` (FFmpeg)               yes
``"... ! appsink"``                     ``cv2.VideoCapture`` (GStreamer)            yes
``"clip.mp4"`` (any existing file)      ``cv2.VideoCapture`` or ``cv2.imread``      no
``"frames/"``, ``"frames/*.png"``       ``cv2.imread``, sorted by name              no
``"synthetic"``, ``"synthetic:SEED"``   :mod:`fcn_trt.scenes` moving camera (30 fps) yes
an object with ``read() -> (ok, img)``  itself (``cv2.VideoCapture``, a fake)       yes [#]_
a list/iterator of frames               itself (``None`` in it: FrameTypeError)     no
======================================  =========================================  =====

.. [#] no for a ``cv2.VideoCapture`` of a file (it reports a frame count): every frame, in order.

``live`` sources are sampled (the newest frame wins in :func:`fcn_trt.stream.stream`); other
sources deliver every frame in order. Pass ``live=`` to override.

Example:
    >>> src = open_source("frames/*.png")                          # doctest: +SKIP
    >>> with src:                                                   # doctest: +SKIP
    ...     frame = src.read()                                      # None at the end
    >>> jetson_csi_pipeline(sensor_id=0, width=1280, height=720, fps=30)[:37]
    'nvarguscamerasrc sensor-id=0 ! video/'
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from .._imageio import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, image_files, is_image, read_image
from .._imports import require_cv2
from .._util import Closeable
from ..errors import (
    BackendUnavailableError, ConfigError, FcnTrtError, FrameTypeError, SourceEndedError, SourceOpenError,
)

__all__ = [
    "read_image",
    "Source",
    "RetryPolicy",
    "open_source",
    "gstreamer_available",
    "require_gstreamer",
    "gst_pipeline_reads_file",
    "missing_gst_elements",
    "jetson_csi_pipeline",
    "rtsp_pipeline",
    "to_input_format",
    "IMAGE_EXTENSIONS",
    "VIDEO_EXTENSIONS",
]

log = logging.getLogger(__name__)

_URL = re.compile(r"^(rtsp|rtsps|rtmp|http|https|udp|tcp)://", re.IGNORECASE)
_DEV_VIDEO = re.compile(r"^/dev/video(\d+)$")


_cv2 = functools.partial(require_cv2, "video sources")


def gstreamer_available() -> bool:
    """Whether the installed OpenCV was built with GStreamer (``cv2.getBuildInformation()``)."""
    try:
        info = _cv2().getBuildInformation()
    except BackendUnavailableError:
        return False
    for line in info.splitlines():
        if line.strip().startswith("GStreamer:"):
            return "YES" in line.split(":", 1)[1].upper()
    return False


def require_gstreamer() -> None:
    """Raise :class:`~fcn_trt.errors.SourceOpenError` unless this cv2 was built with GStreamer."""
    if gstreamer_available():
        return
    cv2 = _cv2()
    where = os.path.dirname(getattr(cv2, "__file__", "") or "") or "?"
    raise SourceOpenError(
        "GStreamer pipeline", expected="an OpenCV built with GStreamer",
        found="cv2 %s from %s says GStreamer: NO" % (getattr(cv2, "__version__", "?"), where),
        hint="pip's opencv-python(-headless) wheels never have GStreamer, and when installed they shadow a system "
             "OpenCV that has it: `pip uninstall opencv-python-headless opencv-python`, then use the system one "
             "(Debian/Ubuntu: apt install python3-opencv; Jetson: JetPack's) from a venv made with "
             "`python3 -m venv --system-site-packages`",
    )


_GST_FILE_SOURCES = ("filesrc", "multifilesrc", "splitmuxsrc")


def _gst_elements(pipeline: str) -> List[str]:
    """Element factory names of a gst-launch pipeline description (caps and properties skipped)."""
    names = []
    for part in pipeline.split("!"):
        words = part.strip().split()
        if not words:
            continue
        first = words[0].rstrip(",")
        if "/" in first or "=" in first or first.startswith(("(", "\"", "'")) or first.endswith("."):
            continue  # caps ("video/x-raw, ..."), a property, a quoted string, or a pad reference ("t.")
        names.append(first)
    return names


def gst_pipeline_reads_file(pipeline: str) -> bool:
    """Whether a pipeline description reads a file (``filesrc``, ``uridecodebin uri=file://...``).

    Example:
        >>> gst_pipeline_reads_file("filesrc location=a.mp4 ! decodebin ! videoconvert ! appsink")
        True
        >>> gst_pipeline_reads_file("videotestsrc ! videoconvert ! appsink")
        False
    """
    elements = _gst_elements(pipeline)
    if any(e in _GST_FILE_SOURCES for e in elements):
        return True
    return bool(re.search(r"\buri\s*=\s*[\"']?file://", pipeline))


def _no_drop(pipeline: str) -> str:
    """``appsink drop=true`` throws away frames the reader has not taken yet: fine for a camera (the
    newest frame wins), a loss for a file (88 of 90 frames measured). Files keep every frame."""
    fixed = re.sub(r"\bdrop\s*=\s*(true|1|yes)\b", "drop=false", pipeline, flags=re.IGNORECASE)
    if fixed != pipeline:
        log.warning("GStreamer pipeline reads a file: appsink drop=true changed to drop=false so that no frame is lost")
    return fixed


def missing_gst_elements(pipeline: str) -> List[str]:
    """The element names of ``pipeline`` that this machine's GStreamer does not have (``gst-inspect-1.0
    --exists``); empty when all exist or when gst-inspect-1.0 is not installed."""
    import shutil
    import subprocess

    inspect = shutil.which("gst-inspect-1.0")
    if inspect is None:
        return []
    missing = []
    for name in dict.fromkeys(_gst_elements(pipeline)):
        try:
            if subprocess.run([inspect, "--exists", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=10).returncode != 0:
                missing.append(name)
        except (OSError, subprocess.TimeoutExpired):
            return []
    return missing


def jetson_csi_pipeline(
    sensor_id: int = 0, width: int = 1280, height: int = 720, fps: int = 30, flip: int = 0, output: str = "bgr"
) -> str:
    """GStreamer pipeline for a Jetson CSI camera (``nvarguscamerasrc``), newest frame only.

    ``output="bgr"`` gives HxWx3 BGR frames; ``"nv12"`` gives the (H*3/2)xW NV12 frames that
    ``nv12`` pipelines take directly (no colour conversion on the CPU).
    """
    if output not in ("bgr", "nv12"):
        raise ConfigError("jetson_csi_pipeline output", expected="'bgr' or 'nv12'", found=repr(output))
    head = (
        f"nvarguscamerasrc sensor-id={int(sensor_id)} ! "
        f"video/x-raw(memory:NVMM), width={int(width)}, height={int(height)}, framerate={int(fps)}/1, format=NV12 ! "
        f"nvvidconv flip-method={int(flip)} ! "
    )
    if output == "nv12":
        body = f"video/x-raw, width={int(width)}, height={int(height)}, format=NV12 ! "
    else:
        body = f"video/x-raw, width={int(width)}, height={int(height)}, format=BGRx ! videoconvert ! video/x-raw, format=BGR ! "
    return head + body + "appsink drop=true max-buffers=1 sync=false"


def rtsp_pipeline(url: str, latency_ms: int = 0, codec: str = "h264", jetson: bool = False) -> str:
    """Low-latency GStreamer pipeline for an RTSP camera: no jitter buffer, newest frame only.

    ``jetson=True`` decodes with the hardware decoder (``nvv4l2decoder``).
    """
    if codec not in ("h264", "h265"):
        raise ConfigError("rtsp_pipeline codec", expected="'h264' or 'h265'", found=repr(codec))
    depay = "rtph264depay ! h264parse" if codec == "h264" else "rtph265depay ! h265parse"
    if jetson:
        decode = "nvv4l2decoder ! nvvidconv ! video/x-raw, format=BGRx ! videoconvert"
    else:
        decode = ("avdec_h264" if codec == "h264" else "avdec_h265") + " ! videoconvert"
    return (
        f"rtspsrc location={url} latency={int(latency_ms)} drop-on-latency=true ! {depay} ! {decode} ! "
        "video/x-raw, format=BGR ! appsink drop=true max-buffers=1 sync=false"
    )


def to_input_format(frame: np.ndarray, input_format: str) -> np.ndarray:
    """A BGR HxWx3 frame (what OpenCV sources give) in a model's input format: ``bgr`` (unchanged),
    ``rgb``, or ``nv12`` ((H*3/2)xW: Y plane, then interleaved UV; H and W must be even)."""
    if input_format == "bgr":
        return frame
    cv2 = _cv2()
    if input_format == "rgb":
        return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    if input_format != "nv12":
        raise ConfigError("input_format", expected="'bgr', 'rgb' or 'nv12'", found=repr(input_format))
    h, w = frame.shape[:2]
    if h % 2 or w % 2:
        raise ConfigError("frame size for nv12", expected="even height and width", found=f"{h}x{w}",
                          hint="crop or resize the frame to even dimensions")
    i420 = cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420)  # Y, then U plane, then V plane
    out = np.empty_like(i420)
    out[:h] = i420[:h]
    quarter = (h // 2) * (w // 2)
    uv = out[h:].reshape(-1)
    chroma = i420[h:].reshape(-1)
    uv[0::2] = chroma[:quarter]
    uv[1::2] = chroma[quarter:]
    return out


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """How a live source reconnects after it stops delivering frames.

    After a failed read the source waits ``delay_s``, reopens (or re-reads) and tries again; each
    further failure multiplies the delay by ``backoff`` (capped at ``max_delay_s``). After
    ``max_retries`` consecutive failures it gives up with :class:`~fcn_trt.errors.SourceEndedError`.
    A successful frame resets the count.

    Example:
        >>> list(RetryPolicy(max_retries=3, delay_s=0.1, backoff=2.0).delays())
        [0.1, 0.2, 0.4]
    """

    max_retries: int = 5
    delay_s: float = 0.5
    backoff: float = 2.0
    max_delay_s: float = 5.0

    def __post_init__(self) -> None:
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int) or self.max_retries < 0:
            raise ConfigError("RetryPolicy.max_retries", expected="an integer >= 0", found=repr(self.max_retries))
        if not (self.delay_s >= 0 and self.max_delay_s >= 0 and self.backoff >= 1.0):
            raise ConfigError(
                "RetryPolicy", expected="delay_s >= 0, max_delay_s >= 0 and backoff >= 1",
                found=f"delay_s={self.delay_s!r}, max_delay_s={self.max_delay_s!r}, backoff={self.backoff!r}",
            )

    def delays(self) -> Iterator[float]:
        """The wait before each retry, in seconds."""
        d = float(self.delay_s)
        for _ in range(self.max_retries):
            yield min(d, float(self.max_delay_s))
            d *= float(self.backoff)


# --- readers: objects with read() -> (ok, frame) and release() ---------------------------------
class _ImageListReader:
    def __init__(self, paths: Sequence[str]) -> None:
        self._paths = list(paths)
        self._i = 0

    def read(self) -> Tuple[bool, Optional[np.ndarray]]:
        cv2 = _cv2()
        while self._i < len(self._paths):
            path = self._paths[self._i]
            self._i += 1
            img = cv2.imread(path, cv2.IMREAD_COLOR)
            if img is not None:
                return True, img
            log.warning("skipping unreadable image %s", path)
        return False, None

    def release(self) -> None:
        self._i = len(self._paths)


class _IterReader:
    def __init__(self, frames: Iterable[np.ndarray]) -> None:
        self._it: Optional[Iterator[np.ndarray]] = iter(frames)
        self._i = 0

    def read(self) -> Tuple[bool, Optional[np.ndarray]]:
        if self._it is None:
            return False, None
        try:
            frame = next(self._it)
        except StopIteration:
            self._it = None
            return False, None
        if frame is None:  # not the end of the list: a hole in it (a failed read upstream)
            raise FrameTypeError(
                "frames[%d]" % self._i, expected="a numpy array (every item of a list of frames)", found="None",
                hint="drop failed reads before streaming, e.g. [f for f in frames if f is not None]",
            )
        self._i += 1
        return True, frame

    def release(self) -> None:
        it, self._it = self._it, None
        close = getattr(it, "close", None)
        if callable(close):
            close()


class _SyntheticCamera:
    """A live camera over a :func:`fcn_trt.scenes.generate_clip` moving-camera clip, paced at ``fps``.

    The clip (``loop_frames`` long) is rendered on its first pass, then replayed forwards and
    backwards from memory, so a slow CPU still delivers ``fps`` after the first pass.
    """

    def __init__(self, seed: int, size: Tuple[int, int], fps: float, loop_frames: int = 48) -> None:
        from .scenes import generate_clip

        self._clip: Optional[Iterator[Any]] = generate_clip(seed, loop_frames, size, fps=fps)
        self._cache: List[np.ndarray] = []
        self._loop = loop_frames
        self._i = 0
        self._period = 1.0 / fps
        self._next = time.perf_counter()

    def _frame(self) -> np.ndarray:
        if self._clip is not None and len(self._cache) < self._loop:
            self._cache.append(next(self._clip).image)
            if len(self._cache) == self._loop:
                self._clip = None
                self._i = self._loop  # continue backwards from the last frame
            return self._cache[-1]
        n = len(self._cache)
        k = self._i % (2 * n - 2) if n > 1 else 0
        self._i += 1
        return self._cache[k if k < n else 2 * n - 2 - k]

    def read(self) -> Tuple[bool, Optional[np.ndarray]]:
        frame = self._frame()
        self._next += self._period
        wait = self._next - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        else:
            self._next = time.perf_counter()
        return True, frame

    def release(self) -> None:
        clip, self._clip = self._clip, None
        if clip is not None:
            clip.close()  # type: ignore[attr-defined]
        self._cache = []


def _configure_capture(cap: Any, width: Optional[int], height: Optional[int], fps: Optional[float],
                       fourcc: Optional[str]) -> None:
    cv2 = _cv2()
    if fourcc:  # V4L2 wants the pixel format before the size
        if len(fourcc) != 4:
            raise ConfigError("fourcc", expected="a 4-character code such as 'MJPG' or 'YUYV'", found=repr(fourcc))
        cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*fourcc))
    if width:
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, int(width))
    if height:
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, int(height))
    if fps:
        cap.set(cv2.CAP_PROP_FPS, float(fps))
    cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # keep the driver's queue short: latency over smoothness


def _camera_opener(index_or_path: Union[int, str], width: Optional[int], height: Optional[int],
                   fps: Optional[float], fourcc: Optional[str]) -> Callable[[], Any]:
    def open_camera() -> Any:
        cv2 = _cv2()
        api = cv2.CAP_V4L2 if sys.platform.startswith("linux") else cv2.CAP_ANY
        cap = cv2.VideoCapture(index_or_path, api)
        if cap.isOpened():
            _configure_capture(cap, width, height, fps, fourcc)
        return cap

    return open_camera


def _url_opener(url: str, timeout_s: float) -> Callable[[], Any]:
    def open_url() -> Any:
        cv2 = _cv2()
        ms = int(timeout_s * 1000)
        cap = cv2.VideoCapture(url, cv2.CAP_FFMPEG, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms])
        if cap.isOpened():
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        return cap

    return open_url


def _gst_opener(pipeline: str) -> Callable[[], Any]:
    def open_gst() -> Any:
        cv2 = _cv2()
        return cv2.VideoCapture(pipeline, cv2.CAP_GSTREAMER)

    return open_gst


def _file_opener(path: str) -> Callable[[], Any]:
    def open_file() -> Any:
        return _cv2().VideoCapture(path)

    return open_file


class Source(Closeable):
    """A frame source with one reader; :meth:`read` gives the next frame or ``None`` at the end.

    Build one with :func:`open_source`. Thread-safety: one thread reads; any thread may call
    :meth:`close` (it interrupts reconnect waits).

    Attributes:
        name: what was opened, for messages (``"camera 0"``, ``"clip.mp4"``...).
        live: whether frames arrive in real time (sample the newest) or on demand (use every frame).
        fps: the source's nominal frame rate, if it reports one.
        finite: whether the source has a natural end (file, folder, list): reaching it ends the
            stream normally even when it is sampled live (unless a retry policy reopens it: a loop).
        frames_read: frames delivered so far.
        reconnects: successful reconnections so far.
    """

    def __init__(self, reader: Any, name: str, live: bool, *, reopen: Optional[Callable[[], Any]] = None,
                 retry: Optional[RetryPolicy] = None, owns_reader: bool = True, fps: Optional[float] = None,
                 finite: bool = False) -> None:
        if not callable(getattr(reader, "read", None)):
            raise ConfigError("source reader", expected="an object with read() -> (ok, frame)", found=type(reader).__name__)
        self._reader: Any = reader
        self._reopen = reopen
        self._owns = owns_reader
        self.name = name
        self.live = bool(live)
        self.retry = retry
        self.fps = fps
        self.finite = finite
        self.frames_read = 0
        self.reconnects = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()

    # --- lifetime -------------------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self._stop.is_set() and self._reader is None

    def interrupt(self) -> None:
        """Make :meth:`read` return ``None`` from now on and wake a reconnect wait (any thread)."""
        self._stop.set()

    def close(self) -> None:
        """Release the reader (``release()``) if this Source owns it. Idempotent; wakes retry waits."""
        self._stop.set()
        with self._lock:
            reader, self._reader = self._reader, None
        if reader is not None and self._owns:
            release = getattr(reader, "release", None)
            if callable(release):
                try:
                    release()
                except Exception as e:  # a dying camera may fail to release; closing must not raise
                    log.warning("releasing %s failed: %s", self.name, e)

    def __repr__(self) -> str:
        return f"Source({self.name!r}, live={self.live})"

    # --- reading --------------------------------------------------------------------------------
    def _read_once(self) -> Tuple[Optional[np.ndarray], str]:
        reader = self._reader
        if reader is None:
            return None, "closed"
        try:
            ok, frame = reader.read()
        except FcnTrtError:  # a typed mistake (None inside a list of frames): not a dying device
            raise
        except Exception as e:  # any reader (cv2, user objects) may raise when the device goes away
            return None, f"read() raised {type(e).__name__}: {e}"
        if not ok or frame is None:
            return None, "read() returned no frame"
        if isinstance(frame, np.ndarray) and frame.size == 0:
            return None, "read() returned an empty frame"
        return frame, ""

    def _reconnect(self) -> None:
        if self._reopen is None:
            return
        with self._lock:
            old, self._reader = self._reader, None
        if old is not None:
            try:
                old.release()
            except Exception:  # noqa: BLE001 - the old handle is dead anyway
                pass
        reader = self._reopen()
        opened = getattr(reader, "isOpened", None)
        if callable(opened) and not opened():
            reader.release()
            return
        with self._lock:
            if self._stop.is_set():
                reader.release()
            else:
                self._reader = reader

    def read(self) -> Optional[np.ndarray]:
        """The next frame; ``None`` at the end of a file/folder or after :meth:`close`.

        Raises:
            SourceEndedError: a live source stopped delivering frames (after the retry policy).
        """
        if self._stop.is_set():
            return None
        frame, reason = self._read_once()
        if frame is not None:
            self.frames_read += 1
            return frame
        if self._stop.is_set():
            return None
        if not self.live or (self.finite and not (self.retry and self._reopen)):
            return None  # end of a file, folder or list (a live-sampled file with a retry policy loops)
        attempts = 0
        for delay in (self.retry.delays() if self.retry else ()):
            attempts += 1
            log.warning("%s: %s; reconnecting in %.2f s (attempt %d)", self.name, reason, delay, attempts)
            if self._stop.wait(delay):
                return None
            try:
                self._reconnect()
            except Exception as e:  # noqa: BLE001 - reported in the final error
                reason = f"reconnect raised {type(e).__name__}: {e}"
                continue
            frame, reason = self._read_once()
            if frame is not None:
                self.reconnects += 1
                self.frames_read += 1
                return frame
            if self._stop.is_set():
                return None
        raise SourceEndedError(
            self.name, expected="frames from a live source",
            found=f"{reason} after {self.frames_read} frames" + (f" and {attempts} reconnect attempts" if attempts else ""),
            hint="check the camera/cable/network" + ("" if self.retry else ", or pass retry=RetryPolicy(...) to reconnect"),
        )


# --- open_source --------------------------------------------------------------------------------
def _quiet_open(opener: Callable[[], Any]) -> Any:
    """Run ``opener`` with OpenCV's own warnings muted: a failure is reported once, as a SourceOpenError."""
    cv2 = _cv2()
    logging_api = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging_api is None:
        return opener()
    level = logging_api.getLogLevel()
    logging_api.setLogLevel(min(level, logging_api.LOG_LEVEL_ERROR))
    try:
        return opener()
    finally:
        logging_api.setLogLevel(level)


def _open_capture(opener: Callable[[], Any], name: str, hint: str) -> Any:
    cap = _quiet_open(opener)
    if not cap.isOpened():
        cap.release()
        raise SourceOpenError(name, expected="a source OpenCV can open", found="cv2.VideoCapture could not open it", hint=hint)
    return cap


def _capture_fps(cap: Any) -> Optional[float]:
    try:
        fps = float(cap.get(_cv2().CAP_PROP_FPS))
    except Exception:  # noqa: BLE001 - fake readers have no get()
        return None
    return fps if fps > 0 else None


def _capture_frame_count(cap: Any) -> int:
    """Frames of a file-backed ``cv2.VideoCapture`` (cameras and streams report 0 or -1); 0 if unknown."""
    get = getattr(cap, "get", None)
    if not callable(get):
        return 0
    try:
        count = float(get(_cv2().CAP_PROP_FRAME_COUNT))
    except Exception:  # noqa: BLE001 - a user object's get() may take other arguments
        return 0
    return int(count) if 0 < count < 2 ** 31 else 0


def _open_string(spec: str, live: Optional[bool], retry: Optional[RetryPolicy], width: Optional[int],
                 height: Optional[int], fps: Optional[float], fourcc: Optional[str], timeout_s: float) -> Source:
    text = spec.strip()
    if text.isdigit() or _DEV_VIDEO.match(text):
        target: Union[int, str] = int(text) if text.isdigit() else text
        name = f"camera {text}"
        opener = _camera_opener(target, width, height, fps, fourcc)
        cap = _open_capture(opener, name, "check the index/device (ls /dev/video*), that no other program uses it, "
                                          "and that the user is in the 'video' group")
        return Source(cap, name, live if live is not None else True, reopen=opener, retry=retry, fps=_capture_fps(cap))
    if text == "synthetic" or text.startswith("synthetic:"):
        seed = text.partition(":")[2]
        if seed and not seed.isdigit():
            raise ConfigError("synthetic source", expected="'synthetic' or 'synthetic:SEED'", found=repr(text))
        cam_fps = float(fps or 30.0)
        reader = _SyntheticCamera(int(seed or 0), (int(height or 240), int(width or 320)), cam_fps)
        return Source(reader, f"synthetic scene {int(seed or 0)}", live if live is not None else True, retry=retry, fps=cam_fps)
    if _URL.match(text):
        name = re.sub(r"//[^/@]*@", "//***@", text)  # never log credentials
        opener = _url_opener(text, timeout_s)
        cap = _open_capture(opener, name, "check the URL, credentials and network; for RTSP try rtsp_pipeline(url) "
                                          "with a GStreamer-enabled OpenCV")
        return Source(cap, name, live if live is not None else True, reopen=opener, retry=retry, fps=_capture_fps(cap))
    if "!" in text:
        require_gstreamer()
        from_file = gst_pipeline_reads_file(text)
        if from_file:
            text = _no_drop(text)
        opener = _gst_opener(text)
        name = "GStreamer pipeline" + (" (file)" if from_file else "")
        cap = _quiet_open(opener)
        if not cap.isOpened():
            cap.release()
            missing = missing_gst_elements(text)
            raise SourceOpenError(
                name, expected="a pipeline GStreamer can start",
                found=("missing element%s %s" % ("s" if len(missing) > 1 else "", ", ".join(missing))) if missing
                else "cv2.VideoCapture could not open it",
                hint=("install the GStreamer plugin package that has it (gst-inspect-1.0 NAME tells when it is there)"
                      if missing else "test it with gst-launch-1.0 (replace appsink by fakesink)"),
            )
        if from_file:  # a file through GStreamer: every frame, in order, then the end
            return Source(cap, name, bool(live), retry=retry, fps=_capture_fps(cap), finite=True)
        return Source(cap, name, live if live is not None else True, reopen=opener, retry=retry,
                      fps=_capture_fps(cap))
    path = Path(os.path.expanduser(text))
    if path.is_dir() or any(c in text for c in "*?[") or (path.is_file() and is_image(path)):
        paths = [str(p) for p in image_files(text, "source")]
        return Source(_ImageListReader(paths), text if not path.is_dir() else str(path), bool(live), retry=retry,
                      finite=True)
    if path.is_file():
        opener = _file_opener(str(path))
        cap = _open_capture(opener, str(path), "check that it is a video file FFmpeg can decode (ffprobe FILE)")
        return Source(cap, str(path), bool(live), reopen=opener, retry=retry, fps=_capture_fps(cap), finite=True)
    raise SourceOpenError(
        "source", expected="a camera index, /dev/videoN, a video/image file, a folder, a glob, a URL or a GStreamer pipeline",
        found=f"{spec!r} (no such file or folder)", hint="check the path",
    )


def open_source(
    source: Any,
    *,
    live: Optional[bool] = None,
    retry: Optional[RetryPolicy] = None,
    width: Optional[int] = None,
    height: Optional[int] = None,
    fps: Optional[float] = None,
    fourcc: Optional[str] = None,
    timeout_s: float = 5.0,
    release: Optional[bool] = None,
) -> Source:
    """Open ``source`` (see the module table) as a :class:`Source`.

    Args:
        source: a spec (int, str, Path), an object with ``read() -> (ok, frame)``, a list or iterator
            of frames, or a :class:`Source` (returned unchanged).
        live: override whether the source is sampled (newest frame wins) or read in full.
        retry: reconnect policy for live sources (default: no reconnect, a dead source ends the stream).
        width, height, fps, fourcc: capture settings for cameras (``fourcc="MJPG"`` for USB cameras
            at high resolutions); width/height/fps also size the ``"synthetic"`` camera.
        timeout_s: open/read timeout for URLs.
        release: whether closing the Source releases a ``read()`` object passed in (default: no,
            the caller owns it; sources opened from a spec are always released).

    Raises:
        SourceOpenError: the source cannot be opened (message says why and what to check).
    """
    if isinstance(source, Source):
        return source
    if isinstance(source, bool):
        raise ConfigError("source", expected="a camera index, path, URL or reader object", found=repr(source))
    if isinstance(source, int):
        source = str(source)
    if isinstance(source, (str, Path)):
        return _open_string(str(source), live, retry, width, height, fps, fourcc, timeout_s)
    if callable(getattr(source, "read", None)):
        opened = getattr(source, "isOpened", None)
        if callable(opened) and not opened():
            raise SourceOpenError(type(source).__name__, expected="an opened capture", found="isOpened() is False",
                                  hint="check the device/file the capture was created with")
        frames = _capture_frame_count(source)
        if frames:  # a capture of a file (cv2.VideoCapture("clip.mp4")): every frame, in order, then the end
            return Source(source, "%s of a %d-frame file" % (type(source).__name__, frames),
                          False if live is None else live, retry=retry, owns_reader=bool(release),
                          fps=_capture_fps(source), finite=True)
        return Source(source, type(source).__name__, True if live is None else live, retry=retry,
                      owns_reader=bool(release), fps=_capture_fps(source))
    if isinstance(source, np.ndarray):
        raise ConfigError("source", expected="a camera, video, folder or reader object",
                          found="a numpy array", hint="use Segmenter.run(frame) for one image, or pass a list of frames")
    if isinstance(source, Iterable):
        return Source(_IterReader(source), type(source).__name__, bool(live), retry=retry, finite=True)
    raise ConfigError(
        "source", expected="a camera index, /dev/videoN, path, glob, URL, GStreamer pipeline, reader object or list of frames",
        found=type(source).__name__,
    )
