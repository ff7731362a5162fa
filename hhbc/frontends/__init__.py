"""Model importers, one file per format; `load_model` picks one by suffix and magic."""

from __future__ import annotations

from pathlib import Path
from hhbc.errors import HhbcError
from hhbc.frontends.model import ImportedModel, ImportOptions, TensorInfo

FORMATS = {".onnx": "onnx"}


def detect_format(path: Path) -> str:
    if not path.exists():
        raise HhbcError(f"{path}: no such file")
    if path.is_dir():
        raise HhbcError(f"{path}: is a directory, expected a model file")
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise HhbcError(f"{path}: unknown model format '{path.suffix}' "
                        f"(supported: {', '.join(FORMATS)})")
    return fmt


def load_model(path: str | Path, options: ImportOptions = ImportOptions()) -> ImportedModel:
    """Import any supported model file into Relax with static IO shapes."""
    path = Path(path)
    fmt = detect_format(path)
    if fmt == "onnx":
        from hhbc.frontends.onnx import load_onnx

        return load_onnx(path, options)
    raise HhbcError(f"{path}: format '{fmt}' is not supported yet")


__all__ = ["ImportedModel", "ImportOptions", "TensorInfo", "load_model", "detect_format"]
