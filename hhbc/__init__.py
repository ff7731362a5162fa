"""hhbc: a neural-network compiler for small RISC-V cores."""

import os as _os

__version__ = "0.1.0"

# onnxruntime (imported by onnxsim and by `hhbc run`) otherwise starts its telemetry on import:
# it writes $TMPDIR/.ses and ~/.cache/Microsoft/DeveloperTools/, outside -o, and may upload.
_os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
