"""fcn_trt._hashing.file_sha256: the one streamed file digest every module uses."""

from __future__ import annotations

import hashlib

import pytest

from fcn_trt._hashing import file_sha256


def test_matches_hashlib_across_chunk_boundaries(tmp_path):
    data = bytes(range(256)) * ((3 << 20) // 256 + 7)  # a bit over 3 chunks of 1 MiB
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    assert file_sha256(path) == file_sha256(str(path)) == hashlib.sha256(data).hexdigest()
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert file_sha256(empty) == hashlib.sha256(b"").hexdigest()


def test_missing_file_raises_oserror(tmp_path):
    with pytest.raises(FileNotFoundError):
        file_sha256(tmp_path / "nope")
