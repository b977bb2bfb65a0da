"""Small helpers shared by test modules in several folders (fixtures live in tests/conftest.py).

Each one does a chore that tests repeat around what they check (write a clip, read one back), so
that a test keeps only its own data and assertions.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import pytest


REPO = Path(__file__).resolve().parents[1]


def run_module(module: str, *args: Any, timeout: float = 300) -> "subprocess.CompletedProcess[str]":
    """``python -m module args...`` as a user would run it, from the repository root (text output captured)."""
    return subprocess.run([sys.executable, "-m", module, *map(str, args)], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)


@contextlib.contextmanager
def raises_with(error: Any, *words: str) -> Iterator[Any]:
    """``pytest.raises(error)`` whose message must also contain every one of ``words``.

    >>> with raises_with(ModelFormatError, "missing 2", "unexpected 1") as info:
    ...     check_weights(weights, "fcn8s", 5, 16)
    """
    with pytest.raises(error) as info:
        yield info
    msg = str(info.value)
    for word in words:
        assert word in msg, (word, msg)


def json_pointer_parent(doc: Any, pointer: str) -> Tuple[Any, Any]:
    """The list or dict that the JSON Pointer ``pointer`` ends in, and the key in it (an int for a list).

    >>> node, key = json_pointer_parent({"engine": {"profiles": [1, 2]}}, "/engine/profiles/1")
    >>> node[key] = 3  # {"engine": {"profiles": [1, 3]}}
    """
    *parents, last = pointer.split("/")[1:]
    node = doc
    for p in parents:
        node = node[int(p)] if isinstance(node, list) else node[p]
    return node, int(last) if isinstance(node, list) else last


def run_in_threads(target: Callable[[int], None], count: int, timeout: Optional[float] = None) -> None:
    """Start ``target(0)`` .. ``target(count - 1)`` each in its own thread, then join them all (each join
    waits up to ``timeout`` seconds; None: until it ends). ``target`` records its own failures.

    >>> run_in_threads(lambda i: results.append(i * i), 3)
    """
    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)


def with_argmin_labels(src: Path, out: Path) -> Path:
    """Save to ``out`` (may be ``src``) the ONNX graph ``src`` with every ArgMax made an ArgMin: the
    same inputs and outputs, other labels (a model that disagrees with ``src``). Returns ``out``."""
    import onnx

    model = onnx.load(str(src))
    for node in model.graph.node:
        if node.op_type == "ArgMax":
            node.op_type = "ArgMin"
    onnx.save(model, str(out))
    return out


def write_video(path: Path, frames: Sequence[np.ndarray], fps: float = 30.0, fourcc: str = "MJPG") -> Path:
    """Write the BGR ``frames`` (all one size) to the video file ``path``; return ``path``.

    Uses the library's own writer (:func:`fcn_trt.streaming.drawing.open_video_writer`), which
    raises ``SourceOpenError`` when OpenCV cannot open it.

    >>> clip = write_video(tmp_path / "clip.avi", [np.full((48, 64, 3), 40 * i, np.uint8) for i in range(6)])
    """
    from fcn_trt.streaming.drawing import open_video_writer

    height, width = frames[0].shape[:2]
    writer = open_video_writer(path, fps, (width, height), fourcc=fourcc)
    try:
        for frame in frames:
            writer.write(frame)
    finally:
        writer.release()
    return path


def read_video(path: Path) -> List[np.ndarray]:
    """Every frame OpenCV decodes from the video file ``path``, in order.

    >>> assert len(read_video(clip)) == 6
    """
    import cv2

    cap = cv2.VideoCapture(str(path))
    frames = []
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                return frames
            frames.append(frame)
    finally:
        cap.release()
