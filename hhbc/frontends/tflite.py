"""TFLite frontend: a .tflite flatbuffer -> Relax, through TVM's own TFLite importer.

hhbc adds what firmware needs on top of TVM's importer:
  * the file is walked once up front, so a truncated or foreign file is a
    one-line error naming it, not a traceback from deep inside flatbuffers;
  * every op is checked before TVM sees the model: custom ops and builtins
    hhbc cannot lower are all named in one message (op index, output tensor);
  * float models; fully-int8 models (int8 activations, int8 or float IO, int8 weights, int32
    biases) made of the ops in INT8_OPS; hybrid models, whose int8 conv/FC weights stay int8;
    float16-weight and sparse models, and DEQUANTIZE of any constant (float16 or int8, after
    DENSIFY or not), rewritten to float32 weights first (tflite_rewrite.py); MediaPipe's custom
    op Convolution2DTransposeBias (tflite_float.py; any other custom op is refused by name);
    uint8/int16 quantization is refused by name instead of being compiled into wrong results;
  * every call a TFLite op becomes is stamped with the op's output tensor name
    (TVM's importer keeps none), so generated C carries it in comments;
  * HHB's -is (input shapes), -on (outputs: any tensors) and -in (inputs: any
    tensors; the graph is cut between them).
The reference is the TFLite interpreter (ai-edge-litert) with its reference kernels, on the
original file; for a hybrid model, on its float twin (weights dequantized), since the
interpreter's hybrid kernels quantize activations on the fly and hhbc does not.
"""

from __future__ import annotations

import gc
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hhbc.errors import HhbcError
from hhbc.frontends.model import ImportedModel, ImportOptions, TensorInfo
from hhbc.frontends.quiet import quiet
from hhbc.frontends.shapes import resolve_shape
from hhbc.frontends import tflite_float, tflite_space_batch
from hhbc.frontends.tflite_dilated import fold_dilated_convs
from hhbc.frontends.tflite_int8 import INT8_INDEX_OPERAND_OPS, INT8_INDEX_OUTPUT_OPS, INT8_OPS
from hhbc.frontends.tflite_rewrite import dequantized_weights, plain_weights
from hhbc.layers import BindingNames, emit_stamped

# TFLite builtins whose Relax (from TVM's importer) hhbc's kernels cover, for float models.
SUPPORTED_OPS = frozenset({
    "ABS", "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "DIV",
    "EXP", "FULLY_CONNECTED", "HARD_SWISH", "LEAKY_RELU", "LOG", "LOGISTIC",
    "MAX_POOL_2D", "MAXIMUM", "MEAN", "MINIMUM", "MUL", "NEG", "PAD", "PADV2", "RELU", "RELU6",
    "RELU_N1_TO_1", "RESHAPE", "RSQRT", "SOFTMAX", "SQRT", "SUB", "SUM", "TANH",
    "TRANSPOSE", "REDUCE_MAX", "REDUCE_MIN",
}) | frozenset({
    "PRELU", "STRIDED_SLICE", "SLICE", "SPLIT", "SPLIT_V", "PACK", "UNPACK", "RESIZE_BILINEAR",
    "RESIZE_NEAREST_NEIGHBOR", "TRANSPOSE_CONV", "DEPTH_TO_SPACE", "SPACE_TO_DEPTH",
    "BATCH_TO_SPACE_ND", "SPACE_TO_BATCH_ND", "SQUARED_DIFFERENCE", "ELU", "L2_NORMALIZATION",
    "SQUEEZE", "EXPAND_DIMS", "GATHER", "FLOOR", "ARG_MAX", "ARG_MIN",
}) | frozenset({   # TFLite Micro builtins an existing kernel computes (tflite_float.py)
    "ADD_N", "BATCH_MATMUL", "BROADCAST_TO", "GELU", "LOCAL_RESPONSE_NORMALIZATION", "LOG_SOFTMAX",
    "MIRROR_PAD", "POW", "SELECT", "SELECT_V2", "SQUARE", "TILE",
})

# Custom ops (custom_code) hhbc lowers, in float models: MediaPipe's transposed conv + bias.
SUPPORTED_CUSTOM_OPS = frozenset({"Convolution2DTransposeBias"})

# tflite.TensorType -> numpy dtype name (tflite/TensorType.py)
_TYPES = {0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 5: "string", 6: "bool",
          7: "int16", 8: "complex64", 9: "int8", 10: "float64", 11: "complex128", 12: "uint64",
          13: "resource", 14: "variant", 15: "uint32", 16: "uint16", 17: "int4"}
_QUANT_TYPES = {"int8", "uint8", "int16", "int4"}


def load_tflite(path: Path, options: ImportOptions = ImportOptions()) -> ImportedModel:
    buf = path.read_bytes()
    graph = read_tflite(path, buf)
    plain = plain_weights(graph, buf, path)
    if plain is not buf:
        graph = read_tflite(path, plain)
    folded = fold_dilated_convs(graph, plain, path)   # S2B -> conv -> B2S: one dilated conv
    if folded is not plain:
        graph = read_tflite(path, folded)
    int8 = _is_full_int8(graph)
    if int8:
        _check_int8(graph, path)
    else:
        graph.hybrid = hybrid_weights(graph)
        _check_quantization(graph, path, only=graph.hybrid)
        _check_float(graph, path)
        _check_supported(graph, path)
    inputs, output_names = _select_io(graph, path, options, int8)
    mod = _import_relax(graph, inputs, output_names, path)
    outputs = _output_infos(mod, output_names, graph if int8 else None)
    return ImportedModel(
        mod=mod, inputs=inputs, outputs=outputs, source=path, format="tflite",
        source_ops=dict(Counter(op.code for op in graph.ops)),
        reference=_reference_fn(dequantized_weights(plain, graph.hybrid, path) if graph.hybrid else buf,
                                graph, inputs, outputs, path),
    )


# ---------------------------------------------------------------- reading
@dataclass
class _Tensor:
    index: int
    name: str
    dtype: str
    shape: tuple[int, ...]
    signature: tuple[int, ...]      # -1 for dynamic dims
    buffer_bytes: int               # constant data size (0: an activation)
    quantized: bool                 # has scales
    sparse: bool
    scale: tuple[float, ...] = ()
    zero_point: tuple[int, ...] = ()
    quant_axis: int = 0


@dataclass
class _Op:
    index: int
    code: str           # builtin name, or "CUSTOM"
    custom: str         # the custom code of a CUSTOM op
    inputs: list[int]
    outputs: list[int]


@dataclass
class _Graph:
    model: object       # tflite.Model
    tensors: list[_Tensor]
    ops: list[_Op]
    inputs: list[int]
    outputs: list[int]
    hybrid: set[int] = field(default_factory=set)   # int8 weights of hybrid ops (hybrid_weights)

    def tensor_name(self, idx: int) -> str:
        return self.tensors[idx].name

    def op_label(self, op: _Op) -> str:
        out = self.tensors[op.outputs[0]].name if op.outputs else "?"
        code = f"custom op '{op.custom}'" if op.code == "CUSTOM" else op.code
        return f"op {op.index} {code} -> '{out}'"


def read_tflite(path: Path, buf: bytes) -> _Graph:
    """Parse and walk the whole flatbuffer: out-of-range offsets surface here, named."""
    try:
        import tflite
        from tflite.BuiltinOperator import BuiltinOperator
    except ImportError:
        raise HhbcError("reading .tflite models needs the 'tflite' flatbuffer package: pip install tflite") from None

    if len(buf) < 8 or buf[4:8] != b"TFL3":
        raise HhbcError(f"{path}: not a TFLite model (no 'TFL3' flatbuffer identifier)")
    builtin = {v: k for k, v in vars(BuiltinOperator).items() if not k.startswith("_")}
    try:
        model = tflite.Model.GetRootAsModel(buf, 0)
        if model.SubgraphsLength() < 1:
            raise HhbcError(f"{path}: not a valid TFLite model (no subgraph)")
        buffers = []
        for b in range(model.BuffersLength()):
            buffer = model.Buffers(b)
            size = buffer.DataLength()
            if size:
                buffer.DataAsNumpy()   # reads through the end: a truncated file raises here
            elif buffer.Offset() > 1:  # data stored after the flatbuffer (models > 2 GB)
                size = buffer.Size()
                if buffer.Offset() + size > len(buf):
                    raise HhbcError(f"{path}: truncated TFLite model (buffer {b} ends past the file)")
            buffers.append(size)
        sg = model.Subgraphs(0)
        tensors = []
        for i in range(sg.TensorsLength()):
            t = sg.Tensors(i)
            raw = t.Name()
            try:
                name = raw.decode("utf-8") if raw is not None else f"tensor_{i}"
            except UnicodeDecodeError:   # TVM's importer decodes names strictly
                raise HhbcError(f"{path}: not a valid TFLite model (the name of tensor {i} is not "
                                f"UTF-8: {raw[:40]!r})") from None
            q = t.Quantization()
            quantized = q is not None and (q.ScaleLength() > 0 or q.DetailsType() != 0)
            shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
            sig = tuple(int(d) for d in t.ShapeSignatureAsNumpy()) if t.ShapeSignatureLength() else shape
            bidx = t.Buffer()
            scale = tuple(float(v) for v in q.ScaleAsNumpy()) if q is not None and q.ScaleLength() else ()
            zps = tuple(int(v) for v in q.ZeroPointAsNumpy()) if q is not None and q.ZeroPointLength() else ()
            tensors.append(_Tensor(i, name, _TYPES.get(t.Type(), f"type{t.Type()}"), shape, sig,
                                   buffers[bidx] if 0 <= bidx < len(buffers) else 0,
                                   quantized, t.Sparsity() is not None, scale, zps,
                                   q.QuantizedDimension() if q is not None else 0))
        ops = []
        for i in range(sg.OperatorsLength()):
            op = sg.Operators(i)
            oc = model.OperatorCodes(op.OpcodeIndex())
            code_id = max(oc.DeprecatedBuiltinCode(), oc.BuiltinCode())
            code = builtin.get(code_id, f"BUILTIN_{code_id}")
            custom = (oc.CustomCode() or b"").decode("utf-8", "replace") if code == "CUSTOM" else ""
            ins = [int(x) for x in op.InputsAsNumpy()] if op.InputsLength() else []
            outs = [int(x) for x in op.OutputsAsNumpy()] if op.OutputsLength() else []
            # -1: an optional input left out; an output is always a tensor
            bad = [x for x in ins if not -1 <= x < len(tensors)] + [x for x in outs if not 0 <= x < len(tensors)]
            if bad:
                raise HhbcError(f"{path}: not a valid TFLite model (op {i} names tensor {bad[0]} "
                                f"of {len(tensors)})")
            ops.append(_Op(i, code, custom, ins, outs))
        inputs = [int(x) for x in sg.InputsAsNumpy()] if sg.InputsLength() else []
        outputs = [int(x) for x in sg.OutputsAsNumpy()] if sg.OutputsLength() else []
        if any(not 0 <= x < len(tensors) for x in inputs + outputs):
            raise HhbcError(f"{path}: not a valid TFLite model (graph IO names a missing tensor)")
    except HhbcError:
        raise
    except Exception as err:   # flatbuffers raises IndexError, struct.error, ValueError, ...
        raise HhbcError(f"{path}: truncated or corrupt TFLite model ({type(err).__name__}: "
                        f"{_first_line(err)})") from None
    if not ops:
        raise HhbcError(f"{path}: TFLite model has no operators")
    return _Graph(model, tensors, ops, inputs, outputs)


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__


# ---------------------------------------------------------------- checks
def _check_float(graph: _Graph, path: Path) -> None:
    """Refuse what this version would compile wrongly: quantized activations, float16 or sparse
    tensors the rewrite left (tflite_rewrite.py). Int8 weights of hybrid ops (graph.hybrid) are fine."""
    for op in graph.ops:
        if op.code in ("QUANTIZE", "DEQUANTIZE"):
            src = graph.tensors[op.inputs[0]] if op.inputs else None
            if src is not None and src.dtype == "float16":
                raise HhbcError(f"{path}: float16 activations are not supported "
                                f"({graph.op_label(op)} reads float16 tensor '{src.name}')")
            raise HhbcError(f"{path}: this mix of float and quantized TFLite ops is not supported "
                            f"({graph.op_label(op)})")
        for idx in op.inputs + op.outputs:
            if idx < 0 or idx in graph.hybrid:
                continue
            t = graph.tensors[idx]
            if t.quantized or t.dtype in _QUANT_TYPES:
                what = "quantized weight" if t.buffer_bytes else "quantized tensor"
                raise HhbcError(f"{path}: {what} '{t.name}' ({t.dtype}) of {graph.op_label(op)} is "
                                f"not supported (int8 weights only as the weights of "
                                f"{'/'.join(sorted(_HYBRID_OPS))} with float inputs)")
            if t.dtype == "float16":
                raise HhbcError(f"{path}: float16 tensor '{t.name}' of {graph.op_label(op)} is not "
                                f"supported (float16 weights only behind DEQUANTIZE)")
            if t.sparse:
                raise HhbcError(f"{path}: sparse tensor '{t.name}' of {graph.op_label(op)} is not "
                                f"supported (sparse weights only as constants)")


# Ops whose weights (input 1) may be int8 in a float model: TFLite's dynamic-range ("hybrid")
# quantization. hhbc keeps those weights int8 in flash (optimize/weight_only.py).
_HYBRID_OPS = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"})


def hybrid_weights(graph: _Graph) -> set[int]:
    """Tensors that are symmetric int8 constant weights of a float CONV_2D / DEPTHWISE_CONV_2D /
    FULLY_CONNECTED: the only quantized tensors a float (hybrid) model may hold."""
    found = set()
    for op in graph.ops:
        if op.code not in _HYBRID_OPS or len(op.inputs) < 2 or min(op.inputs[:2]) < 0:
            continue
        x, w = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
        if (x.dtype == "float32" and not x.quantized and w.dtype == "int8" and w.buffer_bytes
                and w.scale and not any(w.zero_point) and not w.sparse):
            found.add(w.index)
    return found


def _is_full_int8(graph: _Graph) -> bool:
    """Int8 activations everywhere but float32 IO through a QUANTIZE (float -> int8) or a
    DEQUANTIZE (int8 -> float): a model hhbc compiles in int8. Anything else quantized falls
    through to _check_float, which names what it refuses."""
    float_io = _float_io_tensors(graph)
    index_outputs = _index_outputs(graph)
    seen = False
    for op in graph.ops:
        for idx in op.inputs + op.outputs:
            if idx < 0 or idx in float_io or idx in index_outputs:
                continue
            t = graph.tensors[idx]
            if t.sparse or t.dtype == "float16":
                return False
            if t.buffer_bytes:
                if t.dtype in ("float32", "int32") and not t.quantized and op.code in INT8_INDEX_OPERAND_OPS:
                    continue   # a shape, axes or paddings operand
                if not t.quantized or t.dtype not in ("int8", "int32"):
                    return False
            elif t.dtype != "int8" or not t.quantized:
                return False
            seen = True
    return seen


def _index_outputs(graph: _Graph) -> set[int]:
    """The int32/int64 index outputs of an int8 model's ARG_MAX/ARG_MIN (not quantized)."""
    return {o for op in graph.ops if op.code in INT8_INDEX_OUTPUT_OPS for o in op.outputs
            if graph.tensors[o].dtype in ("int32", "int64") and not graph.tensors[o].quantized}


def _float_io_tensors(graph: _Graph) -> set[int]:
    """Float32 activations of an int8 model: a QUANTIZE's input, a DEQUANTIZE's output."""
    found = set()
    for op in graph.ops:
        if op.code == "QUANTIZE" and op.inputs and op.inputs[0] >= 0:
            t = graph.tensors[op.inputs[0]]
            if t.dtype == "float32" and not t.buffer_bytes:
                found.add(t.index)
        elif op.code == "DEQUANTIZE" and op.outputs:
            src = graph.tensors[op.inputs[0]] if op.inputs and op.inputs[0] >= 0 else None
            if src is not None and src.dtype == "int8" and not src.buffer_bytes:
                found.add(op.outputs[0])
    return found


def _check_int8(graph: _Graph, path: Path) -> None:
    """The ops of a fully-int8 model that hhbc has int8 kernels for; all offenders named."""
    _check_supported(graph, path, INT8_OPS, "int8 ")
    import tflite
    float_io = _float_io_tensors(graph) | _index_outputs(graph)
    _check_quantization(graph, path, float_io)
    for op in graph.ops:
        for idx in op.inputs + op.outputs:
            t = graph.tensors[idx] if idx >= 0 and idx not in float_io else None
            if t is not None and not t.buffer_bytes and len(t.scale) != 1:
                raise HhbcError(f"{path}: per-channel quantized activation '{t.name}' of "
                                f"{graph.op_label(op)} is not supported")
        if op.code == "SOFTMAX":
            raw = graph.model.Subgraphs(0).Operators(op.index).BuiltinOptions()
            opts = tflite.SoftmaxOptions()
            opts.Init(raw.Bytes, raw.Pos)
            if opts.Beta() != 1.0:
                raise HhbcError(f"{path}: int8 SOFTMAX with beta {opts.Beta():g} is not supported "
                                f"({graph.op_label(op)})")


_ZERO_POINT_RANGE = {"int8": (-128, 127), "int32": (-2**31, 2**31 - 1)}


def _check_quantization(graph: _Graph, path: Path, skip: set[int] = frozenset(),
                        only: set[int] | None = None) -> None:
    """The quantization of every tensor an op reads or writes (or of `only`), before any
    fixed-point parameter is derived from it: scales positive and finite, one zero point or
    one per scale, zero points in the type's range, per-channel scales along an existing axis
    with one scale per channel."""
    for op in graph.ops:
        for idx in op.inputs + op.outputs:
            if idx < 0 or idx in skip or (only is not None and idx not in only):
                continue
            t = graph.tensors[idx]
            if not t.scale:
                continue
            what = f"tensor '{t.name}' of {graph.op_label(op)}"
            bad = [v for v in t.scale if not (math.isfinite(v) and v > 0.0)]
            if bad:
                raise HhbcError(f"{path}: {what} has quantization scale {bad[0]:g} (scales must be "
                                f"positive and finite)")
            if t.zero_point and len(t.zero_point) not in (1, len(t.scale)):
                raise HhbcError(f"{path}: {what} has {len(t.zero_point)} zero points for "
                                f"{len(t.scale)} scales")
            lo, hi = _ZERO_POINT_RANGE.get(t.dtype, (-2**63, 2**63 - 1))
            off = [z for z in t.zero_point if not lo <= z <= hi]
            if off:
                raise HhbcError(f"{path}: {what} has zero point {off[0]}, outside the {t.dtype} "
                                f"range [{lo}, {hi}]")
            if len(t.scale) > 1:
                if not 0 <= t.quant_axis < len(t.shape):
                    raise HhbcError(f"{path}: {what} is quantized per channel along axis "
                                    f"{t.quant_axis}, which a rank-{len(t.shape)} tensor does not have")
                if t.shape[t.quant_axis] != len(t.scale):
                    raise HhbcError(f"{path}: {what} has {len(t.scale)} scales for "
                                    f"{t.shape[t.quant_axis]} channels (axis {t.quant_axis} of "
                                    f"{list(t.shape)})")


def _check_supported(graph: _Graph, path: Path, supported=SUPPORTED_OPS, kind: str = "",
                     custom_ok=SUPPORTED_CUSTOM_OPS) -> None:
    """Name every custom and unsupported op in one message, before TVM sees the model."""
    if kind:
        custom_ok = frozenset()
    custom = [op for op in graph.ops if op.code == "CUSTOM" and op.custom not in custom_ok]
    if custom:
        listed = ", ".join(graph.op_label(op) for op in custom)
        raise HhbcError(f"{path}: custom ops are not supported: {listed}")
    bad = [op for op in graph.ops if op.code not in supported and op.code != "CUSTOM"]
    if bad:
        ops = ", ".join(sorted({op.code for op in bad}))
        listed = ", ".join(graph.op_label(op) for op in bad)
        raise HhbcError(f"{path}: unsupported {kind}TFLite ops {ops} at {len(bad)} op(s): {listed}")


# ---------------------------------------------------------------- IO selection
def _quant(t: _Tensor):
    from hhbc.lower.graph import Quant
    if not t.scale:
        return None
    return Quant(tuple(float(np.float32(v)) for v in t.scale), t.zero_point or (0,) * len(t.scale),
                 t.quant_axis)


def _select_io(graph: _Graph, path: Path, options: ImportOptions, int8: bool = False):
    by_name: dict[str, int] = {}
    for t in graph.tensors:
        by_name.setdefault(t.name, t.index)
    for name in list(options.input_names) + list(options.output_names):
        if name not in by_name:
            raise HhbcError(f"{path}: no tensor named '{name}' in the model (from -in/-on)")
    input_idx = [by_name[n] for n in options.input_names] or list(graph.inputs)
    shapes = list(options.input_shapes)
    if shapes and len(shapes) != len(input_idx):
        names = "; ".join(graph.tensor_name(i) for i in input_idx)
        raise HhbcError(f"-is gives {len(shapes)} shape(s) for {len(input_idx)} input(s) ({names})")
    infos = []
    for k, idx in enumerate(input_idx):
        t = graph.tensors[idx]
        if t.buffer_bytes:
            raise HhbcError(f"{path}: -in '{t.name}' is a constant tensor, not an activation")
        if t.dtype != "float32" and not (int8 and t.dtype == "int8"):
            raise HhbcError(f"{path}: input '{t.name}' has type {t.dtype}; "
                            f"this version of hhbc compiles float32 inputs (or int8 in int8 models)")
        declared = [d if d > 0 else None for d in t.signature] if t.signature else None
        infos.append(TensorInfo(t.name, resolve_shape(t.name, declared, shapes[k] if shapes else None),
                                t.dtype, _quant(t) if int8 and t.dtype == "int8" else None))
    output_names = list(options.output_names) or [graph.tensor_name(i) for i in graph.outputs]
    return infos, output_names


# ---------------------------------------------------------------- Relax import
def _needed_ops(graph: _Graph, inputs: set[int], outputs: list[int], path: Path) -> list[_Op]:
    """The ops between the chosen inputs and outputs, in model order."""
    producer = {o: op for op in graph.ops for o in op.outputs}
    needed: set[int] = set()
    stack = list(outputs)
    seen: set[int] = set()
    while stack:
        idx = stack.pop()
        if idx < 0 or idx in seen or idx in inputs:
            continue
        seen.add(idx)
        op = producer.get(idx)
        if op is None:
            t = graph.tensors[idx]
            if not t.buffer_bytes:
                raise HhbcError(f"{path}: output depends on tensor '{t.name}', which is not "
                                f"among the inputs (give it with -in)")
            continue
        if op.index not in needed:
            needed.add(op.index)
            stack.extend(op.inputs)
    return [op for op in graph.ops if op.index in needed]


def _import_relax(graph: _Graph, inputs: list[TensorInfo], output_names: list[str], path: Path):
    from tvm import relax
    from tvm.relax.frontend.tflite import tflite_frontend as tvm_tflite

    by_name = {}
    for t in graph.tensors:
        by_name.setdefault(t.name, t.index)
    in_idx = {by_name[i.name] for i in inputs}
    out_idx = [by_name[n] for n in output_names]
    ops = _needed_ops(graph, in_idx, out_idx, path)
    converter = bb = None
    message = None
    with quiet():
        try:
            bb = relax.BlockBuilder()
            with bb.function("main"):
                with bb.dataflow():
                    exp_tab = tvm_tflite.ExprTable()
                    params = []
                    for info in inputs:
                        var = relax.Var(info.name, relax.TensorType(info.shape, info.dtype))
                        exp_tab.set_expr(info.name, var)
                        params.append(var)
                    converter = _converter_class()(graph.model, graph.model.Subgraphs(0), exp_tab, bb)
                    converter.convert_ops(graph, ops)
                    tensors = converter.get_tensors(np.array(out_idx, np.int32))
                    outs = [converter.get_tensor_expr(t) for t in tensors]
                    out = bb.emit_output(outs[0] if len(outs) == 1 else relax.Tuple(outs))
                bb.emit_func_output(out, params)
            mod = bb.get()
            mod["main"] = mod["main"].with_attrs({"num_input": len(params)})
            return mod
        except HhbcError as err:
            message = f"{path}: {err}"
        except Exception as err:
            where = converter.current if converter is not None else None
            at = f" at {graph.op_label(where)}" if where is not None else ""
            message = f"{path}: TVM could not import the model{at}: {_first_line(err)}"
        # Drop the half-built function here, silenced: TVM warns on stderr when a BlockBuilder
        # with open blocks is destroyed, which would otherwise happen after the error line.
        converter = bb = None
        gc.collect()
    raise HhbcError(message)


_CONVERTER = None


def _converter_class():
    """TVM's OperatorConverter, converting only the chosen ops and stamping layer names."""
    global _CONVERTER
    if _CONVERTER is not None:
        return _CONVERTER
    from tvm import relax
    from tvm.relax.frontend.tflite import tflite_frontend as tvm_tflite

    class _StampingBuilder:
        """The BlockBuilder seen by TVM's converters: every call they emit gets the layer."""

        def __init__(self, bb):
            self._bb = bb
            self.layer = ""

        def emit(self, expr, name_hint=""):
            return self._bb.emit(emit_stamped(self._bb, expr, self.layer), name_hint)

        def normalize(self, expr):
            return self._bb.normalize(emit_stamped(self._bb, expr, self.layer))

        def __getattr__(self, name):
            return getattr(self._bb, name)

    class Converter(tvm_tflite.OperatorConverter):
        def __init__(self, model, subgraph, exp_tab, bb):
            self.stamper = _StampingBuilder(bb)
            super().__init__(model, subgraph, exp_tab, self.stamper)
            self.hint = BindingNames()
            self.current = None
            self.convert_map["CUSTOM"] = self.convert_custom

        def convert_ops(self, graph: _Graph, ops: list[_Op]) -> None:
            for op_info in ops:
                self.current = op_info
                layer = graph.tensors[op_info.outputs[0]].name if op_info.outputs else op_info.code
                self.stamper.layer = layer
                op = self.subgraph.Operators(op_info.index)
                self.dequantize_hybrid_weight(graph, op_info)
                ret = self.convert_map[op_info.code](op=op)
                if ret is None:   # prefetched (constant) output
                    continue
                if isinstance(ret, relax.Call):
                    ret = self.stamper._bb.emit(emit_stamped(self.stamper._bb, ret, layer),
                                                name_hint=self.hint(layer))
                else:
                    ret = self.stamper.normalize(ret)
                outs = self.get_output_tensors(op)
                if len(outs) == 1:
                    self.exp_tab.set_expr(tvm_tflite.get_tensor_name(self.subgraph, outs[0].tensor_idx), ret)
                else:
                    for k, t in enumerate(outs):
                        self.exp_tab.set_expr(tvm_tflite.get_tensor_name(self.subgraph, t.tensor_idx), ret[k])
            self.current = None
            self.stamper.layer = ""

        def convert_space_to_batch_nd(self, op):
            return tflite_space_batch.space_to_batch_nd(self, op)

        def convert_batch_to_space_nd(self, op):
            return tflite_space_batch.batch_to_space_nd(self, op)

        def _convert_arg_min_max(self, op, relax_op):
            """ARG_MAX/ARG_MIN with TFLite's output type (TVM's importer leaves Relax's int64)."""
            out = super()._convert_arg_min_max(op, relax_op)
            dtype = self.get_tensor_type_str(self.get_output_tensors(op)[0].tensor.Type())
            return relax.op.astype(out, dtype) if dtype != "int64" else out

        def convert_resize_nearest_neighbor(self, op):
            """Int8 RESIZE_NEAREST_NEIGHBOR sampled TFLite's way (lower/resize.py TFLITE_ROUNDING:
            floor, or round half away from zero with align_corners); TVM's importer writes ONNX
            roundings that pick other pixels. Float: marked by the roi instead (lower/resize.py
            TFLITE_ROI), since the float passes legalize resize2d through TVM's topi."""
            from hhbc.lower.resize import TFLITE_ROUNDING

            out = super().convert_resize_nearest_neighbor(op)
            a = out.attrs
            if not self.is_quantized(op):   # float: marked by the roi (lower/resize.py TFLITE_ROI)
                from hhbc.lower.resize import TFLITE_ROI
                return relax.op.image.resize2d(
                    out.args[0], out.args[1], roi=list(TFLITE_ROI), layout=str(a.layout),
                    method=str(a.method), coordinate_transformation_mode=str(a.coordinate_transformation_mode),
                    rounding_method="floor")
            return relax.op.image.resize2d(
                out.args[0], out.args[1], roi=[float(v) for v in a.roi], layout=str(a.layout),
                method=str(a.method), coordinate_transformation_mode=str(a.coordinate_transformation_mode),
                rounding_method=TFLITE_ROUNDING)

        def convert_expand_dims(self, op):
            """EXPAND_DIMS (TVM's importer calls relax.op.expand_dims with a stray argument)."""
            tensors = self.get_input_tensors(op)
            axis = int(np.asarray(self.get_tensor_value(tensors[1])).reshape(-1)[0])
            return relax.op.expand_dims(self.get_tensor_expr(tensors[0]), axis)

        def convert_prelu(self, op):
            if self.is_quantized(op):   # int8 (H3c)
                from hhbc.frontends.tflite_int8 import prelu
                return prelu(self, op)
            return tflite_float.prelu(self, op)

        def convert_l2_normalization(self, op):
            return tflite_float.l2_normalization(self, op)

        def convert_fully_connected(self, op):
            return tflite_float.fully_connected(self, op)

        def convert_custom(self, op):
            return tflite_float.custom(self, op)

        # TFLite Micro builtins (tflite_float.py): TVM's converters get these wrong or emit
        # Relax no kernel runs; int8 ones fall back to TVM's.
        def convert_batch_matmul(self, op):
            return tflite_float.batch_matmul(self, op)

        def convert_broadcast_to(self, op):
            return tflite_float.broadcast_to(self, op)

        def convert_gelu(self, op):
            return tflite_float.gelu(self, op)

        def convert_lrn(self, op):
            return tflite_float.lrn(self, op)

        def convert_mirror_pad(self, op):
            return tflite_float.mirror_pad(self, op)

        def convert_select(self, op):
            return tflite_float.select(self, op)

        def convert_square(self, op):
            return tflite_float.square(self, op)

        def convert_transpose_conv(self, op):   # H1: fused activation; int8 (tflite_int8.py)
            from hhbc.frontends.tflite_int8 import transpose_conv
            return transpose_conv(self, op, super().convert_transpose_conv)

        def dequantize_hybrid_weight(self, graph: _Graph, op_info: _Op) -> None:
            """A hybrid op's int8 weight becomes `astype(int8 constant, float32) * scale` before
            TVM's converter reads it: TVM takes an expression it finds for a weight as it is (its
            path for float16 weights behind DEQUANTIZE), so the float op reads the dequantized
            weight and optimize/weight_only.py finds the int8 constant next to it. Written as
            astype * scale, not relax.dequantize: the module is a float one, and optimize()
            sends a module with dequantize ops to the int8 pipeline."""
            if op_info.code not in _HYBRID_OPS or len(op_info.inputs) < 2:
                return
            idx = op_info.inputs[1]
            if idx not in graph.hybrid or self.has_expr(idx):
                return
            t = graph.tensors[idx]
            wrapper = self.get_tensors(np.array([idx], np.int32))[0]
            value = self.get_tensor_value(wrapper)
            scale = np.asarray(t.scale, np.float32)
            if scale.size > 1:
                if not (0 <= t.quant_axis < value.ndim and value.shape[t.quant_axis] == scale.size):
                    raise HhbcError(f"{len(t.scale)} scales for axis {t.quant_axis} of int8 weight "
                                    f"'{t.name}' {list(value.shape)}")
                shape = [1] * value.ndim
                shape[t.quant_axis] = scale.size
                scale = scale.reshape(shape)
            const = self.exp_tab.new_const(value, dtype="int8", source_name=wrapper.tensor.Name())
            deq = relax.op.multiply(relax.op.astype(const, "float32"), relax.const(scale, "float32"))
            self.exp_tab.set_expr(tvm_tflite.get_tensor_name(self.subgraph, idx),
                                  self.stamper._bb.normalize(deq))

    _CONVERTER = Converter
    return Converter


def _output_infos(mod, names: list[str], graph: _Graph | None = None) -> list[TensorInfo]:
    from tvm import relax

    ret = mod["main"].ret_ty
    fields = ret.fields if isinstance(ret, relax.TupleType) else [ret]
    by_name = {}
    if graph is not None:
        for t in graph.tensors:
            by_name.setdefault(t.name, t)
    return [TensorInfo(n, tuple(int(d) for d in f.shape), str(f.dtype),
                       _quant(by_name[n]) if n in by_name else None) for n, f in zip(names, fields)]


# ---------------------------------------------------------------- reference
def _reference_interpreter(interpreter, resolver, buf: bytes):
    """The interpreter on `buf` with the reference kernels. Their registry lists some ops at
    version 1 only although the kernel is the same one (int8 DEPTH_TO_SPACE is version 2):
    such an op code is marked version 1 in a copy of the model, so the reference kernel runs it.
    An op with no reference kernel at all (ELU) runs on the builtin (optimized) kernels."""
    import re

    for _ in range(8):
        try:
            return interpreter(model_content=buf, experimental_op_resolver_type=resolver,
                               experimental_preserve_all_tensors=True)
        except ValueError as err:
            found = re.search(r"Didn't find op for builtin opcode '(\w+)' version '(\d+)'", str(err))
            if found is None:
                raise
            if found.group(2) == "1":   # no reference kernel at all (ELU): the optimized one
                from ai_edge_litert.interpreter import OpResolverType
                return interpreter(model_content=buf, experimental_op_resolver_type=OpResolverType.BUILTIN,
                                   experimental_preserve_all_tensors=True)
            buf = _with_op_version_1(buf, found.group(1))
    raise HhbcError("internal: the TFLite reference resolver keeps refusing op versions")


def _with_op_version_1(buf: bytes, builtin: str) -> bytes:
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(buf), 0)
    code = getattr(schema.BuiltinOperator, builtin)
    for oc in model.operatorCodes:
        if max(oc.builtinCode, oc.deprecatedBuiltinCode) == code:
            oc.version = 1
    builder = flatbuffers.Builder(len(buf) * 2 + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


# Builtins whose reference kernel disagrees with TensorFlow: LOCAL_RESPONSE_NORMALIZATION's
# sums channels [c - r, c + r) (reference_ops.h), TF's and the optimized kernel's [c - r, c + r].
# A model holding one is checked against the builtin (optimized) kernels, as TF computes it.
# int8 SUM's reference kernel is broken (ai-edge-litert 2.3: every output -1); the builtin
# kernel's float arithmetic is what hhbc's sum_i8 reproduces.
_REFERENCE_KERNEL_DIFFERS = frozenset({"LOCAL_RESPONSE_NORMALIZATION"})
_REFERENCE_KERNEL_DIFFERS_INT8 = frozenset({"SUM"})


def _needs_builtin_kernels(graph: _Graph) -> bool:
    return any(op.code in _REFERENCE_KERNEL_DIFFERS
               or (op.code in _REFERENCE_KERNEL_DIFFERS_INT8 and op.inputs
                   and graph.tensors[op.inputs[0]].dtype == "int8")
               for op in graph.ops)


def _reference_fn(buf: bytes, graph: _Graph, inputs: list[TensorInfo], outputs: list[TensorInfo],
                  path: Path):
    """The TFLite interpreter with its reference kernels, on the original model."""
    graph_inputs = [graph.tensor_name(i) for i in graph.inputs]
    cut = [i.name for i in inputs] != graph_inputs
    optimized = _needs_builtin_kernels(graph)
    del graph

    def run(arrays):
        if cut:
            raise HhbcError(f"{path}: the TFLite interpreter cannot run a model cut with -in; "
                            "compare without -in, or compile only")
        try:
            from ai_edge_litert.interpreter import Interpreter, OpResolverType
        except ImportError:
            raise HhbcError("comparing TFLite models needs ai-edge-litert: pip install 'hhbc[test]'") from None
        with quiet():
            interp = _reference_interpreter(
                Interpreter, OpResolverType.BUILTIN if optimized else OpResolverType.BUILTIN_REF, buf)
            details = {d["name"]: d for d in interp.get_input_details()}
            for info in inputs:
                d = details[info.name]
                if tuple(d["shape"]) != info.shape:
                    interp.resize_tensor_input(d["index"], list(info.shape), strict=False)
            interp.allocate_tensors()
            details = {d["name"]: d for d in interp.get_input_details()}
            for info, a in zip(inputs, arrays):
                interp.set_tensor(details[info.name]["index"], np.asarray(a, info.dtype).reshape(info.shape))
            interp.invoke()
            index = {d["name"]: d["index"] for d in interp.get_tensor_details()}
            return [np.array(interp.get_tensor(index[o.name])) for o in outputs]

    return run
