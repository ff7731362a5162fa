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
        if dtype not in ("float32", "int8"):
            raise HhbcError(f"layer '{self.layer}': {dtype} tensors are not supported yet (float32, int8)")
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


def h_binary(lw, var, call):
    a, b = lw.tensor(call.args[0]), lw.tensor(call.args[1])
    out_shape = _collapse_for_kernel(_shape(var))
    params = {"op": BINARY[call.op.name], "ndim": len(out_shape), "out_dim": list(out_shape),
              "a_stride": broadcast_strides(a.shape, out_shape),
              "b_stride": broadcast_strides(b.shape, out_shape), "act": _act()}
    return lw.emit("binary", var, [a, b], params)


UNARY = {"relax.tanh": "tanh", "relax.exp": "exp", "relax.log": "log", "relax.sqrt": "sqrt",
         "relax.rsqrt": "rsqrt", "relax.abs": "abs", "relax.negative": "neg", "relax.erf": "erf"}


def h_unary(lw, var, call):
    x = lw.tensor(call.args[0])
    return lw.emit("unary", var, [x], {"op": UNARY[call.op.name], "size": x.size, "act": _act()})


def h_activation(lw, var, call):
    x = lw.tensor(call.args[0])
    return lw.emit("unary", var, [x], {"op": "act", "size": x.size, "act": _act_from_call(call)})


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
}


def lower(model: ImportedModel, mod: tvm.IRModule) -> KernelGraph:
    """Lower an optimized module's main function to a KernelGraph."""
    return _Lowering(model, mod).run()
