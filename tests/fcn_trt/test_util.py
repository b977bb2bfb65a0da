"""fcn_trt._util.Closeable: the one `with` block of the objects that have an idempotent close()."""

from __future__ import annotations

import pytest

from fcn_trt._util import Closeable


class _Counted(Closeable):
    def __init__(self) -> None:
        self.closes = 0

    def close(self) -> None:
        self.closes += 1


def test_with_returns_the_object_and_closes_it_once():
    obj = _Counted()
    with obj as entered:
        assert entered is obj
        assert obj.closes == 0
    assert obj.closes == 1


def test_an_error_in_the_block_still_closes_and_propagates():
    obj = _Counted()
    with pytest.raises(KeyError):
        with obj:
            raise KeyError("boom")
    assert obj.closes == 1


def test_a_subclass_without_close_says_so():
    with pytest.raises(NotImplementedError):
        with Closeable():
            pass


@pytest.mark.parametrize("path, name", [
    ("fcn_trt.segmenter", "Segmenter"), ("fcn_trt.streaming.sources", "Source"),
    ("fcn_trt.streaming.stream", "Stream"), ("fcn_trt.backends.base", "Backend"),
    ("fcn_trt.backends._cuda", "_Resource"),
])
def test_the_closeable_objects_share_it(path, name):
    import importlib

    cls = getattr(importlib.import_module(path), name)
    assert issubclass(cls, Closeable)
    assert cls.__enter__ is Closeable.__enter__ and cls.__exit__ is Closeable.__exit__


def test_first_close_is_true_once():
    import threading
    from concurrent.futures import ThreadPoolExecutor

    class _Guarded(Closeable):
        def __init__(self) -> None:
            self._lock, self._closed, self.released = threading.Lock(), False, 0

        def close(self) -> None:
            if self._first_close():
                self.released += 1

    obj = _Guarded()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: obj.close(), range(8)))
    obj.close()
    assert obj.released == 1 and obj._closed


def test_read_proc_value_parses_the_keyed_line_or_says_none(tmp_path):
    from fcn_trt._util import read_proc_value

    f = tmp_path / "status"
    f.write_text("Name:\tpython\nUmask:\t0027\nMemAvailable: 2048 kB\nBroken:\n", encoding="ascii")
    assert read_proc_value(str(f), "Umask", lambda word: int(word, 8)) == 0o027
    assert read_proc_value(str(f), "MemAvailable", int) == 2048
    assert read_proc_value(str(f), "Name", int) is None  # parse rejects the word
    assert read_proc_value(str(f), "Broken", str) is None  # no word after the key
    assert read_proc_value(str(f), "Missing", str) is None
    assert read_proc_value(str(tmp_path / "absent"), "Umask", str) is None
