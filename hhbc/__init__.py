"""hhbc: a neural-network compiler for small RISC-V cores.

The Python API (docs/python-api.md): hhbc.compile, hhbc.run, hhbc.bench, hhbc.bench_compare.
They live in hhbc/api.py and are loaded on first use, so that `import hhbc` does not import TVM.
"""

import os as _os

from hhbc.errors import HhbcError, MismatchError, ToolchainError

__version__ = "0.1.0"

# onnxruntime (imported by onnxsim and by `hhbc run`) otherwise starts its telemetry on import:
# it writes $TMPDIR/.ses and ~/.cache/Microsoft/DeveloperTools/, outside -o, and may upload.
_os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

_API = ("compile", "run", "bench", "bench_compare", "CompileResult", "CompilePaths", "RunResult",
        "BenchResult", "CompareResult")

# `from hhbc import *` leaves the builtin compile() alone: call hhbc.compile by its full name
__all__ = [*(n for n in _API if n != "compile"), "HhbcError", "MismatchError", "ToolchainError", "__version__"]


def __getattr__(name: str):
    if name == "BenchResult":
        from hhbc.benchmark import BenchResult

        return BenchResult
    if name in _API:
        from hhbc import api

        return getattr(api, name)
    raise AttributeError(f"module 'hhbc' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_API])
