"""Model importers, one file per format; `load_model` picks one by suffix (and layout)."""

from __future__ import annotations

import importlib
from pathlib import Path

from hhbc.errors import HhbcError
from hhbc.frontends.model import ImportedModel, ImportOptions, TensorInfo

# suffix -> format
FORMATS = {".onnx": "onnx", ".prototxt": "caffe", ".caffemodel": "caffe", ".pb": "tensorflow",
           ".tflite": "tflite"}
# format -> (module, loader); each loader is `load(path: Path, options: ImportOptions) -> ImportedModel`
LOADERS = {
    "onnx": ("hhbc.frontends.onnx", "load_onnx"),
    "caffe": ("hhbc.frontends.caffe", "load_caffe"),
    "tensorflow": ("hhbc.frontends.tensorflow", "load_tensorflow"),
    "tflite": ("hhbc.frontends.tflite", "load_tflite"),
}


def detect_format(path: Path) -> str:
    if not path.exists():
        raise HhbcError(f"{path}: no such file")
    if path.is_dir():
        if (path / "saved_model.pb").is_file():
            return "tensorflow"
        raise HhbcError(f"{path}: is a directory, but not a TensorFlow SavedModel (no saved_model.pb)")
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise HhbcError(f"{path}: unknown model format '{path.suffix}' "
                        f"(supported: {', '.join(sorted(FORMATS))}, or a SavedModel directory)")
    return fmt


def load_model(path: str | Path, options: ImportOptions = ImportOptions()) -> ImportedModel:
    """Import any supported model file into Relax with static IO shapes."""
    path = Path(path)
    module, loader = LOADERS[detect_format(path)]
    return getattr(importlib.import_module(module), loader)(path, options)


__all__ = ["ImportedModel", "ImportOptions", "TensorInfo", "load_model", "detect_format"]
