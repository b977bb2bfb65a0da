"""sha256 of files, streamed (engines, ONNX models and weights can be hundreds of MB).

Example:
    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile(delete=False) as f:
    ...     _ = f.write(b"abc")
    >>> file_sha256(f.name)[:16]
    'ba7816bf8f01cfea'
    >>> os.unlink(f.name)
"""

from __future__ import annotations

import hashlib
import os
from typing import Union

__all__ = ["file_sha256"]

_CHUNK = 1 << 20


def file_sha256(path: Union[str, "os.PathLike[str]"]) -> str:
    """Hex sha256 of the file's bytes, read in 1 MiB chunks (OSError if it cannot be read)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()
