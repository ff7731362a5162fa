"""Post-training quantization (HHB's -qs int8 schemes): a calibrated float module rewritten into
the QDQ form TVM's TFLite importer writes for an int8 model,

    quantize(op(dequantize(int8 x), dequantize(int8 constant) ...) [+ dequantize(int32 bias)]) [-> int8 clip]

so that the int8 patterns (optimize/quantized.py), the lowering (lower/quantized.py) and the
int8 kernels are exactly those of a model that arrives quantized. The conventions are the
TFLite converter's: a conv/dense absorbs its bias and activation (the output range is the
activation's), weights are quantized per output channel, biases to int32 at input × weight
scale, max pool / reshape keep their input's parameters and run on the integers, average pool
keeps them too, softmax and logistic write 1/256 with zero point -128, tanh 1/128 with 0.

The module is the optimized float one just before fusion (optimize.float_module); the ranges
come from calibrate.py over the same module, indexed by binding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import tvm
from tvm import relax

from hhbc.errors import HhbcError
from hhbc.layers import layer_of, stamp
from hhbc.lower.graph import Quant
from hhbc.quantize.calibrate import (DEFAULT_PERCENTILE, Calibration, calibrate, check_mode,
                                     check_percentile)


@dataclass(frozen=True)
class Scheme:
    """How one -qs int8 scheme quantizes activations and weights."""
    name: str
    act_symmetric: bool
    weight_symmetric: bool


INT8_SCHEMES = {
    "int8_asym_w_sym": Scheme("int8_asym_w_sym", act_symmetric=False, weight_symmetric=True),
    "int8_sym": Scheme("int8_sym", act_symmetric=True, weight_symmetric=True),
    "int8_asym": Scheme("int8_asym", act_symmetric=False, weight_symmetric=False),
}

_ANCHORS = ("relax.nn.conv2d", "relax.matmul")
_ACTIVATIONS = ("relax.nn.relu", "relax.clip")
_MOVES = ("relax.reshape", "relax.squeeze", "relax.flatten", "relax.expand_dims", "relax.permute_dims",
          "relax.nn.max_pool2d")
# ops with their own output range: quantize(op(dequantize(x) ...))
_OWN_RANGE = ("relax.mean", "relax.nn.relu", "relax.clip", "relax.concat", "relax.nn.prelu")
# fixed output quantization (TFLite's): scale, zero point
_FIXED_OUT = {"relax.nn.softmax": (1 / 256, -128), "relax.sigmoid": (1 / 256, -128),
              "relax.tanh": (1 / 128, 0)}


def activation_quant(lo: float, hi: float, symmetric: bool) -> Quant:
    """int8 scale and zero point for the float range [lo, hi] (which holds 0)."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if symmetric:
        top = max(-lo, hi)
        scale = top / 127.0 if top > 0 else 1.0
        return Quant((float(np.float32(scale)),), (0,))
    if hi - lo <= 0:
        return Quant((float(np.float32(1 / 255)),), (-128,))
    scale = float(np.float32((hi - lo) / 255.0))
    zp = int(np.clip(np.round(-128 - lo / scale), -128, 127))
    return Quant((scale,), (zp,))


def weight_quant(w: np.ndarray, axis: int, symmetric: bool) -> tuple[np.ndarray, Quant]:
    """Per-channel int8 weights along `axis`: symmetric (zero point 0, [-127, 127]) or
    asymmetric (each channel's [min, max] over 256 steps)."""
    moved = np.moveaxis(w.astype(np.float64), axis, 0).reshape(w.shape[axis], -1)
    if symmetric:
        top = np.abs(moved).max(axis=1)
        scale = np.where(top > 0, top / 127.0, 1.0).astype(np.float32)
        zp = np.zeros_like(top, dtype=np.int64)
        q = np.clip(np.round(moved / scale.astype(np.float64)[:, None]), -127, 127)
    else:
        lo = np.minimum(moved.min(axis=1), 0.0)
        hi = np.maximum(moved.max(axis=1), 0.0)
        scale = np.where(hi > lo, (hi - lo) / 255.0, 1.0).astype(np.float32)
        zp = np.clip(np.round(-128 - lo / scale), -128, 127).astype(np.int64)
        q = np.clip(np.round(moved / scale.astype(np.float64)[:, None]) + zp[:, None], -128, 127)
    shape = np.moveaxis(np.empty(w.shape), axis, 0).shape
    q = np.moveaxis(q.reshape(shape), 0, axis).astype(np.int8)
    return q, Quant(tuple(float(s) for s in scale), tuple(int(z) for z in zp), axis)


def _const(array: np.ndarray, dtype: str) -> relax.Expr:
    return relax.const(np.asarray(array).astype(dtype), dtype)


def _quant_args(q: Quant, n: int | None = None) -> tuple[relax.Expr, relax.Expr]:
    if n is None:
        return _const(np.float32(q.scale[0]), "float32"), _const(np.int8(q.zero_point[0]), "int8")
    return _const(np.asarray(q.scale, np.float32), "float32"), _const(np.asarray(q.zero_point), "int8")


def _call_name(value) -> str:
    if isinstance(value, relax.Call) and isinstance(value.op, tvm.ir.Op):
        return value.op.name
    return type(value).__name__


def _const_value(expr) -> np.ndarray | None:
    if isinstance(expr, tvm.ir.GenericConst):
        return expr.value.numpy()
    return None


class _Rewriter:
    """One pass over main's bindings, emitting the QDQ module with a BlockBuilder."""

    def __init__(self, func: relax.Function, cal: Calibration, scheme: Scheme, mode: str, percentile: float):
        self.func, self.cal, self.scheme = func, cal, scheme
        self.mode, self.percentile = mode, percentile
        self.bindings = [b for block in func.body.blocks for b in block.bindings]
        self.index = {b.var: i for i, b in enumerate(self.bindings)}
        for k, p in enumerate(func.params):
            self.index[p] = -(k + 1)
        self.uses = self._count_uses()
        self.full_range = self._full_range()
        self.absorbed: set[int] = set()
        self.tuples: dict[relax.Var, relax.Tuple] = {}   # tuple bindings (the outputs of main)
        self.q: dict[relax.Var, tuple[relax.Var, Quant]] = {}   # float var -> its int8 var
        self.bb = relax.BlockBuilder()
        self.layers: dict[str, int] = {}   # layer name -> calibration index of the float tensor it makes

    # -- analysis ---------------------------------------------------------------------------
    def _count_uses(self) -> dict[relax.Var, int]:
        uses: dict[relax.Var, int] = {}

        def visit(expr):
            if isinstance(expr, relax.Var):
                uses[expr] = uses.get(expr, 0) + 1
        for b in self.bindings:
            relax.analysis.post_order_visit(b.value, visit)
        relax.analysis.post_order_visit(self.func.body.body, visit)
        return uses

    def _only_user(self, var: relax.Var, i: int) -> tuple[int, relax.Call] | None:
        """The binding that is the single user of `var` (a group is a chain), if any."""
        if self.uses.get(var, 0) != 1:
            return None
        for j in range(i + 1, len(self.bindings)):
            value = self.bindings[j].value
            if isinstance(value, relax.Call) and any(a.same_as(var) for a in value.args):
                return j, value
        return None

    def _full_range(self) -> set[int]:
        """Tensors whose outliers are the answer: the model's outputs and softmax's inputs (the
        logits). Clipping them reorders the classes, so they keep their whole range in every
        calibration mode."""
        body = self.func.body.body
        fields = body.fields if isinstance(body, relax.Tuple) else [body]
        for b in self.bindings:
            if isinstance(b.value, relax.Tuple) and any(b.var.same_as(f) for f in fields):
                fields = list(fields) + list(b.value.fields)
            if _call_name(b.value) == "relax.nn.softmax":
                fields = list(fields) + [b.value.args[0]]
        wanted = {f for f in fields if isinstance(f, relax.Var)}
        for b in reversed(self.bindings):   # through reshapes and the like, to the layer's output
            if b.var in wanted and _call_name(b.value) in _MOVES:
                wanted.add(b.value.args[0])
        return {self.index[v] for v in wanted if v in self.index}

    def _range_quant(self, var: relax.Var, layer: str) -> Quant:
        index = self.index[var]
        if index not in self.cal.stats:
            raise HhbcError(f"-qs {self.scheme.name}: layer '{layer}': no calibration range for '{var.name}'")
        mode = "maxmin" if index in self.full_range else self.mode
        lo, hi = self.cal.range(index, mode, self.percentile, self.scheme.act_symmetric)
        return activation_quant(lo, hi, self.scheme.act_symmetric)

    # -- emission ---------------------------------------------------------------------------
    def emit(self, expr: relax.Expr, layer: str, name: str = "") -> relax.Var:
        expr = stamp(expr, layer)
        return self.bb.emit(expr, name_hint=name) if name else self.bb.emit(expr)

    def deq(self, var: relax.Var, layer: str) -> relax.Var:
        """A fresh dequantize of var's int8 version for one use (each group owns its own)."""
        qv, q = self._int8(var, layer)
        return self.emit(relax.op.dequantize(qv, *_quant_args(q), axis=-1), layer)

    def _int8(self, var, layer: str) -> tuple[relax.Var, Quant]:
        if var not in self.q:
            raise HhbcError(f"-qs {self.scheme.name}: layer '{layer}': an operand is not a quantized "
                            f"activation (hhbc quantizes conv, dense and elementwise constants only)")
        return self.q[var]

    def quantize(self, out_var: relax.Var, value: relax.Var, q: Quant, layer: str) -> relax.Var:
        qv = self.emit(relax.op.quantize(value, *_quant_args(q), axis=-1, out_dtype="int8"), layer,
                       out_var.name)
        self.q[out_var] = (qv, q)
        self.layers[layer] = self.index[out_var]
        return qv

    def run(self) -> relax.Function:
        params = list(self.func.params)
        attrs = dict(self.func.attrs) if self.func.attrs is not None else {}
        with self.bb.function("main", params, attrs):
            with self.bb.dataflow():
                for p in params:
                    if isinstance(p.ty, relax.TensorType) and str(p.ty.dtype) == "float32":
                        self.quantize(p, p, self._range_quant(p, p.name), f"input {p.name}")
                for i, b in enumerate(self.bindings):
                    if i not in self.absorbed:
                        self._binding(i, b)
                outs = self._outputs(self.func.body.body)
                out = self.bb.emit_output(outs)
            self.bb.emit_func_output(out)
        return self.bb.get()["main"]

    def _outputs(self, body: relax.Expr) -> relax.Expr:
        if isinstance(body, relax.Var) and body in self.tuples:
            body = self.tuples[body]
        if isinstance(body, relax.Tuple):
            return relax.Tuple([self._output(f) for f in body.fields])
        return self._output(body)

    def _output(self, var: relax.Expr) -> relax.Var:
        qv, q = self._int8(var, "output")
        return self.emit(relax.op.dequantize(qv, *_quant_args(q), axis=-1), f"output {var.name}")

    def _binding(self, i: int, b) -> None:
        value, var = b.value, b.var
        layer = layer_of(value) or var.name
        op = _call_name(value)
        if op in _ANCHORS:
            self._anchor(i, var, value, layer)
        elif op in ("relax.add", "relax.multiply", "relax.subtract"):
            self._binary(i, var, value, layer)
        elif op == "relax.nn.max_pool2d" and bool(value.attrs.ceil_mode):
            self._max_pool_ceil(var, value, layer)
        elif op in _MOVES:
            qv, q = self._int8(value.args[0], layer)
            new = self.emit(relax.Call(value.op, [qv, *value.args[1:]], value.attrs, value.ty_args), layer,
                            var.name)
            self.q[var] = (new, q)
        elif op == "relax.nn.avg_pool2d":
            self._avg_pool(var, value, layer)
        elif op in _FIXED_OUT:
            scale, zp = _FIXED_OUT[op]
            x = self.deq(value.args[0], layer)
            f = self.emit(relax.Call(value.op, [x, *value.args[1:]], value.attrs, value.ty_args), layer)
            self.quantize(var, f, Quant((float(np.float32(scale)),), (zp,)), layer)
        elif op in _OWN_RANGE:
            self._own_range(var, value, layer)
        elif op in ("Var", "DataflowVar"):
            self.q[var] = self._int8(value, layer)
        elif op == "Tuple":
            self.tuples[var] = value
        else:
            raise HhbcError(f"-qs {self.scheme.name}: layer '{layer}' ({op.removeprefix('relax.')}) has no "
                            f"int8 kernel in hhbc; compile this model with -qs float16 or float32")

    def _own_range(self, var, value: relax.Call, layer: str) -> None:
        args = []
        for a in value.args:
            if isinstance(a, relax.Tuple):
                args.append(relax.Tuple([self.deq(f, layer) for f in a.fields]))
            elif isinstance(a, (relax.Var, relax.DataflowVar)) and a in self.q:
                args.append(self.deq(a, layer))
            elif _const_value(a) is not None and _call_name(value) == "relax.nn.prelu":
                args.append(self._const_operand(_const_value(a), layer))
            else:
                args.append(a)
        f = self.emit(relax.Call(value.op, args, value.attrs, value.ty_args), layer)
        self.quantize(var, f, self._range_quant(var, layer), layer)

    def _const_operand(self, data: np.ndarray, layer: str) -> relax.Var:
        """A float constant operand of an elementwise op: int8, one scale for the tensor."""
        q = activation_quant(float(data.min()), float(data.max()), self.scheme.weight_symmetric)
        ints = np.clip(np.round(data / q.scale[0]) + q.zero_point[0], -128, 127).astype(np.int8)
        return self.emit(relax.op.dequantize(_const(ints, "int8"), *_quant_args(q), axis=-1), layer)

    def _max_pool_ceil(self, var, value: relax.Call, layer: str) -> None:
        """Caffe's ceil-mode max pool as a floor-mode one padded at the bottom and right: the
        padding never wins a max, so this is exact, and the int8 kernel takes floor mode."""
        a = value.attrs
        qv, q = self._int8(value.args[0], layer)
        top, left, bottom, right = (int(p) for p in a.padding)
        _, h, w, _ = (int(d) for d in value.args[0].ty.shape)
        _, oh, ow, _ = (int(d) for d in var.ty.shape)
        (kh, kw), (sh, sw) = (int(k) for k in a.pool_size), (int(s) for s in a.strides)
        bottom = max(bottom, (oh - 1) * sh + kh - h - top)
        right = max(right, (ow - 1) * sw + kw - w - left)
        pooled = relax.op.nn.max_pool2d(qv, (kh, kw), (sh, sw), [top, left, bottom, right],
                                        [int(d) for d in a.dilation], False, a.count_include_pad,
                                        str(a.layout), str(a.out_layout))
        self.q[var] = (self.emit(pooled, layer, var.name), q)

    def _avg_pool(self, var, value: relax.Call, layer: str) -> None:
        """TFLite's form: pooled on the integers in int32, the input's parameters kept."""
        qv, q = self._int8(value.args[0], layer)
        wide = self.emit(relax.op.astype(qv, "int32"), layer)
        pooled = self.emit(relax.Call(value.op, [wide], value.attrs, value.ty_args), layer)
        self.q[var] = (self.emit(relax.op.astype(pooled, "int8"), layer, var.name), q)

    def _binary(self, i: int, var, value: relax.Call, layer: str) -> None:
        a, b = value.args
        operands = []
        for x in (a, b):
            data = _const_value(x)
            operands.append(self._const_operand(data, layer) if data is not None else self.deq(x, layer))
        out = self.emit(relax.Call(value.op, operands, value.attrs, value.ty_args), layer)
        out_var, out = self._fused_activation(i, var, out, layer)
        self.quantize(out_var, out, self._range_quant(out_var, layer), layer)

    def _fused_activation(self, i: int, var, out, layer: str):
        """A ReLU/clip that is the only user of `var`: applied in float before quantize (the
        int8 add/mul groups take it so), its output range the group's."""
        nxt = self._only_user(var, i)
        if nxt is None or _call_name(nxt[1]) not in _ACTIVATIONS:
            return var, out
        j, act = nxt
        self.absorbed.add(j)
        f = self.emit(relax.Call(act.op, [out, *act.args[1:]], act.attrs, act.ty_args), layer)
        return self.bindings[j].var, f

    def _anchor(self, i: int, var, value: relax.Call, layer: str) -> None:
        op = _call_name(value)
        w = _const_value(value.args[1])
        if w is None:
            raise HhbcError(f"-qs {self.scheme.name}: layer '{layer}': {op.removeprefix('relax.')} of two "
                            f"activations has no int8 kernel in hhbc")
        x_q = self._int8(value.args[0], layer)[1]
        x = self.deq(value.args[0], layer)
        axis = 0 if op == "relax.nn.conv2d" else w.ndim - 1     # OHWI's O, or [K, N]'s N
        if op == "relax.nn.conv2d" and str(value.attrs.kernel_layout) != "OHWI":
            raise HhbcError(f"-qs {self.scheme.name}: layer '{layer}': conv2d weights in layout "
                            f"{value.attrs.kernel_layout} (OHWI expected after layout conversion)")
        wq, w_q = weight_quant(w, axis, self.scheme.weight_symmetric)
        wd = self.emit(relax.op.dequantize(_const(wq, "int8"), _const(np.asarray(w_q.scale, np.float32), "float32"),
                                           _const(np.asarray(w_q.zero_point), "int8"), axis=axis), layer)
        out = self.emit(relax.Call(value.op, [x, wd], value.attrs, value.ty_args), layer)
        out_var, j = var, i
        bias = self._bias_of(var, i, w.shape[axis])
        if bias is not None:
            j, b = bias
            out_var = self.bindings[j].var
            self.absorbed.add(j)
            out = self.emit(relax.op.add(out, self._bias(b, x_q, w_q)), layer)
        act = self._only_user(out_var, j)
        if act is not None and _call_name(act[1]) in _ACTIVATIONS:
            self.absorbed.add(act[0])
            out_var = self.bindings[act[0]].var
            out_q = self._range_quant(out_var, layer)
            qv = self.quantize(out_var, out, out_q, layer)
            lo, hi = _int8_bounds(act[1], out_q)
            self.q[out_var] = (self.emit(relax.op.clip(qv, lo, hi), layer, out_var.name), out_q)
        else:
            self.quantize(out_var, out, self._range_quant(out_var, layer), layer)

    def _bias_of(self, var, i: int, channels: int) -> tuple[int, np.ndarray] | None:
        nxt = self._only_user(var, i)
        if nxt is None or _call_name(nxt[1]) != "relax.add":
            return None
        j, add = nxt
        data = _const_value(add.args[1])
        if data is None or not add.args[0].same_as(var) or data.size != channels or \
                (data.ndim and data.shape[-1] != channels):
            return None
        return j, data

    def _bias(self, b: np.ndarray, x_q: Quant, w_q: Quant) -> relax.Var:
        scale = np.float64(x_q.scale[0]) * np.asarray(w_q.scale, np.float64)
        ints = np.clip(np.round(b.reshape(-1) / scale), -(2 ** 31), 2 ** 31 - 1).astype(np.int32)
        scale32 = np.asarray(scale, np.float32)
        return relax.op.dequantize(_const(ints.reshape(b.shape), "int32"), _const(scale32, "float32"),
                                   _const(np.zeros(scale32.size, np.int32), "int32"), axis=b.ndim - 1)


def _int8_bounds(act: relax.Call, q: Quant) -> tuple[int, int]:
    """A float ReLU/clip as an int8 clip of the quantized output (TFLite's
    CalculateActivationRangeQuantized: round(bound / scale) + zero point, within int8)."""
    from hhbc.quantize import fixedpoint as fp

    if _call_name(act) == "relax.nn.relu":
        return fp.activation_range("RELU", q.scale[0], q.zero_point[0])
    a, z = float(act.args[1].value), float(act.args[2].value)
    kind = {(0.0, 6.0): "RELU6", (-1.0, 1.0): "RELU_N1_TO_1"}.get((a, z))
    if kind is not None:
        return fp.activation_range(kind, q.scale[0], q.zero_point[0])
    lo = max(-128, q.zero_point[0] + int(np.round(a / q.scale[0])))
    hi = min(127, q.zero_point[0] + int(np.round(z / q.scale[0])))
    return lo, hi


@dataclass(frozen=True)
class PtqOptions:
    """What post-training quantization is given besides -qs: the calibration data (-cd and
    HHB's preprocessing options, or samples already loaded) and the calibration mode."""
    dataset: str | None = None                 # -cd
    preprocess: Any = None                     # hhbc.quantize.dataset.Preprocess (None: defaults)
    mode: str = "maxmin"                       # --calibrate-mode
    percentile: float = DEFAULT_PERCENTILE     # --calibrate-percentile
    samples: Sequence[Sequence[np.ndarray]] | None = None   # API: one list of input arrays per sample


@dataclass
class Quantized:
    """A post-training-quantized module, with what the accuracy report needs."""
    mod: tvm.IRModule                # the QDQ module after the int8 pipeline
    float_mod: tvm.IRModule          # the float module that was calibrated
    calibration: Calibration
    layers: dict[str, int] = field(default_factory=dict)   # int8 layer name -> float tensor index
    scheme: str = ""
    mode: str = ""


def calibration_samples(model, ptq: PtqOptions, scheme: str) -> list[list[np.ndarray]]:
    """The calibration samples: given, or loaded from -cd for the model's inputs."""
    if ptq.samples is not None:
        samples = [list(s) for s in ptq.samples]
    elif ptq.dataset:
        from hhbc.quantize.dataset import Preprocess, load_dataset

        samples = load_dataset(ptq.dataset, model.inputs, ptq.preprocess or Preprocess())
    else:
        raise HhbcError(f"-qs {scheme}: post-training quantization needs calibration data: "
                        f"-cd DIR (or files: .npy/.npz, or images with -m/-s/-r)")
    if not samples:
        raise HhbcError(f"-cd {ptq.dataset}: no calibration samples")
    for k, sample in enumerate(samples):
        if len(sample) != len(model.inputs):
            raise HhbcError(f"calibration sample {k}: {len(sample)} array(s) for a model with "
                            f"{len(model.inputs)} input(s)")
        for array, info in zip(sample, model.inputs):
            if tuple(np.shape(array)) != tuple(info.shape):
                raise HhbcError(f"calibration sample {k}: input '{info.name}' is "
                                f"{'x'.join(map(str, np.shape(array)))}, the model takes "
                                f"{'x'.join(map(str, info.shape))}")
    return [[np.asarray(a, np.float32) for a in s] for s in samples]


def post_training_quantize(model, scheme: str, ptq: PtqOptions, *, verbose: bool = False,
                           progress: Callable[..., None] | None = None) -> Quantized:
    """Float model -> int8 QDQ module: float pipeline, calibration, QDQ insertion, int8 pipeline."""
    from hhbc.optimize import float_module, optimize_quantized

    mode, percentile = check_mode(ptq.mode), check_percentile(ptq.percentile)
    samples = calibration_samples(model, ptq, scheme)
    float_mod = float_module(model.mod, verbose=verbose)
    if progress:
        progress(f"calibrating ({mode}) on {len(samples)} sample(s)")
    cal = calibrate(float_mod, samples, mode, progress=(lambda m: progress(m, stage=False)) if progress else None)
    rewriter = _Rewriter(float_mod["main"], cal, INT8_SCHEMES[scheme], mode, percentile)
    qdq = relax.transform.Normalize()(tvm.IRModule({"main": rewriter.run()}))
    if progress:
        progress(f"quantizing ({scheme})")
    return Quantized(optimize_quantized(qdq, verbose=verbose), float_mod, cal, rewriter.layers, scheme, mode)


def quantized_outputs(model_path, calib: Sequence[Sequence[np.ndarray]], evals: Sequence[Sequence[np.ndarray]],
                      scheme: str = "int8_asym_w_sym", mode: str = "maxmin", *, options=None,
                      percentile: float = DEFAULT_PERCENTILE) -> list[list[np.ndarray]]:
    """Quantize `model_path` on `calib` and return the int8 graph's outputs on every sample of
    `evals` through the host simulation (what the firmware computes, bit for bit): the
    accuracy measurements use it instead of one emulator run per sample."""
    import tempfile

    from hhbc.compiler import compile_model
    from hhbc.frontends import ImportOptions
    from hhbc.quantize.simulate import simulate
    from hhbc.targets import get_target

    with tempfile.TemporaryDirectory(prefix="hhbc-ptq-") as tmp:
        compiled = compile_model(model_path, get_target("host"), tmp, options=options or ImportOptions(),
                                 scheme=scheme, ptq=PtqOptions(samples=calib, mode=mode, percentile=percentile))
    return [simulate(compiled.graph, sample).outputs for sample in evals]
