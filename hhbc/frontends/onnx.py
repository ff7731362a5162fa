"""ONNX frontend: onnx ModelProto -> Relax, through TVM's own ONNX importer.

hhbc adds what firmware needs on top of TVM's importer:
  * static input shapes from the model, -is and -in/-on cuts (HHB semantics);
  * shape arithmetic (Shape -> Gather -> Concat -> Reshape) folded by onnxsim
    once the shapes are static;
  * Clip, Pad and auto_pad Conv imported as high-level Relax ops instead of the
    opaque TIR functions TVM emits for them;
  * every layer's output bound to a Relax var that remembers the ONNX node name,
    so generated C can carry it in comments.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import io
import math
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import onnx

from hhbc.errors import HhbcError
from hhbc.frontends import onnx_ops
from hhbc.frontends.onnx_ops import const_value, first_line, str_attr
from hhbc.frontends import onnx_check, onnx_elementwise, onnx_inputs
from hhbc.frontends.culprit import cause_in_words, one_line
from hhbc.frontends.model import ImportedModel, ImportOptions, TensorInfo
from hhbc.frontends.quiet import quiet
from hhbc.frontends.shapes import resolve_shape
from hhbc.layers import BindingNames, emit_stamped
from hhbc.optimize.qdq_onnx import mark_onnx_qdq

# ONNX ops whose Relax lowering hhbc's kernels cover (after simplification).
SUPPORTED_OPS = frozenset({
    "Abs", "Add", "AveragePool", "BatchNormalization", "Clip", "Concat", "Constant",
    "Conv", "DequantizeLinear", "Div", "Dropout", "Elu", "Erf", "Exp", "Flatten", "Gemm",
    "GlobalAveragePool", "GlobalMaxPool", "HardSigmoid", "HardSwish", "Identity",
    "LeakyRelu", "Log", "LogSoftmax", "MatMul", "Max", "MaxPool", "Mean", "Min", "Mul",
    "Neg", "Pad", "Pow", "PRelu", "QuantizeLinear", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceSum",
    "Relu", "Reshape", "Resize", "Sigmoid", "Softmax", "Sqrt", "Squeeze", "Sub", "Sum",
    "Tanh", "Transpose", "Unsqueeze", "Upsample",
    "ConvTranspose", "DepthToSpace", "InstanceNormalization", "LRN", "Slice", "SpaceToDepth", "Split",
    # H1b: elementwise math and indexing
    "Floor", "Ceil", "Round", "Sign", "Reciprocal", "Softplus", "Softsign", "Selu", "Celu", "Shrink",
    "Gather", "Expand", "Tile", "Where", "ArgMax", "ArgMin",
    "Gelu", "Mish",
})

_QDQ_OPS = ("QuantizeLinear", "DequantizeLinear")

_ONNX_TO_NUMPY = {onnx.TensorProto.FLOAT: "float32", onnx.TensorProto.FLOAT16: "float16",
                  onnx.TensorProto.INT8: "int8", onnx.TensorProto.UINT8: "uint8",
                  onnx.TensorProto.INT32: "int32", onnx.TensorProto.INT64: "int64"}


def load_onnx(path: Path, options: ImportOptions = ImportOptions()) -> ImportedModel:
    """The model imported; its notes (a batch dim fixed to 1, onnxsim giving up) are printed
    once it imported, so that a refusal stays the one line it should be."""
    notes = io.StringIO()
    try:
        with contextlib.redirect_stderr(notes):
            model = _load_onnx(path, options)
    except HhbcError as err:   # names from the file may hold newlines: the message stays one line
        text = str(err)
        if text == one_line(text):
            raise
        raise type(err)(one_line(text)) from None
    sys.stderr.write(notes.getvalue())
    return model


def _load_onnx(path: Path, options: ImportOptions) -> ImportedModel:
    model = onnx_check.check_graph(read_onnx(path), path, options.limits)   # before anything else reads it
    model = onnx_inputs.fold_const_inputs(model, path, options.const_inputs)
    model, inputs = _select_io(model, path, list(options.input_names), list(options.input_shapes),
                               list(options.output_names))
    onnx_inputs.require_shape_values(model, path, [i.name for i in inputs])
    model = onnx_check.check_nodes(model, path, options.limits, SUPPORTED_OPS)   # before onnxsim and TVM
    original = model
    model = onnx_ops.lift_opset(model, path)
    reference_model = model
    model, note = _simplify(model, {i.name: list(i.shape) for i in inputs}, path)
    _check_supported(model, path)
    onnx_inputs.check_integer_arithmetic(model, path)
    _check_qdq(model, path)
    mod = _import_relax(model, inputs, path)
    if note:
        print(note, file=sys.stderr)
    if any(n.op_type in _QDQ_OPS for n in model.graph.node):
        mod = mark_onnx_qdq(mod)   # optimize/qdq_onnx.py normalizes it for the int8 patterns
    outputs = _output_infos(mod, model)
    return ImportedModel(
        mod=mod, inputs=inputs, outputs=outputs, source=path, format="onnx",
        source_ops=dict(Counter(n.op_type for n in original.graph.node)),
        reference=_reference_fn(original, inputs, outputs, lifted=reference_model if reference_model is not original else None),
        output_steps=quantization_steps(reference_model, [o.name for o in outputs]),
    )


def read_onnx(path: Path) -> onnx.ModelProto:
    """Parse the file; a truncated or foreign file is a one-line error, not a traceback."""
    try:
        model = onnx.load(str(path))
    except Exception as err:  # protobuf raises several unrelated types
        raise HhbcError(f"{path}: not a valid ONNX model ({first_line(err)})") from None
    if model.ir_version == 0 or not model.graph.node:
        raise HhbcError(f"{path}: not a valid ONNX model (no graph or IR version)")
    return model


# ---------------------------------------------------------------- IO selection
def _declared_dims(value_info: onnx.ValueInfoProto) -> list | None:
    ttype = value_info.type.tensor_type
    if not ttype.HasField("shape"):
        return None
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in ttype.shape.dim]


def _select_io(model: onnx.ModelProto, path: Path, input_names: list[str],
               input_shapes: list[tuple[int, ...]], output_names: list[str]):
    """Apply -in/-is/-on: cut the graph if asked, and make every input shape static."""
    graph = model.graph
    initializers = {t.name for t in graph.initializer}
    graph_inputs = [i for i in graph.input if i.name not in initializers]
    produced = {o for n in graph.node for o in n.output}
    known = produced | {i.name for i in graph_inputs}

    for name in input_names + output_names:
        if name not in known:
            raise HhbcError(f"{path}: no tensor named '{name}' in the model (from -in/-on)")
    default_inputs = [i.name for i in graph_inputs]
    names = input_names or default_inputs
    if input_shapes and len(input_shapes) != len(names):
        raise HhbcError(
            f"-is gives {len(input_shapes)} shape(s) for {len(names)} input(s) "
            f"({'; '.join(names)})"
        )
    cut = (input_names and set(input_names) != set(default_inputs)) or (
        output_names and output_names != [o.name for o in graph.output])
    if cut:
        model = _extract(model, path, names, output_names or [o.name for o in graph.output])
        graph_inputs = {i.name: i for i in model.graph.input}
    else:
        graph_inputs = {i.name: i for i in graph_inputs}

    infos = []
    for idx, name in enumerate(names):
        vi = graph_inputs[name]
        dtype = _ONNX_TO_NUMPY.get(vi.type.tensor_type.elem_type)
        if dtype not in ("float32", "int32", "int64"):   # integer inputs: indices (Gather, Embedding)
            raise HhbcError(f"{path}: input '{name}' has type "
                            f"{onnx.TensorProto.DataType.Name(vi.type.tensor_type.elem_type)}; "
                            f"this version of hhbc compiles float32 inputs, and int32/int64 index inputs")
        shape = resolve_shape(name, _declared_dims(vi), input_shapes[idx] if input_shapes else None)
        infos.append(TensorInfo(name, shape, dtype))
    model = _with_static_inputs(model, infos)
    return model, infos


def _extract(model: onnx.ModelProto, path: Path, inputs: list[str], outputs: list[str]) -> onnx.ModelProto:
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
        return onnx.utils.Extractor(inferred).extract_model(inputs, outputs)
    except Exception as err:
        raise HhbcError(f"{path}: cannot cut the graph at -in {inputs} / -on {outputs} "
                        f"({first_line(err)})") from None


def _with_static_inputs(model: onnx.ModelProto, infos: list[TensorInfo]) -> onnx.ModelProto:
    model = onnx.ModelProto.FromString(model.SerializeToString())
    by_name = {i.name: i for i in infos}
    for vi in model.graph.input:
        if vi.name in by_name:
            dims = vi.type.tensor_type.shape.dim
            del dims[:]
            for d in by_name[vi.name].shape:
                dims.add().dim_value = d
    return model


# ---------------------------------------------------------------- simplification
ORT_MAX_IR_VERSION = 10   # accepted by every onnxruntime hhbc supports


def _simplify(model: onnx.ModelProto, shapes: dict[str, list[int]],
              path: Path) -> tuple[onnx.ModelProto, str | None]:
    """Fold shape arithmetic and constants with onnxsim now that shapes are static; returns
    the model and a note to print when onnxsim could not.

    BatchNorm fusion is left to hhbc's own Relax passes so that `-v` shows it.
    """
    import onnxsim

    # onnxsim evaluates constants with onnxruntime, which rejects IR versions newer
    # than it knows (onnx.helper writes the newest); the graph itself is unaffected.
    # It also annotates the model it is given, so it gets a copy.
    candidate = onnx.ModelProto.FromString(model.SerializeToString())
    candidate.ir_version = min(candidate.ir_version, ORT_MAX_IR_VERSION)
    try:
        with quiet():
            simplified, ok = onnxsim.simplify(candidate, overwrite_input_shapes=shapes, skip_fuse_bn=True)
    except Exception as err:
        return (onnx_check.infer_shapes(model, path), f"hhbc: note: {path.name}: onnxsim could not simplify "
                f"the model ({first_line(err)}); importing it as it is")
    if not ok:
        return (onnx_check.infer_shapes(model, path),
                f"hhbc: note: {path.name}: onnxsim's check failed; importing the unsimplified model")
    return onnx_check.infer_shapes(simplified, path), None


def _check_supported(model: onnx.ModelProto, path: Path) -> None:
    """Name every unsupported node in one message, before TVM sees the model."""
    _qoperator_error(model, path)
    onnx_ops.check_dropout_masks(model, path)
    bad = [(n.name or n.output[0], n.op_type) for n in model.graph.node
           if n.domain not in ("", "ai.onnx") or n.op_type not in SUPPORTED_OPS]
    if bad:
        listed = ", ".join(f"'{name}' ({op})" for name, op in bad)
        ops = ", ".join(sorted({op for _, op in bad}))
        raise HhbcError(f"{path}: unsupported ops {ops} at {len(bad)} node(s): {listed}")


# QOperator-format ops (integer ops with their own quantization inputs): hhbc takes the
# QDQ format, which onnxruntime's quantizer writes with QuantFormat.QDQ.
_QOPERATOR_OPS = frozenset({"QLinearConv", "QLinearMatMul", "QLinearAdd", "QLinearMul", "QLinearAveragePool",
                            "QLinearGlobalAveragePool", "QLinearConcat", "QLinearSigmoid", "QLinearLeakyRelu",
                            "QLinearSoftmax", "QGemm", "ConvInteger", "MatMulInteger", "DynamicQuantizeLinear"})


def _qoperator_error(model: onnx.ModelProto, path: Path) -> None:
    bad = [n for n in model.graph.node if n.op_type in _QOPERATOR_OPS]
    if bad:
        n = bad[0]
        raise HhbcError(f"{path}: {n.op_type} node '{n.name or n.output[0]}' is a QOperator-format "
                        f"quantized op ({len(bad)} such node(s)); hhbc compiles QDQ-format models "
                        "(QuantizeLinear/DequantizeLinear around float ops)")


def _check_qdq(model: onnx.ModelProto, path: Path) -> None:
    """What the int8 kernels can run: int8 activations with one scale and zero point, int8
    weights, int32 biases; anything else is refused by node, before TVM sees it."""
    consts = {t.name: t for t in model.graph.initializer}
    consts.update({n.output[0]: n.attribute[0].t for n in model.graph.node
                   if n.op_type == "Constant" and n.attribute and n.attribute[0].name == "value"})
    for n in model.graph.node:
        if n.op_type not in _QDQ_OPS:
            continue
        where = f"{path}: {n.op_type} node '{n.name or n.output[0]}'"
        if any(a.name == "block_size" and a.i for a in n.attribute):
            raise HhbcError(f"{where}: blocked quantization is not supported")
        if len(n.input) < 3 or not n.input[2]:
            raise HhbcError(f"{where}: no zero point, so uint8; hhbc supports int8 quantization")
        zp = consts.get(n.input[2])
        scale = consts.get(n.input[1])
        if zp is None or scale is None:
            raise HhbcError(f"{where}: scale and zero point must be constants")
        dtype = onnx.TensorProto.DataType.Name(zp.data_type)
        on_constant = n.op_type == "DequantizeLinear" and n.input[0] in consts
        allowed = ("INT8", "INT32") if on_constant else ("INT8",)
        if dtype not in allowed:
            raise HhbcError(f"{where}: {dtype.lower()} quantization is not supported "
                            f"({'int8 weights or int32 biases' if on_constant else 'int8 activations'} only)")
        if not on_constant and int(np.prod(scale.dims, dtype=np.int64)) > 1:
            raise HhbcError(f"{where}: per-channel quantized activations are not supported (per-tensor only)")
        if scale.data_type != onnx.TensorProto.FLOAT:
            raise HhbcError(f"{where}: {onnx.TensorProto.DataType.Name(scale.data_type).lower()} scales "
                            "are not supported (float32)")
        if list(zp.dims) != list(scale.dims):
            raise HhbcError(f"{where}: scale of shape {list(scale.dims)} and zero point of shape "
                            f"{list(zp.dims)} differ")
        data = consts.get(n.input[0])
        if data is not None and len(scale.dims) == 1 and scale.dims[0] > 1:   # per-axis: one per channel
            axis = next((a.i for a in n.attribute if a.name == "axis"), 1)
            dims = list(data.dims)
            if not -len(dims) <= axis < len(dims) or dims[axis] != scale.dims[0]:
                raise HhbcError(f"{where}: {scale.dims[0]} per-axis scales for axis {axis} of a tensor "
                                f"of shape {dims}")
        values = onnx.numpy_helper.to_array(scale).reshape(-1)
        if values.size == 0 or not np.all(np.isfinite(values) & (values > 0)):
            shown = values[:4].tolist()
            raise HhbcError(f"{where}: scale {shown}{' ...' if values.size > 4 else ''} must be positive "
                            "and finite")


# ---------------------------------------------------------------- Relax import
def _import_relax(model: onnx.ModelProto, inputs: list[TensorInfo], path: Path):
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 1)
    importer = _HhbcImporter({i.name: list(i.shape) for i in inputs},
                             {i.name: i.dtype for i in inputs},
                             keep_params_in_input=False, sanitize=True)
    with quiet():
        try:
            return importer.from_onnx(model.graph, opset)
        except HhbcError as err:
            message = f"{path}: {err}"
        except Exception as err:   # TVM's importer or shape checks, on a node hhbc's checks passed
            message = f"{path}: {_import_failure(importer, model, err)}"
        # The half-built module's BlockBuilder warns when collected; let it do so
        # here, quietly (only a message survives: tracebacks would keep it alive).
        del importer
        gc.collect()
    raise HhbcError(message)


def _import_failure(importer, model: onnx.ModelProto, err: BaseException) -> str:
    """TVM's exception as "<Op> node '<name>': <cause in words>" for the node it was converting."""
    where = importer.current_node
    if where is None:
        return f"TVM could not import the model: {cause_in_words(err)}"
    node = model.graph.node[importer.current_index]
    label = onnx_check.node_label(node, importer.current_index)
    if isinstance(err, KeyError) and err.args and str(err.args[0]) in node.input:
        return (f"input '{err.args[0]}' of {label} is not produced by any node, initializer "
                "or graph input")
    return f"{label}: TVM cannot import it: {cause_in_words(err)}"


def _make_importer_class():
    from tvm import relax
    from tvm.relax.frontend.onnx import onnx_frontend as tvm_onnx

    class Importer(tvm_onnx.ONNXGraphImporter):
        """TVM's importer, with hhbc's converters and layer-name tracking."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.hint = BindingNames()   # readable `-v` IR
            self.current_node: tuple[str, str] | None = None   # (name, op type) being converted
            self.current_index = -1

        def _construct_nodes(self, graph):
            # TVM's loop, one node at a time: a failure anywhere in it (an input lookup, a
            # converter, TVM's shape checks) is then known to be this node's.
            for index, node in enumerate(graph.node):
                self.current_node = (node.name or (node.output[0] if node.output else ""), node.op_type)
                self.current_index = index
                one = onnx.GraphProto()
                one.node.append(node)
                super()._construct_nodes(one)
            self.current_node = None

        def _check_for_unsupported_ops(self, graph):
            # Ops only hhbc converts (Celu) are not in TVM's convert map: check the rest.
            pruned = onnx.GraphProto()
            pruned.node.extend(n for n in graph.node if n.op_type not in _OVERRIDES)
            super()._check_for_unsupported_ops(pruned)

        def _convert_operator(self, op_name, inputs, attrs, opset):
            layer = attrs["tvm_custom"]["name"] or ""
            self.current_node = (layer, op_name)
            override = _OVERRIDES.get(op_name)
            if override is not None:
                sym = override(self, self.bb, inputs, attrs, opset)
            else:
                # As TVM's _convert_operator, but stamping the converter's expression
                # before normalizing binds its nested calls (which would lose spans).
                convert_map = tvm_onnx._get_convert_map()
                if op_name not in convert_map:
                    raise NotImplementedError(f"Operator {op_name} not implemented.")
                converter = convert_map[op_name].get_converter(opset)
                sym = converter(self.bb, inputs, attrs, [self._nodes, self._params])
            if isinstance(sym, relax.Expr):
                sym = self.bb.normalize(emit_stamped(self.bb, sym, layer or op_name))
            if isinstance(sym, relax.Call) and isinstance(sym.ty, relax.TensorType):
                hint = self.hint(layer or op_name)
                sym = self.bb.emit(sym, name_hint=hint)
            return sym

    return Importer


def _clip(importer, bb, inputs, attrs, opset):
    """Clip with constant bounds -> relax.clip (TVM emits opaque TIR for it)."""
    from tvm import relax

    lo = attrs.get("min", -math.inf)
    hi = attrs.get("max", math.inf)
    if opset >= 11:
        bounds = []
        for k in (1, 2):
            if len(inputs) > k and inputs[k] is not None:
                value = const_value(inputs[k])
                if value is None:
                    raise HhbcError(f"Clip node '{importer.current_node[0]}': bounds must be constants")
                bounds.append(float(value.reshape(-1)[0]))
            else:
                bounds.append(None)
        lo = bounds[0] if bounds[0] is not None else -math.inf
        hi = bounds[1] if bounds[1] is not None else math.inf
    lo = max(float(lo), -3.4028234663852886e38)
    hi = min(float(hi), 3.4028234663852886e38)
    return relax.op.clip(inputs[0], lo, hi)


def _pad(importer, bb, inputs, attrs, opset):
    """Pad with constant pads -> relax.nn.pad (TVM emits opaque TIR for it)."""
    from tvm import relax

    mode = attrs.get("mode", b"constant")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    if opset < 11:
        pads = list(attrs.get("pads", attrs.get("paddings", ())))
        value = float(attrs.get("value", 0.0))
    else:
        pads = const_value(inputs[1])
        if pads is None:
            raise HhbcError(f"Pad node '{importer.current_node[0]}': pads must be constant")
        pads = [int(p) for p in pads.reshape(-1)]
        value = 0.0
        if len(inputs) > 2 and inputs[2] is not None:
            cv = const_value(inputs[2])
            if cv is None:
                raise HhbcError(f"Pad node '{importer.current_node[0]}': constant_value must be constant")
            value = float(cv.reshape(-1)[0]) if cv.size else 0.0
        if len(inputs) > 3 and inputs[3] is not None:
            raise HhbcError(f"Pad node '{importer.current_node[0]}': the 'axes' input is not supported")
    rank = len(inputs[0].ty.shape)
    if any(p < 0 for p in pads):
        raise HhbcError(f"Pad node '{importer.current_node[0]}': negative pads (cropping) are not supported")
    width = [v for axis in range(rank) for v in (pads[axis], pads[axis + rank])]
    relax_mode = {"constant": "constant", "reflect": "reflect", "edge": "replicate"}.get(mode)
    if relax_mode is None:
        raise HhbcError(f"Pad node '{importer.current_node[0]}': mode '{mode}' is not supported")
    return relax.op.nn.pad(inputs[0], width, relax_mode, value)


def _spatial_rank_check(importer, inputs, what: str) -> None:
    rank = len(inputs[0].ty.shape)
    if rank != 4:
        layer, op_type = importer.current_node
        raise HhbcError(f"{op_type} node '{layer}': only 2-D {what} on NCHW (4-D) inputs is supported, "
                        f"not rank {rank}")


def _explicit_pads(attrs, in_shape, kernel):
    """attrs with auto_pad=SAME_UPPER/SAME_LOWER resolved to explicit pads.

    ONNX: output = ceil(input / stride) for both; the odd pixel of padding goes
    after (UPPER) or before (LOWER). TVM's pool converter gets SAME_LOWER wrong
    (floor(input / stride)), so hhbc resolves it for Conv and the pools alike.
    """
    auto_pad = str_attr(attrs, "auto_pad", "NOTSET")
    if auto_pad not in ("SAME_UPPER", "SAME_LOWER"):
        return attrs
    strides = list(attrs.get("strides", [1] * len(in_shape)))
    dilations = list(attrs.get("dilations", [1] * len(in_shape)))
    before, after = [], []
    for size, k, s, d in zip(in_shape, kernel, strides, dilations):
        out = -(-size // s)
        total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
        small, big = total // 2, total - total // 2
        before.append(small if auto_pad == "SAME_UPPER" else big)
        after.append(big if auto_pad == "SAME_UPPER" else small)
    attrs = dict(attrs)
    attrs["pads"] = tuple(before + after)
    attrs.pop("auto_pad")
    return attrs


def _conv(importer, bb, inputs, attrs, opset):
    """Resolve auto_pad=SAME_* to explicit pads so Conv stays one relax.nn.conv2d; 1-D as 2-D."""
    if len(inputs[0].ty.shape) == 3:
        return onnx_ops.as_2d(importer, bb, inputs, attrs, lambda i, a: _conv(importer, bb, i, a, opset))
    from tvm.relax.frontend.onnx import onnx_frontend as tvm_onnx

    _spatial_rank_check(importer, inputs, "convolution")
    in_shape = [int(d) for d in inputs[0].ty.shape][2:]
    kernel = list(attrs.get("kernel_shape") or [int(d) for d in inputs[1].ty.shape][2:])
    attrs = _explicit_pads(attrs, in_shape, kernel)
    converter = tvm_onnx._get_convert_map()["Conv"].get_converter(opset)
    return converter(bb, inputs, attrs, [importer._nodes, importer._params])


def _pool(importer, bb, inputs, attrs, opset):
    """MaxPool/AveragePool: 2-D only, no Indices output, SAME_* pads resolved here."""
    from tvm.relax.frontend.onnx import onnx_frontend as tvm_onnx

    layer, op_type = importer.current_node
    if len(inputs[0].ty.shape) == 3:
        return onnx_ops.as_2d(importer, bb, inputs, attrs, lambda i, a: _pool(importer, bb, i, a, opset))
    _spatial_rank_check(importer, inputs, "pooling")
    if attrs["tvm_custom"]["num_outputs"] > 1:
        raise HhbcError(f"{op_type} node '{layer}': the Indices output is not supported")
    if int(attrs.get("storage_order", 0)) != 0:
        raise HhbcError(f"{op_type} node '{layer}': storage_order=1 is not supported")
    in_shape = [int(d) for d in inputs[0].ty.shape][2:]
    attrs = _explicit_pads(attrs, in_shape, list(attrs["kernel_shape"]))
    converter = tvm_onnx._get_convert_map()[op_type].get_converter(opset)
    return converter(bb, inputs, attrs, [importer._nodes, importer._params])


def _prelu(importer, bb, inputs, attrs, opset):
    """PRelu whose slope varies along more than one axis -> relu(x) + slope * min(x, 0).

    TVM lowers it to where(less(x, 0), ...), which has no kernel; a slope along one
    axis (or a scalar) stays one relax.nn.prelu.
    """
    from tvm import relax
    from tvm.relax.frontend.onnx import onnx_frontend as tvm_onnx

    x, slope = inputs[0], inputs[1]
    slope_shape = [int(d) for d in slope.ty.shape]
    x_shape = [int(d) for d in x.ty.shape]
    try:
        np.broadcast_shapes(tuple(x_shape), tuple(slope_shape))
    except ValueError:
        raise HhbcError(f"PRelu node '{importer.current_node[0]}': slope {slope_shape} does not "
                        f"broadcast to the input {x_shape}") from None
    if sum(d != 1 for d in slope_shape) <= 1:
        converter = tvm_onnx._get_convert_map()["PRelu"].get_converter(opset)
        return converter(bb, inputs, attrs, [importer._nodes, importer._params])
    zero = relax.const(0.0, x.ty.dtype)
    negative = bb.normalize(relax.op.multiply(slope, bb.normalize(relax.op.minimum(x, zero))))
    return relax.op.add(bb.normalize(relax.op.nn.relu(x)), negative)


def _pow(importer, bb, inputs, attrs, opset):
    """Pow with an integer exponent (ONNX allows it; TVM wants one dtype): a float constant."""
    from tvm import relax

    base, exponent = inputs
    if str(exponent.ty.dtype) != str(base.ty.dtype):
        value = const_value(exponent)
        if value is None:
            raise HhbcError(f"Pow node '{importer.current_node[0]}': a non-float exponent must be constant")
        exponent = relax.const(value.astype(str(base.ty.dtype)))
    return relax.op.power(base, exponent)


def _variadic(binary_op: str, mean: bool = False):
    """Max/Min/Sum/Mean of any number of inputs -> a chain of broadcasting binary ops.

    TVM broadcasts every input to the full shape and stacks them, which needs
    a 5-D stack and a reduction no kernel wants; the chain is what users wrote.
    """

    def convert(importer, bb, inputs, attrs, opset):
        from tvm import relax

        args = [a for a in inputs if a is not None]
        op = getattr(relax.op, binary_op)
        out = args[0]
        for arg in args[1:]:
            out = bb.normalize(op(out, arg))
        if mean and len(args) > 1:
            out = relax.op.divide(out, relax.const(float(len(args)), out.ty.dtype))
        return out

    return convert


def _resize(importer, bb, inputs, attrs, opset):
    """Resize (all opsets) and Upsample -> one relax.image.resize2d with ONNX's exact semantics.

    Unlike TVM's converter this reads Resize-10 / Upsample scales, honours the
    opset < 11 'simple' nearest rounding, and keeps a scale the output size does
    not imply (e.g. 0.6 on 9 rows: 5 rows, sampled at 1/0.6 spacing) for the
    resize tables (see hhbc.lower.resize.encode_scales).
    """
    from tvm import relax

    from hhbc.lower.resize import encode_scales

    layer = importer.current_node[0]
    op_type = importer.current_node[1]
    x = inputs[0]
    shape = [int(d) for d in x.ty.shape]
    rank = len(shape)
    if rank != 4:
        raise HhbcError(f"{op_type} node '{layer}': only 4-D (NCHW) inputs are supported, not rank {rank}")
    mode = str_attr(attrs, "mode", "nearest")
    method = {"nearest": "nearest_neighbor", "linear": "linear", "bilinear": "linear"}.get(mode)
    if method is None:
        raise HhbcError(f"{op_type} node '{layer}': mode '{mode}' is not supported (nearest, linear)")

    def constant(k, what):
        if len(inputs) <= k or inputs[k] is None:
            return None
        value = const_value(inputs[k])
        if value is None:
            raise HhbcError(f"{op_type} node '{layer}': {what} must be constant")
        return value.reshape(-1) if value.size else None

    scales = sizes = None
    if op_type == "Upsample" or opset < 11:
        # Upsample-7 has a 'scales' attribute, Upsample-9 and Resize-10 a scales input.
        coord = "asymmetric"
        scales = attrs.get("scales")
        scales = np.array(scales, np.float32) if scales is not None else constant(1, "scales")
        rounding = None   # 'simple': decided from the scales below
    else:
        coord = str_attr(attrs, "coordinate_transformation_mode", "half_pixel")
        rounding = str_attr(attrs, "nearest_mode", "round_prefer_floor")
        if coord == "tf_crop_and_resize":
            raise HhbcError(f"Resize node '{layer}': coordinate mode 'tf_crop_and_resize' is not supported")
        if str_attr(attrs, "keep_aspect_ratio_policy", "stretch") != "stretch":
            raise HhbcError(f"Resize node '{layer}': keep_aspect_ratio_policy other than 'stretch' "
                            "is not supported")
        scales, sizes = constant(2, "scales"), constant(3, "sizes")
        axes = attrs.get("axes")
        if axes is not None:   # opset 18: scales/sizes name only these axes
            full_scales, full_sizes = [1.0] * rank, list(shape)
            for i, axis in enumerate(int(a) % rank for a in axes):
                if scales is not None:
                    full_scales[axis] = float(scales[i])
                if sizes is not None:
                    full_sizes[axis] = int(sizes[i])
            scales = np.array(full_scales, np.float32) if scales is not None else None
            sizes = np.array(full_sizes, np.int64) if sizes is not None else None
    if (scales is None) == (sizes is None):
        raise HhbcError(f"{op_type} node '{layer}': exactly one of scales and sizes must be given")
    if scales is not None:
        scales = np.asarray(scales, np.float32)
        # ONNX (and onnxruntime): floor(input_dim * scale), in float32.
        out = [int(np.floor(np.float32(d) * s)) for d, s in zip(shape, scales)]
        roi = encode_scales(shape[2:], out[2:], [float(s) for s in scales[2:]])
    else:
        out = [int(v) for v in sizes]
        scales = np.array([o / d for o, d in zip(out, shape)], np.float32)
        roi = [0.0, 0.0, 0.0, 0.0]   # the scale is out/in
    if len(out) != rank or out[:2] != shape[:2]:
        raise HhbcError(f"{op_type} node '{layer}': only H and W may be resized (output {out}, input {shape})")
    if rounding is None:
        # onnxruntime's opset < 11 nearest: truncate when upsampling, ceil when downsampling.
        down = [bool(s < 1) for s in scales[2:]]
        if method == "nearest_neighbor" and down[0] != down[1]:
            raise HhbcError(f"{op_type} node '{layer}': nearest resize that upsamples one axis and "
                            "downsamples the other is not supported before opset 11")
        rounding = "ceil" if down[0] else "floor"
    if method == "linear":
        rounding = ""
    return relax.op.image.resize2d(x, relax.ShapeExpr(out[2:]), roi, "NCHW", method, coord, rounding)


_OVERRIDES = {
    "Clip": _clip, "Pad": _pad, "Conv": _conv, "PRelu": _prelu, "Pow": _pow,
    "MaxPool": _pool, "AveragePool": _pool,
    "Resize": _resize, "Upsample": _resize,
    "Max": _variadic("maximum"), "Min": _variadic("minimum"), "Sum": _variadic("add"),
    "Mean": _variadic("add", mean=True),
    **onnx_ops.OVERRIDES,   # ConvTranspose, LRN, InstanceNormalization, Dropout, Slice
    **onnx_elementwise.OVERRIDES,   # Softplus, Celu, Shrink, Tile, Gather, Gelu, Mish
}
_importer_class = None


def _HhbcImporter(*args, **kwargs):
    global _importer_class
    if _importer_class is None:
        _importer_class = _make_importer_class()
    return _importer_class(*args, **kwargs)


def _output_infos(mod, model: onnx.ModelProto) -> list[TensorInfo]:
    from tvm import relax

    sinfo = mod["main"].ret_ty
    fields = sinfo.fields if isinstance(sinfo, relax.TupleType) else [sinfo]
    names = [o.name for o in model.graph.output]
    infos = []
    for name, f in zip(names, fields):
        if getattr(f, "shape", None) is None or not all(isinstance(d, int) or hasattr(d, "value")
                                                        for d in f.shape):
            raise HhbcError(f"output '{name}': its shape is not static after import (it depends on "
                            "an input's values; give that input as a constant or fix it with -is)")
        infos.append(TensorInfo(name, tuple(int(d) for d in f.shape), str(f.dtype)))
    return infos


# ---------------------------------------------------------------- reference
def _reference_fn(model: onnx.ModelProto, inputs: list[TensorInfo], outputs: list[TensorInfo],
                  lifted: onnx.ModelProto | None = None):
    """onnxruntime on the (cut, shape-fixed) original model: the ground truth. When
    onnxruntime cannot load an old opset that hhbc lifted, the lifted model is the
    reference instead, and a note says so."""
    blob = model.SerializeToString()
    lifted_blob = lifted.SerializeToString() if lifted is not None else None

    def session(ort, data, opts):
        try:
            return ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
        except Exception as err:
            if "IR version" not in str(err):
                raise
            patched = onnx.ModelProto.FromString(data)
            patched.ir_version = min(patched.ir_version, ORT_MAX_IR_VERSION)
            return ort.InferenceSession(patched.SerializeToString(), opts, providers=["CPUExecutionProvider"])

    def run(arrays):
        try:
            import onnxruntime as ort
        except ImportError:
            raise HhbcError("comparing needs onnxruntime: pip install 'hhbc[test]'") from None
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        try:
            sess = session(ort, blob, opts)
        except Exception as err:
            if lifted_blob is None:
                raise HhbcError(f"onnxruntime cannot load the model: {first_line(err)}") from None
            try:
                sess = session(ort, lifted_blob, opts)
            except Exception as err2:
                raise HhbcError(f"onnxruntime cannot load the model ({first_line(err)}) nor the "
                                f"model lifted to opset {onnx_ops.LIFT_TO_OPSET} ({first_line(err2)})") from None
            print(f"hhbc: note: onnxruntime cannot run the original opset-{onnx_ops.opset_of(model)} model; "
                  f"comparing against the model lifted to opset {onnx_ops.LIFT_TO_OPSET} by onnx.version_converter",
                  file=sys.stderr)
        feed = {i.name: np.asarray(a, dtype=i.dtype).reshape(i.shape) for i, a in zip(inputs, arrays)}
        return [np.asarray(r) for r in sess.run([o.name for o in outputs], feed)]

    return run



# ---------------------------------------------------------------- quantized outputs
# Ops that only move data: no rounding of their own between a QuantizeLinear and an output.
_MOVES = frozenset({"Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze", "Identity"})


def quantization_steps(model: onnx.ModelProto, names: list[str]):
    """For each output name: a QuantStep when the output is the dequantized value of an int8
    tensor or follows from such values by float ops (compare it in quantization steps),
    else None (a float output, compared with the float tolerance). The step is the largest
    DequantizeLinear scale the output depends on; 0 steps when only QuantizeLinear,
    DequantizeLinear and data movement lie between the graph inputs and the output."""
    from hhbc.compare import QUANT_STEPS, QuantStep

    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    producer = {o: n for n in graph.node for o in n.output}
    memo: dict[str, tuple[set[float], bool] | None] = {}

    def walk(name: str) -> tuple[set[float], bool] | None:
        """(DequantizeLinear scales upstream, only Q/DQ/moves upstream) or None (float path)."""
        if name in memo:
            return memo[name]
        memo[name] = None   # a cycle cannot happen in ONNX; this guards a malformed file
        node = producer.get(name)
        if name in inits or name == "":
            result: tuple[set[float], bool] | None = (set(), True)
        elif node is None or node.op_type == "QuantizeLinear":
            result = None   # a float graph input, or an int8 value (compared as integers)
        elif node.op_type == "DequantizeLinear" and node.input[0] not in inits:
            src = walk_int8(node.input[0])
            scale = inits.get(node.input[1])
            result = None if src is None or scale is None else (
                {float(np.max(onnx.numpy_helper.to_array(scale)))}, src)
        else:
            parts = [walk(i) for i in node.input if i]   # none: a Constant node
            result = None if any(p is None for p in parts) else (
                set().union(set(), *(p[0] for p in parts)),
                (node.op_type in _MOVES or not parts) and all(p[1] for p in parts))
        memo[name] = result
        return result

    @functools.cache
    def walk_int8(name: str) -> bool | None:
        """For an int8 tensor: does only Q/DQ/data movement lie upstream (None: a float
        path we cannot follow)?"""
        node = producer.get(name)
        if node is None:
            return True   # an int8 graph input or constant
        if node.op_type == "QuantizeLinear":
            return quantized_float(node.input[0])
        if node.op_type in _MOVES:
            return walk_int8(node.input[0])
        return False

    @functools.cache
    def quantized_float(name: str) -> bool | None:
        """The float input of a QuantizeLinear: a graph input (through data movement) is
        exact data; anything else is what walk() says of it."""
        node = producer.get(name)
        if node is None and name not in inits:
            return True
        if node is not None and node.op_type in _MOVES:
            return quantized_float(node.input[0])
        up = walk(name)
        return None if up is None else up[1]

    # Every tensor in topological order first: each call then finds its operands answered,
    # so the recursion stays shallow however deep the graph is.
    for node in graph.node:
        for name in node.output:
            walk(name)
            walk_int8(name)
            quantized_float(name)
    steps = []
    for name in names:
        found = walk(name)
        steps.append(None if not found or not found[0] else
                     QuantStep(max(found[0]), 0 if found[1] else QUANT_STEPS))
    return steps
