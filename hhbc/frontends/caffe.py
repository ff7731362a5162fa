"""Caffe frontend: .prototxt (+ .caffemodel) -> Relax, without Caffe or OpenCV.

The network comes from the protobuf text file (V2 `layer {}` or legacy V1
`layers {}` with enum types), the weights from the binary .caffemodel, both
read with hhbc's own schema (caffe_schema.py). Layers are converted one by
one, in file order, into NCHW Relax through a BlockBuilder (caffe_layers.py
holds one converter per layer type); the optimizer makes them NHWC.

Blobs are named by tops; a layer whose top is its bottom (in place) makes a
new version of that blob, as in Caffe. The model's outputs are, unless -on
says otherwise, the blob versions no later layer reads, in layer order.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hhbc.errors import HhbcError
from hhbc.frontends.culprit import one_line
from hhbc.frontends.model import ImportedModel, ImportOptions, TensorInfo
from hhbc.limits import DEFAULT_LIMITS, Limits

TEST_PHASE = 1

# Caffe layer types hhbc converts (caffe_layers.CONVERTERS has one converter for each).
SUPPORTED_OPS = frozenset({
    "BatchNorm", "Concat", "Convolution", "Crop", "Deconvolution", "Dropout", "Eltwise", "Flatten",
    "InnerProduct", "Input", "LRN", "Permute", "Pooling", "Power", "PReLU", "ReLU", "Reshape", "Scale",
    "Sigmoid", "Slice", "Softmax", "Split", "TanH",
    "AbsVal", "Bias", "BNLL", "Clip", "ELU", "Exp", "Log", "Reduction", "Swish", "Threshold", "Tile",
    "ArgMax",
})


@dataclass
class Layer:
    """One layer of the prototxt, V1 or V2, with its type as a V2 type string."""

    index: int
    name: str
    type: str
    bottoms: list[str]
    tops: list[str]
    msg: Any          # LayerParameter or V1LayerParameter: the *_param fields

    def param(self, field_name: str):
        """The layer's `<field_name>` message (defaults if absent or not in V1)."""
        try:
            return getattr(self.msg, field_name)
        except AttributeError:
            from hhbc.frontends.caffe_schema import caffe_messages

            return getattr(caffe_messages()["LayerParameter"](), field_name)

    def has(self, message, field_name: str) -> bool:
        try:
            return message.HasField(field_name)
        except ValueError:
            return False


@dataclass
class Net:
    """The parsed prototxt: declared inputs and the layers that run at test time."""

    path: Path
    name: str
    inputs: list[tuple[str, tuple[int, ...] | None]]   # declared name, shape
    layers: list[Layer]
    weights: Path | None = None
    blobs: dict[str, list] = field(default_factory=dict)   # layer name -> BlobProtos
    limits: Limits = DEFAULT_LIMITS


# Notes raised while importing; printed once the import succeeds, so that a model that fails
# gets its one error line alone.
_notes: list[str] | None = None


def note(text: str) -> None:
    """An `hhbc: note:` line on stderr (held back until the import succeeds)."""
    line = one_line(f"hhbc: note: {text}")
    if _notes is None:
        print(line, file=sys.stderr)
    else:
        _notes.append(line)


def load_caffe(path: Path, options: ImportOptions = ImportOptions()) -> ImportedModel:
    global _notes
    _notes = []
    try:
        model = _load_caffe(path, options)
    except HhbcError as err:   # names come from the files: keep the message one printable line
        raise HhbcError(one_line(str(err))) from None
    finally:
        notes, _notes = _notes, None
    for line in notes:
        print(line, file=sys.stderr)
    return model


def _load_caffe(path: Path, options: ImportOptions) -> ImportedModel:
    from hhbc.frontends.caffe_layers import build_relax, needs_weights

    prototxt, weights = _locate(path, options)
    net = read_prototxt(prototxt)
    net.limits = options.limits
    _check_supported(net)
    weighted = [l for l in net.layers if needs_weights(l)]
    if weighted:
        if weights is None:
            names = ", ".join(f"'{l.name}' ({l.type})" for l in weighted[:5]) + (", ..." if len(weighted) > 5 else "")
            raise HhbcError(f"{prototxt}: no weights for layer(s) {names}: there is no "
                            f"{prototxt.with_suffix('.caffemodel').name} beside it (give the .caffemodel "
                            "with --weights)")
        net.weights = weights
        net.blobs = read_caffemodel(weights)
    elif weights is not None:
        net.weights = weights
    inputs = _input_infos(net, options)
    mod, outputs, pins = build_relax(net, inputs, list(options.output_names))
    return ImportedModel(
        mod=mod, inputs=inputs, outputs=outputs, source=prototxt, format="caffe",
        source_ops=dict(Counter(l.type for l in net.layers)),
        reference=_reference_fn(prototxt, net.weights, inputs, outputs, pins),
    )


# ---------------------------------------------------------------- files
def _locate(path: Path, options: ImportOptions) -> tuple[Path, Path | None]:
    """(prototxt, caffemodel or None) from the path the user gave and --weights."""
    if path.suffix.lower() == ".caffemodel":
        prototxt = path.with_suffix(".prototxt")
        if not prototxt.is_file():
            raise HhbcError(f"{path}: a .caffemodel holds only weights, and there is no {prototxt.name} "
                            "beside it (compile the .prototxt and give this file with --weights)")
        return prototxt, path
    if options.weights is not None:
        weights = Path(options.weights)
        if not weights.is_file():
            raise HhbcError(f"--weights {weights}: no such file")
        return path, weights
    beside = path.with_suffix(".caffemodel")
    if beside.is_file():
        return path, beside
    candidates = sorted(path.parent.glob("*.caffemodel"))
    if len(candidates) == 1:
        note(f"using {candidates[0].name}, the only .caffemodel beside {path.name} "
             "(choose another with --weights)")
        return path, candidates[0]
    return path, None


def read_prototxt(path: Path) -> Net:
    """Parse the text file; a syntax error is one line with its line number."""
    from google.protobuf import text_format

    from hhbc.frontends.caffe_schema import V1_TYPES, caffe_messages

    messages = caffe_messages()
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as err:
        raise HhbcError(f"{path}: cannot read ({err.strerror})") from None
    net = messages["NetParameter"]()
    try:
        text_format.Parse(text, net, allow_unknown_field=True)
    except text_format.ParseError as err:
        line = err.GetLine() if hasattr(err, "GetLine") else None
        message = re.sub(r"^\d+:\d+ : ", "", str(err).splitlines()[0] if str(err) else "")
        where = f"{path}:{line}" if line else str(path)
        raise HhbcError(f"{where}: not a valid Caffe prototxt ({message})") from None
    except RecursionError:   # text_format recurses per nesting level
        raise HhbcError(f"{path}: not a valid Caffe prototxt (messages nested too deep for the parser; "
                        "Caffe's schema nests at most a few levels)") from None
    if net.layer and net.layers:
        raise HhbcError(f"{path}: mixes V2 'layer' and V1 'layers' entries")
    layer_type = messages["V1LayerParameter.LayerType"]
    layers = []
    for index, msg in enumerate(net.layer or net.layers):
        if not _included(msg):
            continue
        if net.layers:
            ltype = V1_TYPES.get(layer_type.values_by_number[msg.type].name, str(msg.type))
        else:
            ltype = msg.type
        name = msg.name or f"{ltype or 'layer'}_{index}"
        layers.append(Layer(index, name, ltype, list(msg.bottom), list(msg.top), msg))
    if not layers and not net.input:
        raise HhbcError(f"{path}: no layers (is this a Caffe prototxt?)")
    return Net(path, net.name, _declared_inputs(net, path), layers)


def _included(msg) -> bool:
    """Caffe's NetStateRule check for the TEST phase (no stages, level 0)."""
    def matches(rule) -> bool:
        if rule.HasField("phase") and rule.phase != TEST_PHASE:
            return False
        if rule.HasField("min_level") and rule.min_level > 0:
            return False
        if rule.HasField("max_level") and rule.max_level < 0:
            return False
        return not rule.stage
    if msg.include:
        return any(matches(r) for r in msg.include)
    return not any(matches(r) for r in msg.exclude)


def _declared_inputs(net, path: Path) -> list[tuple[str, tuple[int, ...] | None]]:
    """Net-level `input:` declarations with input_shape or input_dim."""
    names = list(net.input)
    if net.input_shape:
        if len(net.input_shape) != len(names):
            raise HhbcError(f"{path}: {len(names)} input(s) but {len(net.input_shape)} input_shape(s)")
        return [(n, tuple(int(d) for d in s.dim)) for n, s in zip(names, net.input_shape)]
    if net.input_dim:
        dims = [int(d) for d in net.input_dim]
        if len(dims) != 4 * len(names):
            raise HhbcError(f"{path}: {len(names)} input(s) need {4 * len(names)} input_dim values, "
                            f"got {len(dims)}")
        return [(n, tuple(dims[4 * i:4 * i + 4])) for i, n in enumerate(names)]
    return [(n, None) for n in names]


def read_caffemodel(path: Path) -> dict[str, list]:
    """Layer name -> its BlobProtos, from a V2 or V1 binary NetParameter."""
    from google.protobuf.message import DecodeError

    from hhbc.frontends.caffe_schema import caffe_messages

    try:
        data = path.read_bytes()
    except OSError as err:
        raise HhbcError(f"{path}: cannot read ({err.strerror})") from None
    try:
        net = caffe_messages()["NetParameter"].FromString(data)
    except (DecodeError, RuntimeError, ValueError) as err:
        raise HhbcError(f"{path}: not a valid .caffemodel ({str(err).splitlines()[0][:160]})") from None
    layers = list(net.layer) + list(net.layers)
    if not layers:
        raise HhbcError(f"{path}: not a valid .caffemodel (no layers)")
    return {l.name: list(l.blobs) for l in layers if l.blobs}


def blob_array(blob) -> tuple[np.ndarray, tuple[int, ...], bool]:
    """(data, shape, legacy) of a BlobProto; legacy shapes are num/channels/height/width."""
    data = np.asarray(blob.data if len(blob.data) else blob.double_data, np.float32)
    if blob.HasField("shape"):
        return data, tuple(int(d) for d in blob.shape.dim), False
    return data, (blob.num, blob.channels, blob.height, blob.width), True


def _check_supported(net: Net) -> None:
    bad = [l for l in net.layers if l.type not in SUPPORTED_OPS]
    if bad:
        listed = ", ".join(f"'{l.name}' ({l.type or 'no type'})" for l in bad)
        types = ", ".join(sorted({l.type or "no type" for l in bad}))
        raise HhbcError(f"{net.path}: unsupported Caffe layer types {types} at {len(bad)} layer(s): {listed}")


# ---------------------------------------------------------------- inputs
def _declared(net: Net) -> list[tuple[str, tuple[int, ...] | None, str]]:
    """(name, shape, where) of every network input, net-level declarations first."""
    found = [(n, s, "input declaration") for n, s in net.inputs]
    for layer in net.layers:
        if layer.type != "Input":
            continue
        shapes = [tuple(int(d) for d in s.dim) for s in layer.param("input_param").shape]
        for k, top in enumerate(layer.tops):
            shape = shapes[k] if k < len(shapes) else (shapes[0] if len(shapes) == 1 else None)
            found.append((top, shape, f"Input layer '{layer.name}'"))
    return found


def _input_infos(net: Net, options: ImportOptions) -> list[TensorInfo]:
    """Static input shapes: the declared ones (batch 1), or -is (by order or by -in name)."""
    declared = _declared(net)
    names = [n for n, _, _ in declared]
    if not declared:
        raise HhbcError(f"{net.path}: no inputs (no 'input:' declaration and no Input layer)")
    given: dict[str, tuple[int, ...]] = {}
    if options.input_names:
        for name in options.input_names:
            if name not in names:
                raise HhbcError(f"{net.path}: -in '{name}' is not an input of the model "
                                f"(inputs: {', '.join(names)})")
        if options.input_shapes and len(options.input_shapes) != len(options.input_names):
            raise HhbcError(f"-is gives {len(options.input_shapes)} shape(s) for "
                            f"{len(options.input_names)} -in name(s)")
        given = dict(zip(options.input_names, options.input_shapes))
    elif options.input_shapes:
        if len(options.input_shapes) != len(names):
            raise HhbcError(f"-is gives {len(options.input_shapes)} shape(s) for {len(names)} input(s) "
                            f"({'; '.join(names)})")
        given = dict(zip(names, options.input_shapes))
    infos = []
    for name, shape, where in declared:
        if name in given:
            if shape is not None and len(shape) != len(given[name]):
                raise HhbcError(f"-is {list(given[name])} for input '{name}' has rank {len(given[name])}, "
                                f"but the model declares rank {len(shape)} {list(shape)}")
            shape = tuple(given[name])
        elif shape is None:
            raise HhbcError(f"{net.path}: input '{name}' ({where}) has no shape; give it with -is")
        elif shape and shape[0] > 1:
            note(f"input '{name}' is declared with batch {shape[0]}; using 1 (override with -is)")
            shape = (1,) + tuple(shape[1:])
        if any(d <= 0 for d in shape):
            raise HhbcError(f"{net.path}: input '{name}' has shape {list(shape)}; give a static shape with -is")
        infos.append(TensorInfo(name, tuple(int(d) for d in shape), "float32"))
    return infos


# ---------------------------------------------------------------- reference
def _reference_fn(prototxt: Path, weights: Path | None, inputs: list[TensorInfo],
                  outputs: list[TensorInfo], pins: list[tuple[str, int]]):
    """OpenCV's Caffe importer on the original files: the ground truth for `hhbc run`.

    An output is read as (layer, output index) through forwardAndRetrieve; OpenCV's
    layer fusion is off so that every layer's own output is observable.
    """

    def run(arrays):
        try:
            import cv2
        except ImportError:
            raise HhbcError("comparing with Caffe needs OpenCV (cv2.dnn): pip install 'hhbc[test]'") from None
        try:
            if weights is not None:
                net = cv2.dnn.readNetFromCaffe(str(prototxt), str(weights))
            else:
                net = cv2.dnn.readNetFromCaffe(str(prototxt))
            net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
            net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
            net.enableFusion(False)
            for info, array in zip(inputs, arrays):
                net.setInput(np.ascontiguousarray(np.asarray(array, np.float32).reshape(info.shape)), info.name)
            layers = list(dict.fromkeys(layer for layer, _ in pins))
            results = dict(zip(layers, net.forwardAndRetrieve(layers)))
        except cv2.error as err:
            lines = [l for l in str(err).splitlines() if l.strip()]
            raise HhbcError(f"{prototxt}: OpenCV cannot run the model ({lines[-1].strip()[:200]})") from None
        out = []
        for (layer, index), info in zip(pins, outputs):
            value = np.asarray(results[layer][index], np.float32)
            if value.shape != info.shape and _squeezed(value.shape) == _squeezed(info.shape):
                value = value.reshape(info.shape)   # OpenCV adds or drops unit dims of some blobs
            out.append(value)
        return out

    return run


def _squeezed(shape) -> tuple[int, ...]:
    return tuple(int(d) for d in shape if d != 1)
