"""Relax (after optimize/) -> KernelGraph.

One small handler per Relax op or hhbc composite, looked up in one table.
Handlers compute every kernel parameter here, at compile time, so the C
kernels only compute.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import tvm
from tvm import relax

from hhbc.errors import HhbcError
from hhbc.frontends.model import ImportedModel
from hhbc.layers import layer_of, layers_in
from hhbc.lower.graph import KernelGraph, Node, Tensor
from hhbc.lower.composite import CompositeBody
from hhbc.lower.quantized import lower_quantized
from hhbc.lower.weight_only import lower_weight_only

MAX_DIMS = 6


class _Lowering:
    def __init__(self, model: ImportedModel, mod: tvm.IRModule):
        self.model = model
        self.mod = mod
        self.values: dict[relax.Var, object] = {}   # Var -> Tensor | tuple
        self.nodes: list[Node] = []
        self.layer = ""          # the layer(s) being lowered, for comments and errors
        self.tensor_name = ""    # what to call its output: the last layer of a fused group
        self.taken_outputs: list[Tensor] = []   # tensors already named as model outputs

    # -- tensors -----------------------------------------------------------------
    def tensor(self, expr: relax.Expr) -> Tensor:
        if isinstance(expr, relax.Var):
            value = self.values.get(expr)
            if not isinstance(value, Tensor):
                raise HhbcError(f"internal: '{expr.name}' is not a tensor")
            return value
        if isinstance(expr, tvm.ir.GenericConst):
            return self.const(expr.value.numpy(), "const")
        raise HhbcError(f"internal: unsupported operand {type(expr).__name__}")

    @staticmethod
    def const(array: np.ndarray, name: str) -> Tensor:
        array = np.ascontiguousarray(array)
        if array.dtype == np.float64:
            array = array.astype(np.float32)
        return Tensor(name, tuple(array.shape), str(array.dtype), kind="const", data=array)

    def new_output(self, var: relax.Var) -> Tensor:
        sinfo = var.ty
        shape = tuple(int(d) for d in sinfo.shape)
        dtype = str(sinfo.dtype)
        if dtype not in ("float32", "int8", "int32", "int64"):   # int32/int64: indices (ArgMax's output)
            raise HhbcError(f"layer '{self.layer}': {dtype} tensors are not supported yet "
                            "(float32, int8, and int32/int64 indices)")
        if len(shape) > MAX_DIMS:
            raise HhbcError(f"layer '{self.layer}': rank {len(shape)} exceeds {MAX_DIMS}")
        return Tensor(self.tensor_name or var.name, shape, dtype)

    def emit(self, op: str, var: relax.Var, inputs: list[Tensor], params: dict,
             consts: dict[str, Tensor] | None = None, macs: int = 0) -> Tensor:
        out = self.new_output(var)
        layer = self.layer
        if not self.tensor_name and inputs:   # an op hhbc or TVM added, e.g. a layout change
            out.name = f"{inputs[0].name} as {'x'.join(map(str, out.shape))}"
            layer = f"(added) {op} of {inputs[0].name}"
        for key, t in (consts or {}).items():
            if t.kind == "const":
                t.name = f"{self.tensor_name or var.name}.{key}"
        if out.dtype == "int8" and inputs and inputs[0].dtype == "int8":
            out.quant = inputs[0].quant   # int8 data movement keeps its input's quantization
        self.nodes.append(Node(op, inputs, out, params, consts or {}, layer, macs))
        return out

    def alias(self, var: relax.Var, src: Tensor) -> Tensor:
        out = self.new_output(var)
        if src.kind == "const":
            return self.const(src.data.reshape(out.shape), var.name)
        out.alias_of = src
        out.quant = src.quant
        if not self.tensor_name:   # a view hhbc made (layout change), named after its source
            out.name = f"{src.name} as {'x'.join(map(str, out.shape))}"
        return out

    # -- walk --------------------------------------------------------------------
    def run(self) -> KernelGraph:
        func = self.mod["main"]
        inputs = []
        for param, info in zip(func.params, self.model.inputs):
            t = Tensor(info.name, info.shape, info.dtype, kind="input", quant=info.quant)
            self.values[param] = t
            inputs.append(t)
        for block in func.body.blocks:
            for binding in block.bindings:
                self.lower_binding(binding)
        result = self.values.get(func.body.body) if isinstance(func.body.body, relax.Var) else None
        if result is None:
            result = self.lower_value(func.body.body)
        outputs = list(result) if isinstance(result, tuple) else [result]
        outputs = [self.materialize_output(t, info) for t, info in zip(outputs, self.model.outputs)]
        return KernelGraph(inputs, outputs, self.nodes)

    def materialize_output(self, t: Tensor, info) -> Tensor:
        """An output must own arena storage: copy views of inputs or constants, and a
        tensor that is already an earlier output (a model returning one value twice)."""
        if (t.kind in ("input", "const", "output") or t.storage().kind in ("input", "const")
                or any(t is o for o in self.taken_outputs)):
            out = Tensor(info.name, t.shape, t.dtype, quant=t.quant)
            self.nodes.append(Node("copy", [t], out, {}, {}, f"output {info.name}"))
            t = out
        storage = t.storage()
        if t.alias_of is None:
            t.kind = "output"
        elif storage.kind == "activation":
            storage.kind = "output_storage"
        t.name = info.name
        self.taken_outputs.append(t)
        return t

    def lower_binding(self, binding) -> None:
        var = binding.var
        layer = layer_of(binding.value)
        self.layer = layer or var.name
        self.tensor_name = layer or ""
        self.values[var] = self.lower_value(binding.value, var)

    def lower_value(self, value, var: relax.Var | None = None):
        if isinstance(value, relax.Var):
            return self.values[value]
        if isinstance(value, relax.Tuple):
            return tuple(self.tensor(f) for f in value.fields)
        if isinstance(value, relax.TupleGetItem):
            return self.values[value.tuple_value][value.index]
        if isinstance(value, tvm.ir.GenericConst):
            return self.tensor(value)
        if isinstance(value, relax.Call):
            if isinstance(value.op, relax.GlobalVar):
                fn = self.mod[value.op]
                name = str(fn.attrs["Composite"]) if fn.attrs and "Composite" in fn.attrs else None
                if name is None:
                    raise HhbcError(f"layer '{self.layer}': calls a non-composite function")
                return lower_composite(self, var, name, fn, value.args)
            if isinstance(value.op, tvm.ir.Op):
                handler = HANDLERS.get(value.op.name)
                if handler is None:
                    raise HhbcError(f"layer '{self.layer}': Relax op {value.op.name} has no hhbc kernel")
                return handler(self, var, value)
        raise HhbcError(f"layer '{self.layer}': cannot lower {type(value).__name__}")


# ============================================================== helpers
def _shape(expr) -> tuple[int, ...]:
    return tuple(int(d) for d in expr.ty.shape)


def _ints(arr) -> list[int]:
    return [int(a) for a in arr]


def _act(kind: str = "none", lo: float = 0.0, hi: float = 0.0, alpha: float = 0.0) -> dict:
    return {"kind": kind, "lo": lo, "hi": hi, "alpha": alpha}


def _act_from_call(call: relax.Call) -> dict:
    name = call.op.name
    if name == "relax.nn.relu":
        return _act("relu")
    if name == "relax.clip":
        return _act("clip", float(call.args[1].value), float(call.args[2].value))
    if name == "relax.nn.leakyrelu":
        return _act("leaky_relu", alpha=float(call.attrs.alpha))
    if name == "relax.sigmoid":
        return _act("sigmoid")
    raise HhbcError(f"internal: {name} is not an activation")


def broadcast_strides(in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> list[int]:
    """Element strides of a row-major input read under numpy broadcasting."""
    rank = len(out_shape)
    padded = (1,) * (rank - len(in_shape)) + tuple(in_shape)
    strides, step = [0] * rank, 1
    for axis in reversed(range(rank)):
        strides[axis] = 0 if padded[axis] == 1 and out_shape[axis] != 1 else step
        step *= padded[axis]
    return strides


def _row_major_strides(shape) -> list[int]:
    strides, step = [0] * len(shape), 1
    for axis in reversed(range(len(shape))):
        strides[axis] = step
        step *= shape[axis]
    return strides


def _collapse_for_kernel(shape: tuple[int, ...]) -> tuple[int, ...]:
    return shape if shape else (1,)


# ============================================================== conv / dense
def _conv_node(lw: _Lowering, var, call: relax.Call, bias: np.ndarray | None, act: dict) -> Tensor:
    attrs = call.attrs
    if str(attrs.data_layout) != "NHWC" or str(attrs.kernel_layout) != "OHWI":
        raise HhbcError(f"layer '{lw.layer}': conv2d layout {attrs.data_layout}/{attrs.kernel_layout} "
                        "was not converted to NHWC/OHWI")
    data = lw.tensor(call.args[0])
    if not isinstance(call.args[1], tvm.ir.GenericConst):
        raise HhbcError(f"layer '{lw.layer}': conv2d weights must be constant")
    weight = call.args[1].value.numpy().astype(np.float32)   # [O][KH][KW][I/g]
    oc, kh, kw, icg = weight.shape
    out_shape = _shape(var)
    groups = int(attrs.groups)
    pad = _ints(attrs.padding)
    in_c = data.shape[3]
    params = {
        "kernel_h": kh, "kernel_w": kw,
        "stride_h": int(attrs.strides[0]), "stride_w": int(attrs.strides[1]),
        "dilation_h": int(attrs.dilation[0]), "dilation_w": int(attrs.dilation[1]),
        "pad_top": pad[0], "pad_left": pad[1], "groups": groups, "act": act,
    }
    consts = {}
    depthwise = groups == in_c and groups > 1 and icg == 1
    if depthwise:
        consts["weight"] = lw.const(weight.reshape(oc, kh, kw).transpose(1, 2, 0), "w")  # [KH][KW][OC]
    else:
        consts["weight"] = lw.const(weight, "w")
    if bias is not None:
        consts["bias"] = lw.const(bias.reshape(-1).astype(np.float32), "b")
    macs = int(np.prod(out_shape)) * kh * kw * icg
    return lw.emit("depthwise_conv2d" if depthwise else "conv2d", var, [data], params, consts, macs)


def _dense_node(lw: _Lowering, var, call: relax.Call, bias: np.ndarray | None, act: dict) -> Tensor:
    data = lw.tensor(call.args[0])
    weight = call.args[1].value.numpy().astype(np.float32)   # [K][N]
    if weight.ndim != 2:
        raise HhbcError(f"layer '{lw.layer}': matmul with a constant of rank {weight.ndim} is not supported")
    k, n = weight.shape
    m = data.size // k
    consts = {"weight": lw.const(np.ascontiguousarray(weight.T), "w")}      # [N][K]
    if bias is not None:
        if bias.size != n:
            raise HhbcError(f"layer '{lw.layer}': bias of {bias.size} values for {n} outputs")
        consts["bias"] = lw.const(bias.reshape(-1).astype(np.float32), "b")
    params = {"m": m, "n": n, "k": k, "act": act}
    return lw.emit("dense", var, [data], params, consts, m * n * k)


def _deconv_node(lw: _Lowering, var, call: relax.Call, bias: np.ndarray | None, act: dict) -> Tensor:
    """conv2d_transpose (NHWC) -> deconv2d, weights repacked to [OC][KH][KW][IC/g]."""
    attrs = call.attrs
    if str(attrs.data_layout) != "NHWC":
        raise HhbcError(f"layer '{lw.layer}': conv2d_transpose layout {attrs.data_layout} "
                        "was not converted to NHWC")
    data = lw.tensor(call.args[0])
    if not isinstance(call.args[1], tvm.ir.GenericConst):
        raise HhbcError(f"layer '{lw.layer}': conv2d_transpose weights must be constant")
    layout = str(attrs.kernel_layout)
    weight = call.args[1].value.numpy().astype(np.float32).transpose([layout.index(c) for c in "IOHW"])
    ic, ocg, kh, kw = weight.shape                                  # [IC][OC/g][KH][KW]
    groups = int(attrs.groups)
    icg = ic // groups
    weight = weight.reshape(groups, icg, ocg, kh, kw).transpose(0, 2, 3, 4, 1).reshape(groups * ocg, kh, kw, icg)
    pad = _ints(attrs.padding)
    params = {
        "kernel_h": kh, "kernel_w": kw,
        "stride_h": int(attrs.strides[0]), "stride_w": int(attrs.strides[1]),
        "dilation_h": int(attrs.dilation[0]), "dilation_w": int(attrs.dilation[1]),
        "pad_top": pad[0], "pad_left": pad[1], "groups": groups, "act": act,
    }
    consts = {"weight": lw.const(weight, "w")}
    if bias is not None:
        consts["bias"] = lw.const(bias.reshape(-1).astype(np.float32), "b")
    macs = data.size * ocg * kh * kw
    return lw.emit("deconv2d", var, [data], params, consts, macs)


def _bias_of(call: relax.Call, rank_out: int) -> np.ndarray:
    """The constant of `add(conv_or_matmul, c)`, checked to be per-output-channel."""
    const = call.args[1].value.numpy().astype(np.float32)
    channels = _shape(call)[-1]
    if const.size == channels and (const.ndim <= 1 or all(d == 1 for d in const.shape[:-1])):
        return const.reshape(-1)
    if const.size == 1:
        return np.full(channels, float(const.reshape(-1)[0]), np.float32)
    return None


def lower_composite(lw: _Lowering, var, name: str, fn: relax.Function, args) -> Tensor:
    """Composite functions from optimize/fusion.py: one kernel node each."""
    calls = CompositeBody(fn).calls
    names = layers_in(fn)
    if names:
        lw.layer = " + ".join(names)
        lw.tensor_name = names[-1]
    # Map the composite's parameters back to the caller's tensors.
    for param, arg in zip(fn.params, args):
        lw.values[param] = lw.tensor(arg)
    if name.startswith("hhbc.q"):
        return lower_quantized(lw, var, name, fn)
    if name.startswith("hhbc.w8_"):
        return lower_weight_only(lw, var, name, fn)
    if name == "hhbc.hardswish":
        x = lw.tensor(args[0])
        return lw.emit("unary", var, [x], {"op": "act", "size": x.size, "act": _act("hardswish")})
    if name == "hhbc.lrn":
        return _lrn_node(lw, var, fn, lw.tensor(args[0]))
    act = _act()
    for act_name in ("relax.nn.relu", "relax.nn.leakyrelu", "relax.sigmoid"):
        if act_name in calls:
            act = _act_from_call(calls[act_name])
    if name.endswith("_hardswish"):
        act = _act("hardswish")
    elif name.endswith("_clip"):
        act = _act_from_call(calls["relax.clip"])
    bias = None
    if "_bias" in name:
        add = calls["relax.add"]
        bias = _bias_of(add, len(_shape(add)))
        if bias is None:
            raise HhbcError(f"layer '{lw.layer}': bias is not per output channel")
    producer = calls.get("relax.nn.conv2d", calls.get("relax.nn.conv2d_transpose", calls.get("relax.matmul")))
    # The fused output has the producer's shape; read the data operand from the caller.
    inner = relax.Call(producer.op, [args[0], producer.args[1]], producer.attrs)
    if producer.op.name == "relax.nn.conv2d":
        return _conv_node(lw, var, inner, bias, act)
    if producer.op.name == "relax.nn.conv2d_transpose":
        return _deconv_node(lw, var, inner, bias, act)
    return _dense_node(lw, var, inner, bias, act)


def _lrn_node(lw: _Lowering, var, fn: relax.Function, x: Tensor) -> Tensor:
    """hhbc.lrn (optimize/fusion.py): x * (k + a * conv1x1(x * x, band))^p -> one lrn kernel."""
    from hhbc.optimize.fusion import lrn_terms

    terms = lrn_terms([b.value for block in fn.body.blocks for b in block.bindings])
    if terms is None:
        raise HhbcError(f"layer '{lw.layer}': internal: malformed hhbc.lrn group")
    shape = x.shape
    if terms["layout"] == "NHWC":
        outer, channels, inner = int(np.prod(shape[:3], dtype=np.int64)), shape[3], 1
    else:
        outer, channels, inner = shape[0], shape[1], int(np.prod(shape[2:], dtype=np.int64))
    params = {"outer": outer, "channels": channels, "inner": inner, "size": terms["size"],
              "pre_pad": terms["pre_pad"], "alpha_over_size": terms["alpha_over_size"], "k": terms["k"],
              "beta": terms["beta"]}
    return lw.emit("lrn", var, [x], params)


# ============================================================== op handlers
def h_conv2d(lw, var, call):
    return _conv_node(lw, var, call, None, _act())


def h_conv2d_transpose(lw, var, call):
    return _deconv_node(lw, var, call, None, _act())


def _static_ints(expr) -> list[int]:
    """The ints of a Relax tuple/shape argument (strided_slice's axes, begin, end, strides)."""
    fields = expr.fields if isinstance(expr, relax.Tuple) else getattr(expr, "values", expr)
    return [int(getattr(f, "value", f)) for f in fields]


def h_strided_slice(lw, var, call):
    x = lw.tensor(call.args[0])
    shape = x.shape
    rank = len(shape)
    axes = [a % rank for a in _static_ints(call.args[1])]
    begin, end = _static_ints(call.args[2]), _static_ints(call.args[3])
    steps = _static_ints(call.args[4]) if len(call.args) > 4 else [1] * len(axes)
    start, step = [0] * rank, [1] * rank
    for a, b, e, s in zip(axes, begin, end, steps):
        if s == 0:
            raise HhbcError(f"layer '{lw.layer}': strided_slice with step 0")
        start[a] = range(*slice(b, e, s).indices(shape[a])).start
        step[a] = s
    in_strides = _row_major_strides(shape)
    out_shape = _collapse_for_kernel(_shape(var))
    params = {"ndim": len(out_shape), "out_dim": list(out_shape),
              "in_stride": [in_strides[a] * step[a] for a in range(rank)] or [1],
              "offset": int(sum(start[a] * in_strides[a] for a in range(rank)))}
    return lw.emit("strided_slice", var, [x], params)


def h_split(lw, var, call):
    """split (SPLIT, SPLIT_V, UNPACK, ONNX Split): one strided_slice node per part."""
    x = lw.tensor(call.args[0])
    rank = len(x.shape)
    axis = int(call.attrs.axis) % rank
    parts = var.ty.fields
    in_strides = _row_major_strides(x.shape)
    outs, begin = [], 0
    for k, part in enumerate(parts):
        shape = tuple(int(d) for d in part.shape)
        out = Tensor(f"{lw.tensor_name or var.name}:{k}", shape, x.dtype, quant=x.quant)
        kernel_shape = _collapse_for_kernel(shape)
        params = {"ndim": len(kernel_shape), "out_dim": list(kernel_shape), "in_stride": in_strides or [1],
                  "offset": begin * in_strides[axis]}
        lw.nodes.append(Node("strided_slice", [x], out, params, {}, lw.layer))
        outs.append(out)
        begin += shape[axis]
    return tuple(outs)


def _broadcast_to(lw: _Lowering, t: Tensor, src_shape, shape, name: str) -> Tensor:
    """t, read as src_shape, broadcast (numpy rules) to `shape`.

    A constant is broadcast now; an activation by a strided copy: a transpose
    node whose broadcast axes have input stride 0.
    """
    shape = tuple(shape)
    if t.kind == "const":
        return lw.const(np.broadcast_to(t.data.reshape(src_shape), shape).copy(), name)
    out = Tensor(name, shape, t.dtype)
    params = {"ndim": len(shape), "out_dim": list(shape), "in_stride": broadcast_strides(src_shape, shape)}
    lw.nodes.append(Node("transpose", [t], out, params, {}, lw.layer))
    return out


def h_matmul(lw, var, call):
    a, b = call.args
    if isinstance(b, tvm.ir.GenericConst) and len(_shape(b)) == 2:
        return _dense_node(lw, var, call, None, _act())
    ta, tb = lw.tensor(a), lw.tensor(b)
    # numpy matmul: a 1-D operand is a row (left) or a column (right) vector.
    a_shape = (1,) + ta.shape if len(ta.shape) == 1 else ta.shape
    b_shape = tb.shape + (1,) if len(tb.shape) == 1 else tb.shape
    m, k = a_shape[-2:]
    n = b_shape[-1]
    batch_shape = tuple(np.broadcast_shapes(a_shape[:-2], b_shape[:-2]))
    batch = int(np.prod(batch_shape, dtype=np.int64))

    def operand(t, shape, rows, cols, side):
        """The operand as a [batch or 1][rows][cols] buffer, and its batch stride."""
        if int(np.prod(shape[:-2], dtype=np.int64)) == 1:
            return t, 0
        if tuple(shape[:-2]) != batch_shape:
            full = batch_shape + (rows, cols)
            t = _broadcast_to(lw, t, shape, full, f"{var.name}.{side}")
        return t, rows * cols

    ta, a_stride = operand(ta, a_shape, m, k, "a")
    tb, b_stride = operand(tb, b_shape, k, n, "b")
    params = {"batch": batch, "m": m, "n": n, "k": k, "a_batch_stride": a_stride, "b_batch_stride": b_stride}
    return lw.emit("matmul", var, [ta, tb], params, macs=batch * m * n * k)


BINARY = {"relax.add": "add", "relax.subtract": "sub", "relax.multiply": "mul", "relax.divide": "div",
          "relax.maximum": "max", "relax.minimum": "min", "relax.power": "pow"}


_NUMPY_BINARY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "max": np.maximum, "min": np.minimum}


def h_binary(lw, var, call):
    a, b = lw.tensor(call.args[0]), lw.tensor(call.args[1])
    op = BINARY[call.op.name]
    if op == "sub" and b.dtype in ("int32", "int64"):
        folded = _select_last(lw, var, a, b)
        if folded is not None:
            return folded
    if a.kind == "const" and b.kind == "const" and op in _NUMPY_BINARY and str(var.ty.dtype).startswith("int"):
        # integer arithmetic on constants (an importer's index normalisation): folded
        return lw.const(_NUMPY_BINARY[op](a.data, b.data).astype(str(var.ty.dtype)), var.name)
    out_shape = _collapse_for_kernel(_shape(var))
    params = {"op": BINARY[call.op.name], "ndim": len(out_shape), "out_dim": list(out_shape),
              "a_stride": broadcast_strides(a.shape, out_shape),
              "b_stride": broadcast_strides(b.shape, out_shape), "act": _act()}
    return lw.emit("binary", var, [a, b], params)


UNARY = {"relax.tanh": "tanh", "relax.exp": "exp", "relax.log": "log", "relax.sqrt": "sqrt",
         "relax.rsqrt": "rsqrt", "relax.abs": "abs", "relax.negative": "neg", "relax.erf": "erf"}
UNARY.update({"relax.floor": "floor", "relax.ceil": "ceil", "relax.round": "round", "relax.sign": "sign",
              "relax.nn.softplus": "softplus"})


def h_unary(lw, var, call):
    x = lw.tensor(call.args[0])
    return lw.emit("unary", var, [x], {"op": UNARY[call.op.name], "size": x.size, "act": _act()})


def h_activation(lw, var, call):
    x = lw.tensor(call.args[0])
    return lw.emit("unary", var, [x], {"op": "act", "size": x.size, "act": _act_from_call(call)})


def _const_of(lw, expr):
    """The value of a Relax operand known at compile time (a constant, or folded here), or None."""
    if isinstance(expr, tvm.ir.GenericConst):
        return expr.value.numpy()
    value = lw.values.get(expr) if isinstance(expr, relax.Var) else None
    return value.data if isinstance(value, Tensor) and value.kind == "const" else None


_NUMPY_COMPARE = {"relax.less": np.less, "relax.greater": np.greater, "relax.less_equal": np.less_equal,
                  "relax.greater_equal": np.greater_equal, "relax.equal": np.equal,
                  "relax.not_equal": np.not_equal}


def h_const_only(lw, var, call):
    """astype and comparisons: folded when their operands are constants (an importer's
    index arithmetic); on activations they have no kernel."""
    args = [_const_of(lw, a) for a in call.args]
    narrowed = _index_astype(lw, var, call) if call.op.name == "relax.astype" else None
    if narrowed is not None:
        return narrowed
    if any(a is None for a in args):
        raise HhbcError(f"layer '{lw.layer}': Relax op {call.op.name} on a tensor computed at run time "
                        "has no hhbc kernel")
    if call.op.name == "relax.astype":
        value = args[0].astype(str(call.attrs.dtype))
    else:
        value = _NUMPY_COMPARE[call.op.name](*args)
    return Tensor(var.name, tuple(value.shape), str(value.dtype), kind="const", data=np.ascontiguousarray(value))


def h_take(lw, var, call):
    """take (ONNX Gather, TFLite GATHER): one gather node; a constant table with constant
    indices is folded. Indices are normalised (negative from the end) and checked here
    when constant; the kernel clamps the ones it reads at run time."""
    x = lw.tensor(call.args[0])
    rank = len(x.shape)
    axis = int(call.attrs.axis) % rank if call.attrs.axis is not None else 0
    if call.attrs.axis is None and rank != 1:
        raise HhbcError(f"layer '{lw.layer}': take without an axis on a rank-{rank} tensor")
    dim = x.shape[axis]
    idx = _const_of(lw, call.args[1])
    if idx is not None:
        idx = np.asarray(idx).astype(np.int64)
        bad = idx[(idx < -dim) | (idx >= dim)]
        if bad.size:
            raise HhbcError(f"layer '{lw.layer}': gather index {int(bad[0])} out of range for an axis of {dim}")
        idx = np.where(idx < 0, idx + dim, idx)
        if x.kind == "const":
            return lw.const(np.take(x.data, idx, axis=axis), var.name)
        indices = lw.const(idx.astype(np.int32).reshape(-1), "indices")
    else:
        indices = lw.tensor(call.args[1])
        if indices.dtype not in ("int32", "int64"):
            raise HhbcError(f"layer '{lw.layer}': gather indices of type {indices.dtype}")
    params = {"outer": int(np.prod(x.shape[:axis], dtype=np.int64)), "axis_dim": dim,
              "inner": int(np.prod(x.shape[axis + 1:], dtype=np.int64)), "num_indices": indices.size,
              "index_bytes": 8 if indices.dtype == "int64" else 4}
    return lw.emit("gather", var, [x, indices], params)


def h_where(lw, var, call):
    """where(cond, a, b) with a constant condition: one where node (numpy broadcasting)."""
    cond = _const_of(lw, call.args[0])
    if cond is None:
        raise HhbcError(f"layer '{lw.layer}': Where with a condition computed at run time is not supported "
                        "(only a constant condition)")
    a, b = lw.tensor(call.args[1]), lw.tensor(call.args[2])
    out_shape = _collapse_for_kernel(_shape(var))
    if a.kind == "const" and b.kind == "const":
        return lw.const(np.where(cond, a.data, b.data).astype(str(var.ty.dtype)), var.name)
    # Operands that are constants are broadcast by the kernel like activations.
    params = {"ndim": len(out_shape), "out_dim": list(out_shape),
              "a_stride": broadcast_strides(a.shape, out_shape), "b_stride": broadcast_strides(b.shape, out_shape),
              "c_stride": broadcast_strides(cond.shape, out_shape)}
    consts = {"cond": lw.const(np.ascontiguousarray(cond.astype(np.uint8)), "cond")}
    return lw.emit("where", var, [a, b], params, consts)


def _index_astype(lw, var, call) -> Tensor | None:
    """astype of an argmax/argmin result to int32/int64 (TFLite's ARG_MAX output type; Relax's
    argmax gives int64), when nothing else reads that result: the argreduce node writes the
    wanted type itself. None when it is not that."""
    src = call.args[0]
    t = lw.values.get(src) if isinstance(src, relax.Var) else None
    dtype = str(call.attrs.dtype)
    node = next((n for n in reversed(lw.nodes) if n.output is t), None) if t is not None else None
    if node is None or node.op != "argreduce" or dtype not in ("int32", "int64"):
        return None
    uses = 0

    def count(expr):
        nonlocal uses
        uses += int(isinstance(expr, relax.Var) and expr.same_as(src))

    relax.analysis.post_order_visit(lw.mod["main"].body, count)
    if uses != 1:
        return None
    node.output = lw.new_output(var)
    node.params["out_bytes"] = 8 if dtype == "int64" else 4
    return node.output


def h_argreduce(lw, var, call):
    """argmax / argmin along one axis -> one argreduce node writing int32 or int64."""
    x = lw.tensor(call.args[0])
    rank = len(x.shape)
    if call.attrs.axis is None:
        axis, outer, inner = None, 1, 1
        dim = x.size
    else:
        axis = int(call.attrs.axis) % rank
        outer = int(np.prod(x.shape[:axis], dtype=np.int64))
        inner = int(np.prod(x.shape[axis + 1:], dtype=np.int64))
        dim = x.shape[axis]
    out_dtype = str(var.ty.dtype)
    if out_dtype not in ("int32", "int64"):
        raise HhbcError(f"layer '{lw.layer}': {call.op.name} to {out_dtype}")
    params = {"op": "max" if call.op.name == "relax.argmax" else "min", "outer": outer, "axis_dim": dim,
              "inner": inner, "select_last": 0, "out_bytes": 8 if out_dtype == "int64" else 4,
              "axis": axis}   # (for _select_last)
    return lw.emit("argreduce", var, [x], params)


def h_flip(lw, var, call):
    """flip along one axis: a strided copy with a negative stride."""
    x = lw.tensor(call.args[0])
    axis = int(call.attrs.axis) % len(x.shape)
    strides = _row_major_strides(x.shape)
    offset = (x.shape[axis] - 1) * strides[axis]
    strides[axis] = -strides[axis]
    params = {"ndim": len(x.shape), "out_dim": list(x.shape), "in_stride": strides, "offset": offset}
    return lw.emit("strided_slice", var, [x], params)


def _select_last(lw, var, a: Tensor, b: Tensor):
    """TVM's ArgMax/ArgMin with select_last_index: (n - 1) - argreduce(flip(x)). -> one
    argreduce of x with select_last; None when (a, b) are not that pattern."""
    if a.kind != "const" or a.size != 1:
        return None
    arg = next((n for n in lw.nodes if n.output is b and n.op == "argreduce"), None)
    flip = next((n for n in lw.nodes if arg is not None and n.output is arg.inputs[0]
                 and n.op == "strided_slice"), None)
    if flip is None or int(a.data.reshape(-1)[0]) != arg.params["axis_dim"] - 1:
        return None
    # the strided copy must reverse x along the reduced axis and nothing else
    x, axis = flip.inputs[0], arg.params["axis"]
    if axis is None or tuple(x.shape) != tuple(flip.output.shape):
        return None
    strides = _row_major_strides(x.shape)
    want = {"in_stride": [-st if k == axis else st for k, st in enumerate(strides)],
            "offset": (x.shape[axis] - 1) * strides[axis]}
    if list(flip.params["in_stride"]) != want["in_stride"] or flip.params["offset"] != want["offset"]:
        return None
    if any(flip.output is t for n in lw.nodes if n is not arg for t in n.inputs):
        return None
    lw.nodes.remove(flip)
    arg.inputs = [flip.inputs[0]]
    arg.params["select_last"] = 1
    return b


def h_broadcast_to(lw, var, call):
    """broadcast_to (ONNX Expand): a strided copy whose broadcast axes have stride 0."""
    x = lw.tensor(call.args[0])
    shape = _shape(var)
    if x.kind == "const":
        return lw.const(np.broadcast_to(x.data, shape).copy(), var.name)
    kshape = _collapse_for_kernel(shape)
    params = {"ndim": len(kshape), "out_dim": list(kshape), "in_stride": broadcast_strides(x.shape, kshape)}
    return lw.emit("transpose", var, [x], params)


def h_tile(lw, var, call):
    """tile: a strided copy over [r0][d0][r1][d1]..., the repeat axes with stride 0
    (axes with one repeat, or of extent 1, dropped)."""
    x = lw.tensor(call.args[0])
    repeats = _ints(call.attrs.repeats)
    out_shape = _shape(var)
    rank = len(out_shape)
    repeats = [1] * (rank - len(repeats)) + repeats
    in_shape = (1,) * (rank - len(x.shape)) + tuple(x.shape)
    if x.kind == "const":
        return lw.const(np.tile(x.data.reshape(in_shape), repeats), var.name)
    in_strides = _row_major_strides(in_shape)
    dims, strides = [], []
    for r, d, st in zip(repeats, in_shape, in_strides):
        if r != 1:
            dims.append(r)
            strides.append(0)
        if d != 1:
            dims.append(d)
            strides.append(st)
    if not dims:
        dims, strides = [1], [1]
    if len(dims) > MAX_DIMS:
        raise HhbcError(f"layer '{lw.layer}': Tile needs {len(dims)} axes as a strided copy (at most {MAX_DIMS})")
    params = {"ndim": len(dims), "out_dim": dims, "in_stride": strides}
    return lw.emit("transpose", var, [x], params)


def h_pool2d(lw, var, call):
    attrs = call.attrs
    if str(attrs.layout) != "NHWC":
        raise HhbcError(f"layer '{lw.layer}': pooling in layout {attrs.layout} (not after a conv) "
                        "is not supported yet")
    x = lw.tensor(call.args[0])
    pad = _ints(attrs.padding)
    params = {"kind": "max" if call.op.name == "relax.nn.max_pool2d" else "avg",
              "kernel_h": int(attrs.pool_size[0]), "kernel_w": int(attrs.pool_size[1]),
              "stride_h": int(attrs.strides[0]), "stride_w": int(attrs.strides[1]),
              "dilation_h": int(attrs.dilation[0]), "dilation_w": int(attrs.dilation[1]),
              "pad_top": pad[0], "pad_left": pad[1], "pad_bottom": pad[2], "pad_right": pad[3],
              "count_include_pad": int(bool(attrs.count_include_pad))}
    return lw.emit("pool2d", var, [x], params)


def _reduce_node(lw, var, x: Tensor, axes: list[int], op: str) -> Tensor:
    rank = len(x.shape)
    axes = sorted({a % rank for a in axes}) if axes is not None else list(range(rank))
    kept_shape = [1 if i in axes else d for i, d in enumerate(x.shape)]
    out_strides = _row_major_strides(kept_shape)
    out_strides = [0 if i in axes else s for i, s in enumerate(out_strides)]
    count = int(np.prod([x.shape[a] for a in axes], dtype=np.int64)) if axes else 1
    params = {"op": op, "ndim": max(rank, 1), "in_dim": list(_collapse_for_kernel(x.shape)),
              "out_stride": out_strides or [0], "out_size": int(np.prod(kept_shape, dtype=np.int64)),
              "reduce_count": count}
    return lw.emit("reduce", var, [x], params)


REDUCE = {"relax.mean": "mean", "relax.sum": "sum", "relax.max": "max", "relax.min": "min"}


def h_reduce(lw, var, call):
    x = lw.tensor(call.args[0])
    axes = None if call.attrs.axis is None else _ints(call.attrs.axis)
    return _reduce_node(lw, var, x, axes, REDUCE[call.op.name])


def h_adaptive_avg_pool2d(lw, var, call):
    x = lw.tensor(call.args[0])
    layout = str(call.attrs.layout)
    if tuple(_shape(var)[1:3] if layout == "NHWC" else _shape(var)[2:4]) != (1, 1):
        raise HhbcError(f"layer '{lw.layer}': adaptive pooling to a size other than 1x1 is not supported")
    return _reduce_node(lw, var, x, [1, 2] if layout == "NHWC" else [2, 3], "mean")


def h_concat(lw, var, call):
    fields = call.args[0].fields
    tensors = [lw.tensor(f) for f in fields]
    out_shape = _shape(var)
    axis = int(call.attrs.axis) % len(out_shape)
    params = {"num_inputs": len(tensors),
              "outer": int(np.prod(out_shape[:axis], dtype=np.int64)),
              "inner": int(np.prod(out_shape[axis + 1:], dtype=np.int64)),
              "axis_dim": [t.shape[axis] for t in tensors]}
    if all(t.dtype == "int8" for t in tensors):   # int8 PACK: inputs share the output's parameters
        if len({t.quant for t in tensors}) != 1:
            raise HhbcError(f"layer '{lw.layer}': int8 concatenation of differently quantized tensors")
        return lw.emit("concat_i8", var, tensors, params)
    return lw.emit("concat", var, tensors, params)


def h_transpose(lw, var, call):
    x = lw.tensor(call.args[0])
    rank = len(x.shape)
    axes = list(reversed(range(rank))) if call.attrs.axes is None else [int(a) % rank for a in call.attrs.axes]
    in_strides = _row_major_strides(x.shape)
    params = {"ndim": rank, "out_dim": list(_shape(var)), "in_stride": [in_strides[a] for a in axes]}
    return lw.emit("transpose", var, [x], params)


def h_pad(lw, var, call):
    x = lw.tensor(call.args[0])
    width = _ints(call.attrs.pad_width)
    mode = {"constant": "constant", "replicate": "edge", "reflect": "reflect"}.get(str(call.attrs.pad_mode))
    if mode is None:
        raise HhbcError(f"layer '{lw.layer}': pad mode {call.attrs.pad_mode} is not supported")
    value = call.args[1] if len(call.args) > 1 else None
    fill = float(value.value.numpy()) if isinstance(value, tvm.ir.GenericConst) else float(
        getattr(call.attrs, "pad_value", 0.0) or 0.0)
    rank = len(x.shape)
    params = {"mode": mode, "value": fill, "ndim": rank, "in_dim": list(x.shape),
              "out_dim": list(_shape(var)), "before": [width[2 * i] for i in range(rank)]}
    if mode == "reflect" and any(width[2 * i] >= x.shape[i] or width[2 * i + 1] >= x.shape[i] for i in range(rank)):
        raise HhbcError(f"layer '{lw.layer}': reflect padding wider than the input")
    return lw.emit("pad", var, [x], params)


def h_softmax(lw, var, call):
    x = lw.tensor(call.args[0])
    rank = len(x.shape)
    axis = int(call.attrs.axis) % rank
    params = {"outer": int(np.prod(x.shape[:axis], dtype=np.int64)), "axis_size": x.shape[axis],
              "inner": int(np.prod(x.shape[axis + 1:], dtype=np.int64)),
              "log": int(call.op.name == "relax.nn.log_softmax")}
    return lw.emit("softmax", var, [x], params)


def h_prelu(lw, var, call):
    x = lw.tensor(call.args[0])
    if not isinstance(call.args[1], tvm.ir.GenericConst):
        raise HhbcError(f"layer '{lw.layer}': PReLU slope must be constant")
    slope = call.args[1].value.numpy().astype(np.float32).reshape(-1)
    rank = len(x.shape)
    axis = int(call.attrs.axis) % rank
    channels = x.shape[axis]
    if slope.size == 1:
        slope = np.full(channels, slope[0], np.float32)
    params = {"outer": int(np.prod(x.shape[:axis], dtype=np.int64)), "channels": channels,
              "inner": int(np.prod(x.shape[axis + 1:], dtype=np.int64))}
    return lw.emit("prelu", var, [x], params, {"slope": lw.const(slope, "slope")})


def h_alias(lw, var, call):
    return lw.alias(var, lw.tensor(call.args[0]))


def h_resize2d(lw, var, call):
    from hhbc.lower.resize import resize_tables

    attrs = call.attrs
    if str(attrs.layout) != "NHWC":
        raise HhbcError(f"layer '{lw.layer}': resize in layout {attrs.layout} (not after a conv) "
                        "is not supported yet")
    x = lw.tensor(call.args[0])
    out_shape = _shape(var)
    tables, mode = resize_tables(lw.layer, attrs, x.shape[1:3], out_shape[1:3])
    consts = {k: lw.const(v, k) for k, v in tables.items()}
    return lw.emit("resize2d", var, [x], {"mode": mode}, consts)


HANDLERS: dict[str, Callable] = {
    "relax.nn.conv2d": h_conv2d,
    "relax.nn.conv2d_transpose": h_conv2d_transpose,
    "relax.strided_slice": h_strided_slice,
    "relax.split": h_split,
    "relax.matmul": h_matmul,
    **{op: h_binary for op in BINARY},
    **{op: h_unary for op in UNARY},
    "relax.nn.relu": h_activation, "relax.clip": h_activation,
    "relax.nn.leakyrelu": h_activation, "relax.sigmoid": h_activation,
    "relax.nn.max_pool2d": h_pool2d, "relax.nn.avg_pool2d": h_pool2d,
    "relax.nn.adaptive_avg_pool2d": h_adaptive_avg_pool2d,
    **{op: h_reduce for op in REDUCE},
    "relax.concat": h_concat,
    "relax.permute_dims": h_transpose,
    "relax.nn.pad": h_pad,
    "relax.nn.softmax": h_softmax, "relax.nn.log_softmax": h_softmax,
    "relax.nn.prelu": h_prelu,
    "relax.image.resize2d": h_resize2d,
    "relax.reshape": h_alias, "relax.squeeze": h_alias, "relax.expand_dims": h_alias,
    "relax.flatten": h_alias,
    "relax.astype": h_const_only, **{op: h_const_only for op in _NUMPY_COMPARE},
    "relax.argmax": h_argreduce, "relax.argmin": h_argreduce, "relax.flip": h_flip,
    "relax.take": h_take, "relax.where": h_where, "relax.broadcast_to": h_broadcast_to, "relax.tile": h_tile,
}


def lower(model: ImportedModel, mod: tvm.IRModule) -> KernelGraph:
    """Lower an optimized module's main function to a KernelGraph."""
    return _Lowering(model, mod).run()
