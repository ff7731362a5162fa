"""TensorFlow frontend: a frozen GraphDef (.pb) or a SavedModel directory -> Relax.

A frozen GraphDef is read with hhbc's own protobuf schema (tensorflow_schema.py),
so `hhbc compile model.pb` needs no TensorFlow. A SavedModel keeps its weights
in variables; freezing them needs TensorFlow (the `hhbc[tf]` extra), after
which it takes the same path.

What the importer does beyond one converter per op:
  * -in/-on cut the graph (HHB semantics, `node` or `node:k` names): only the
    nodes between them are read, so in-graph preprocessing (DecodeWav, Mfcc)
    upstream of -in is never looked at;
  * everything computable from constants (weights, shape arithmetic such as
    Shape -> StridedSlice -> Pack -> Reshape) is evaluated in numpy at import;
  * convolutions are emitted as NHWC/OHWI conv2d directly; a bias, per-channel
    Mul/Add/Sub and FusedBatchNorm that follow a conv or a MatMul with constant
    weights are folded into its weights and bias, so they become one kernel;
  * every Relax call carries its TF node name (hhbc.layers), for model.c comments.

This file reads the graph, applies -in/-is/-on, builds the Relax function and
runs TensorFlow where it is needed (SavedModel freezing, the reference); the
converters are in tensorflow_ops.py and tensorflow_movement.py, the protobuf schema
in tensorflow_schema.py.
"""

from __future__ import annotations

import contextlib
import gc
import io
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hhbc.errors import HhbcError
from hhbc.frontends import tensorflow_schema as schema
from hhbc.frontends.culprit import cause_in_words, one_line
from hhbc.frontends.model import ImportedModel, ImportOptions, TensorInfo
from hhbc.frontends.quiet import quiet
from hhbc.frontends.shapes import resolve_shape
from hhbc.frontends.tensorflow_movement import MOVEMENT_OPS, SpaceToBatch
from hhbc.frontends.tensorflow_ops import _PASS_THROUGH as PASS_THROUGH
from hhbc.frontends.tensorflow_ops import OPS as _OPS
from hhbc.frontends.tensorflow_ops import Affine
from hhbc.layers import BindingNames, emit_stamped
from hhbc.limits import DEFAULT_LIMITS, Limits, check_constant, check_tensor

# TF op -> converter: tensorflow_ops.py (compute, layout, shape arithmetic), tensorflow_movement.py
# (data movement, resize, transposed and dilated convolution)
OPS = {**_OPS, **MOVEMENT_OPS}
SUPPORTED_OPS = frozenset(OPS)

TF_EXTRA = "pip install 'hhbc[tf]'"
TEST_EXTRA = "pip install 'hhbc[test]'"
DEFAULT_SIGNATURE = "serving_default"


def load_tensorflow(path: Path, options: ImportOptions = ImportOptions()) -> ImportedModel:
    signature = None
    if path.is_dir():
        data, signature = _freeze_saved_model(path)
    else:
        data = path.read_bytes()
    notes = io.StringIO()   # `hhbc: note:` lines, printed once the import succeeds (an error comes alone)
    try:
        with contextlib.redirect_stderr(notes):
            graph = _Graph(_parse(data, path), path, options.limits)
            io_spec = graph.select_io(options, signature)
            mod, outputs = _convert(graph, io_spec)
    except HhbcError as err:   # names come from the file: keep the message one printable line
        raise HhbcError(one_line(str(err))) from None
    sys.stderr.write(notes.getvalue())
    return ImportedModel(
        mod=mod, inputs=io_spec.inputs, outputs=outputs, source=path, format="tensorflow",
        source_ops=dict(Counter(graph.nodes[n].op for n in io_spec.needed)),
        reference=_reference_fn(data, io_spec.feeds, io_spec.fetches, io_spec.inputs),
    )


def _parse(data: bytes, path: Path):
    try:
        graph_def = schema.parse_graph_def(data)
    except Exception as err:   # the protobuf runtime raises DecodeError and others
        raise HhbcError(f"{path}: not a TensorFlow GraphDef ({_first_line(err)})") from None
    if not graph_def.node or any(not n.name or not n.op for n in graph_def.node):
        hint = "; for a SavedModel, give its directory" if path.name == "saved_model.pb" else ""
        raise HhbcError(f"{path}: not a TensorFlow GraphDef (no nodes){hint}")
    for index, node in enumerate(graph_def.node):
        # the protobuf runtime hands a string field that is not UTF-8 over as bytes
        texts = [("name", node.name), ("op", node.op), *(("input", i) for i in node.input),
                 *(("attribute name", k) for k in node.attr)]
        bad = next((what for what, text in texts if not isinstance(text, str)), None)
        if bad is not None:
            name = node.name if isinstance(node.name, str) else node.name.decode("utf-8", "replace")
            raise HhbcError(f"{path}: node {index} ('{name}'): its {bad} is not valid UTF-8")
    return graph_def


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__


# ---------------------------------------------------------------- graph and IO
def split_tensor(name: str) -> tuple[str, int]:
    """`node:k` -> (node, k); `node` -> (node, 0). Node names never contain ':'."""
    node, sep, index = name.rpartition(":")
    if sep and index.isdigit():
        return node, int(index)
    return name, 0


def _tensor_name(ref: tuple[str, int]) -> str:
    return f"{ref[0]}:{ref[1]}"


@dataclass
class _IOSpec:
    inputs: list[TensorInfo]
    input_refs: list[tuple[str, int]]
    output_names: list[str]           # as the user (or the signature) names them
    output_refs: list[tuple[str, int]]
    needed: list[str]                 # node names between them, in topological order
    feeds: list[str] = field(default_factory=list)     # TF tensor names, for the reference
    fetches: list[str] = field(default_factory=list)


class _Graph:
    def __init__(self, graph_def, path: Path, limits: Limits = DEFAULT_LIMITS):
        self.path = path
        self.limits = limits
        self.nodes = {}
        for node in graph_def.node:
            if node.name in self.nodes:
                raise HhbcError(f"{path}: two nodes are named '{node.name}'")
            self.nodes[node.name] = node

    def data_inputs(self, node) -> list[tuple[str, int]]:
        return [split_tensor(i) for i in node.input if not i.startswith("^")]

    def attr(self, node, key: str, default: Any = None, kind: str | None = None) -> Any:
        """An attribute as Python, checked against the kind hhbc reads it as (from _ATTR_KINDS,
        `kind`, or the default's type): a mutated or hand-written graph may put a list where a
        string belongs."""
        if key not in node.attr:
            return default
        where = f"{self.path}: {node.op} node '{node.name}': attribute '{key}'"
        try:
            value = schema.attr_value(node.attr[key])
        except ValueError as err:
            raise HhbcError(f"{where}: cannot read the {_first_line(err)}") from None
        kind = kind or _ATTR_KINDS.get(key) or _KIND_OF_DEFAULT.get(type(default))
        if kind is not None and not _ATTR_CHECKS[kind](value):
            raise HhbcError(f"{where} must be {_ATTR_WORDS[kind]}, not {_describe(value)}")
        return value

    def _node_of(self, name: str, option: str) -> tuple[str, int]:
        ref = split_tensor(name)
        if ref[0] not in self.nodes:
            raise HhbcError(f"{self.path}: no node named '{ref[0]}' in the graph (from {option} '{name}')")
        return ref

    def _sinks(self) -> list[str]:
        used = {split_tensor(i.lstrip("^"))[0] for n in self.nodes.values() for i in n.input}
        return [n for n, node in self.nodes.items()
                if n not in used and node.op not in ("NoOp", "Const", "Placeholder", "Assert")]

    def select_io(self, options: ImportOptions, signature: dict | None) -> _IOSpec:
        """Apply -in/-is/-on: the inputs and outputs, and the nodes between them."""
        sig_in, sig_out = signature or ({}, {})
        out_names = list(options.output_names) or list(sig_out) or self._sinks()
        if not out_names:
            raise HhbcError(f"{self.path}: the graph has no output node; name one with -on")
        out_refs = [self._node_of(sig_out.get(n, n), "-on") for n in out_names]
        in_names = list(options.input_names) or list(sig_in)
        in_refs = [self._node_of(sig_in.get(n, n), "-in") for n in in_names]

        needed = self._between(set(in_refs), out_refs)
        if not in_names:   # the placeholders the outputs depend on, in graph order
            in_refs = [(n, 0) for n in self.nodes if n in needed and self.nodes[n].op == "Placeholder"]
            in_names = [n for n, _ in in_refs]
            needed = [n for n in needed if (n, 0) not in in_refs]
        else:
            reached = {ref for n in needed for ref in self.data_inputs(self.nodes[n])} | set(out_refs)
            for name, ref in zip(in_names, in_refs):
                if ref not in reached:
                    raise HhbcError(f"{self.path}: -in '{name}' does not feed the outputs "
                                    f"({', '.join(out_names)})")
            stray = [n for n in needed if self.nodes[n].op == "Placeholder"]
            if stray:
                raise HhbcError(f"{self.path}: the outputs also depend on placeholder(s) "
                                f"{', '.join(repr(s) for s in stray)}, which -in does not name")
        self._check_supported(needed)

        shapes = list(options.input_shapes)
        if shapes and len(shapes) != len(in_names):
            raise HhbcError(f"-is gives {len(shapes)} shape(s) for {len(in_names)} input(s) "
                            f"({'; '.join(in_names)})")
        infos = []
        for k, (name, ref) in enumerate(zip(in_names, in_refs)):
            declared, dtype = self._declared(ref)
            if dtype is not None and dtype != 1:
                raise HhbcError(f"{self.path}: input '{name}' has type {schema.dtype_name(dtype)}; "
                                "this version of hhbc compiles float32 inputs")
            shape = resolve_shape(name, declared, shapes[k] if shapes else None)
            infos.append(TensorInfo(name, shape, "float32"))
        return _IOSpec(infos, in_refs, out_names, out_refs, needed,
                       [_tensor_name(r) for r in in_refs], [_tensor_name(r) for r in out_refs])

    def _between(self, stops: set, out_refs: list) -> list[str]:
        """Nodes the outputs need, stopping at the -in tensors, in topological order."""
        order, state = [], {}
        for ref in out_refs:
            if ref in stops:   # an -on that is itself an -in tensor needs no node
                continue
            stack = [(ref[0], False)]
            while stack:
                name, done = stack.pop()
                if done:
                    state[name] = 2
                    order.append(name)
                    continue
                if state.get(name):
                    continue
                state[name] = 1
                stack.append((name, True))
                node = self.nodes[name]
                for dep in reversed(self.data_inputs(node)):
                    if dep in stops:
                        continue
                    if dep[0] not in self.nodes:
                        raise HhbcError(f"{self.path}: {node.op} node '{name}': reads '{dep[0]}', "
                                        "which no node of the graph produces")
                    if state.get(dep[0]) == 1:
                        raise HhbcError(f"{self.path}: {node.op} node '{name}': reads '{dep[0]}', which "
                                        "depends on it: the graph has a cycle (control flow is not supported)")
                    if not state.get(dep[0]):
                        stack.append((dep[0], False))
        return order

    def _check_supported(self, needed: list[str]) -> None:
        bad = [(n, self.nodes[n].op) for n in needed if self.nodes[n].op not in SUPPORTED_OPS]
        if bad:
            listed = ", ".join(f"'{name}' ({op})" for name, op in bad)
            ops = ", ".join(sorted({op for _, op in bad}))
            raise HhbcError(f"{self.path}: unsupported ops {ops} at {len(bad)} node(s): {listed} "
                            "(to start the graph after them, cut it with -in)")

    def _declared(self, ref: tuple[str, int]) -> tuple[list | None, int | None]:
        """Shape (None dims unknown) and dtype number of an input tensor, if the graph says."""
        node = self.nodes[ref[0]]
        if node.op in ("Placeholder", "PlaceholderWithDefault"):
            dims = self.attr(node, "shape")
            dtype = self.attr(node, "dtype")
        else:
            shapes = self.attr(node, "_output_shapes") or []
            dims = shapes[ref[1]] if ref[1] < len(shapes) else None
            types = self.attr(node, "_output_types") or []
            dtype = types[ref[1]] if ref[1] < len(types) else self.attr(node, "T")
        if dims is not None:
            dims = [d if d >= 0 else None for d in dims]
        return dims, dtype


# ---------------------------------------------------------------- attribute kinds
def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _is_dims(v) -> bool:
    return v is None or (isinstance(v, list) and all(_is_int(d) for d in v))


_ATTR_CHECKS = {
    "int": _is_int,
    "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, (bool, int)),
    "str": lambda v: isinstance(v, str),
    "type": _is_int,
    "ints": lambda v: isinstance(v, list) and all(_is_int(d) for d in v),
    "types": lambda v: isinstance(v, list) and all(_is_int(d) for d in v),
    "shape": _is_dims,
    "shapes": lambda v: isinstance(v, list) and all(_is_dims(d) for d in v),
    "tensor": lambda v: hasattr(v, "tensor_shape"),
}
_ATTR_WORDS = {
    "int": "an integer", "float": "a number", "bool": "a boolean", "str": "a string", "type": "a data type",
    "ints": "a list of integers", "types": "a list of data types", "shape": "a shape",
    "shapes": "a list of shapes", "tensor": "a tensor",
}
# attributes whose kind does not follow from the default a converter passes
_ATTR_KINDS = {
    "strides": "ints", "ksize": "ints", "dilations": "ints", "explicit_paddings": "ints",
    "squeeze_dims": "ints", "padding": "str", "data_format": "str", "mode": "str",
    "T": "type", "dtype": "type", "DstT": "type", "SrcT": "type", "out_type": "type", "output_type": "type",
    "Tidx": "type", "Tshape": "type", "shape": "shape", "_output_shapes": "shapes",
    "_output_types": "types", "value": "tensor",
}
_KIND_OF_DEFAULT = {bool: "bool", int: "int", float: "float", str: "str"}


def _describe(value) -> str:
    if isinstance(value, list):
        return f"a list {value[:8]}" if len(value) <= 8 else f"a list of {len(value)} values"
    if isinstance(value, str):
        return f"the string '{value[:40]}'"
    if hasattr(value, "tensor_shape"):
        return "a tensor"
    return f"{type(value).__name__} {value!r}"[:60]


# ---------------------------------------------------------------- conversion
def _convert(graph: _Graph, io_spec: _IOSpec):
    converter = _Converter(graph, io_spec)
    try:
        return converter.build()
    except HhbcError as err:
        message = str(err)   # leave the handler: its traceback would keep the builder alive
    # A BlockBuilder left inside a function warns when destroyed; let it, quietly.
    with quiet():
        del converter
        gc.collect()
    raise HhbcError(message)


class _Converter:
    def __init__(self, graph: _Graph, spec: _IOSpec):
        from tvm import relax

        self.relax = relax
        self.graph = graph
        self.spec = spec
        self.path = graph.path
        self.bb = relax.BlockBuilder()
        self.values: dict[tuple[str, int], Any] = {}   # ndarray | Relax expr | Affine
        self.materialized: dict[int, Any] = {}          # id(Affine) -> Relax var
        self.hint = BindingNames()
        self.node = None
        # reads of each tensor still to come (the outputs count as one read each)
        self.pending: Counter = Counter(spec.output_refs)
        for name in spec.needed:
            self.pending.update(graph.data_inputs(graph.nodes[name]))

    # -- the function -----------------------------------------------------------
    def build(self):
        relax = self.relax
        params = []
        for info, ref in zip(self.spec.inputs, self.spec.input_refs):
            var = relax.Var(self.hint(info.name), relax.TensorType(list(info.shape), info.dtype))
            self.values[ref] = var
            params.append(var)
        with self.bb.function("main", params=params):
            with self.bb.dataflow():
                for name in self.spec.needed:
                    self._convert(self.graph.nodes[name])
                outs = [self.output(ref) for ref in self.spec.output_refs]
                gv = self.bb.emit_output(outs[0] if len(outs) == 1 else relax.Tuple(outs))
            self.bb.emit_func_output(gv)
        mod = self.bb.get()
        mod["main"] = mod["main"].with_attrs({"num_input": len(params)})
        infos = []
        for name, out in zip(self.spec.output_names, outs):
            dtype = str(out.ty.dtype)
            if dtype not in ("float32", "int32", "int64"):   # int: ArgMax / ArgMin indices
                raise HhbcError(f"{self.path}: output '{name}' has type {dtype}; "
                                "this version of hhbc compiles float32 outputs (and int32/int64 indices)")
            infos.append(TensorInfo(name, tuple(int(d) for d in out.ty.shape), dtype))
        return mod, infos

    def output(self, ref):
        value = self.values[ref]
        if isinstance(value, np.ndarray):
            return self.relax.const(value.astype(np.float32))
        return self.expr(value)

    def _convert(self, node) -> None:
        self.node = node
        args = [self.values.get(ref, _MISSING) for ref in self.graph.data_inputs(node)]
        for ref, arg in zip(self.graph.data_inputs(node), args):
            if arg is _MISSING or arg is None:
                self.fail(f"reads output {ref[1]} of '{ref[0]}', which hhbc does not compute")
            if isinstance(arg, SpaceToBatch) and node.op not in _READS_SPACE_TO_BATCH:
                self.fail(f"reads the SpaceToBatchND '{ref[0]}'; hhbc supports it only before a "
                          "convolution (TF's dilated convolution)")
        try:
            with np.errstate(all="ignore"):   # constant arithmetic: inf/nan are values, not warnings
                result = OPS[node.op](self, node, args)
            results = result if isinstance(result, list) else [result]
            for k, value in enumerate(results):
                if isinstance(value, np.generic):   # numpy arithmetic on 0-d arrays gives scalars
                    value = np.asarray(value)
                if isinstance(value, self.relax.Call):
                    value = self.emit(value)
                results[k] = value
        except HhbcError:
            raise
        except Exception as err:   # TVM's shape checks and the like, worded as the node
            self.fail(f"cannot import it: {cause_in_words(err)}")
        self.pending.subtract(self.graph.data_inputs(node))
        for k, value in enumerate(results):
            self._check_output(value, k)
            self.values[(node.name, k)] = value

    def _check_output(self, value, k: int) -> None:
        """A node's output tensor against the tensor-size limit (TVM only infers its shape)."""
        if isinstance(value, np.ndarray):
            self.check_size(value.shape, value.dtype, f"output {k}", constant=True)
            return
        if isinstance(value, Affine):
            dims, dtype = list(value.out_shape), "float32"
        elif isinstance(value, self.relax.Expr) and isinstance(value.ty, self.relax.TensorType) \
                and value.ty.shape is not None:
            try:
                dims, dtype = [int(d) for d in value.ty.shape], str(value.ty.dtype)
            except (TypeError, ValueError):   # a symbolic dim
                return
        else:
            return
        if 0 in dims:   # TVM's lowering divides by the extents of an empty tensor
            self.fail(f"output {k} has shape {dims}: empty tensors are not supported")
        self.check_size(dims, dtype, f"output {k}")

    def fail(self, message: str):
        raise HhbcError(f"{self.path}: {self.node.op} node '{self.node.name}': {message}")

    def attr(self, key: str, default: Any = None, kind: str | None = None) -> Any:
        return self.graph.attr(self.node, key, default, kind)

    # -- values -------------------------------------------------------------------
    def emit(self, call, layer: str | None = None):
        layer = layer or self.node.name
        return self.bb.emit(emit_stamped(self.bb, call, layer), name_hint=self.hint(layer.split(" + ")[-1]))

    def expr(self, value, dtype: str = "float32"):
        """A value as a Relax expression: constants become relax.const, affines are emitted."""
        if isinstance(value, np.ndarray):
            return self.relax.const(value.astype(dtype))
        if isinstance(value, Affine):
            return self._materialize(value)
        if not isinstance(value, self.relax.Expr):   # SpaceToBatch: only a convolution may read it
            self.fail("reads a SpaceToBatchND; hhbc supports it only before a convolution "
                      "(TF's dilated convolution)")
        return value

    def _materialize(self, aff: Affine):
        relax = self.relax
        if id(aff) in self.materialized:
            return self.materialized[id(aff)][1]
        if aff.block is not None:
            self.fail(f"reads the convolution '{aff.layers[0]}' after SpaceToBatchND; hhbc supports only "
                      "SpaceToBatchND -> convolution -> BatchToSpaceND (TF's dilated convolution)")
        weight = relax.const(aff.weight.astype(np.float32))
        if aff.kind == "conv":
            out = self.emit(relax.op.nn.conv2d(aff.data, weight, **aff.conv), aff.layers[0])
        else:
            out = self.emit(relax.op.matmul(aff.data, weight), aff.layers[0])
        if aff.bias is not None:
            out = self.emit(relax.op.add(out, relax.const(aff.bias.astype(np.float32))),
                            " + ".join(aff.layers[1:]) or aff.layers[0])
        if aff.nchw:
            out = self.emit(relax.op.permute_dims(out, [0, 3, 1, 2]), aff.layers[-1])
        self.materialized[id(aff)] = (aff, out)   # keep aff alive: ids must stay unique
        return out

    def shape(self, value) -> tuple[int, ...]:
        if isinstance(value, np.ndarray):
            return value.shape
        if isinstance(value, Affine):
            return value.out_shape
        if not isinstance(value, self.relax.Expr):
            self.fail("reads a SpaceToBatchND; hhbc supports it only before a convolution")
        return tuple(int(d) for d in value.ty.shape)

    def check_size(self, shape, dtype, what: str = "output", constant: bool = False) -> None:
        """A tensor this node would make (a constant it evaluates, a tile, a fill) against the
        limits, before anything is allocated: a constant against the weight limit, an
        activation against the tensor limit."""
        if any(not isinstance(d, (int, np.integer)) for d in shape):
            self.fail(f"{what} has a non-integer shape {list(shape)}")
        check = check_constant if constant else check_tensor
        check(self.graph.limits, f"{self.path}: {self.node.op} node '{self.node.name}': {what}",
              [int(d) for d in shape], dtype)

    def const(self, value, what: str) -> np.ndarray:
        if not isinstance(value, np.ndarray):
            self.fail(f"{what} must be constant")
        return value

    def foldable(self, k: int = 0) -> bool:
        """May this node's input k (an affine) absorb the node? Only if this is the last read
        of the affine under any name (pass-through ops hand on the same object)."""
        ref = self.graph.data_inputs(self.node)[k]
        aff = self.values[ref]
        return self.pending[ref] == 1 and not any(
            value is aff and self.pending[other] > 0 for other, value in self.values.items() if other != ref)


_MISSING = object()
_READS_SPACE_TO_BATCH = {"Conv2D", "DepthwiseConv2dNative", *PASS_THROUGH}


# ---------------------------------------------------------------- TensorFlow itself
def import_tensorflow(need: str):
    """TensorFlow, imported quietly; or a one-line error saying how to install it."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        with quiet():
            import tensorflow as tf
            tf.get_logger().setLevel("ERROR")
    except ImportError:
        raise HhbcError(need) from None
    return tf


def _freeze_saved_model(path: Path, signature_key: str = DEFAULT_SIGNATURE):
    """A SavedModel's signature as a frozen GraphDef (bytes) and its IO names.

    TF 2's tf.saved_model.load restores every object, optimizer slots included,
    and fails on Keras-2 era models; the TF 1 loader restores only the variables
    into a session. Their values become constants, and grappler inlines the
    function calls a TF 2 SavedModel wraps its layers in.
    """
    tf = import_tensorflow(f"{path}: a SavedModel needs TensorFlow to freeze its variables: {TF_EXTRA}")
    from tensorflow.core.protobuf import config_pb2, saved_model_pb2
    from tensorflow.python.framework import convert_to_constants
    from tensorflow.python.grappler import tf_optimizer

    tf1 = tf.compat.v1
    saved = saved_model_pb2.SavedModel()
    try:
        saved.ParseFromString((path / "saved_model.pb").read_bytes())
    except Exception as err:
        raise HhbcError(f"{path}: not a TensorFlow SavedModel ({_first_line(err)})") from None
    metas = [m for m in saved.meta_graphs if signature_key in m.signature_def]
    if not metas:
        found = sorted({k for m in saved.meta_graphs for k in m.signature_def if not k.startswith("__")})
        raise HhbcError(f"{path}: no signature '{signature_key}' in the SavedModel "
                        f"(it has: {', '.join(found) or 'none'})")
    tags = list(metas[0].meta_info_def.tags)
    graph = tf.Graph()
    try:
        with quiet(), graph.as_default(), tf1.Session(graph=graph) as sess:
            meta = tf1.saved_model.loader.load(sess, tags, str(path))
            sig = meta.signature_def[signature_key]
            inputs = {k: sig.inputs[k].name for k in sorted(sig.inputs)}
            outputs = {k: sig.outputs[k].name for k in sorted(sig.outputs)}
            fetch_nodes = sorted({split_tensor(t)[0] for t in outputs.values()})
            frozen = convert_to_constants.convert_variables_to_constants_from_session_graph(
                sess, graph.as_graph_def(), fetch_nodes)
        if frozen.library.function:
            with quiet(), tf.Graph().as_default() as g:
                tf1.import_graph_def(frozen, name="")
                meta_graph = tf1.train.export_meta_graph(graph=g, graph_def=frozen)
                meta_graph.collection_def["train_op"].node_list.value.extend(fetch_nodes)
                config = config_pb2.ConfigProto()
                config.graph_options.rewrite_options.optimizers.append("function")
                config.graph_options.rewrite_options.min_graph_nodes = -1
                frozen = tf_optimizer.OptimizeGraph(config, meta_graph)
    except HhbcError:
        raise
    except Exception as err:
        raise HhbcError(f"{path}: TensorFlow could not freeze the SavedModel: {_first_line(err)}") from None
    return frozen.SerializeToString(), (inputs, outputs)


def _reference_fn(graph_bytes: bytes, feeds: list[str], fetches: list[str], inputs: list[TensorInfo]):
    """TensorFlow (1.x graph mode) on the original graph: feed the -in tensors, fetch the -on ones."""
    session = []

    def run(arrays):
        tf = import_tensorflow(f"comparing needs TensorFlow: {TEST_EXTRA}")
        tf1 = tf.compat.v1
        if not session:
            graph_def = tf1.GraphDef.FromString(graph_bytes)
            graph = tf.Graph()
            with quiet(), graph.as_default():
                tf1.import_graph_def(graph_def, name="")
            session.append(tf1.Session(graph=graph))
        feed = {name: np.asarray(a, dtype=i.dtype).reshape(i.shape) for name, a, i in zip(feeds, arrays, inputs)}
        with quiet():
            return [np.asarray(r) for r in session[0].run(fetches, feed)]

    return run
