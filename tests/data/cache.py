"""The on-disk cache of generated datasets: one .npz per dataset and version, written atomically,
built once per machine (a lock keeps parallel test workers from building the same file twice)."""

from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np


def cache_dir() -> Path:
    """$HHBC_TEST_DATA_CACHE, or ~/.cache/hhbc-tests/data."""
    env = os.environ.get("HHBC_TEST_DATA_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "hhbc-tests" / "data"


def cached(name: str, build: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The arrays of `<cache>/<name>.npz`, built by `build()` when the file is absent."""
    directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.npz"
    if not path.exists():
        with open(directory / f".{name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not path.exists():
                arrays = build()
                fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".npz")
                with os.fdopen(fd, "wb") as f:
                    np.savez(f, **arrays)
                os.replace(tmp, path)
    with np.load(path) as npz:
        return {key: npz[key] for key in npz.files}
