"""Bit-exact tests of the int8 reference kernels (hhbc/kernels/ref/*_i8.c) against the
TFLite interpreter's reference kernels (OpResolverType.BUILTIN_REF).

Small multi-branch models are built with TensorFlow and converted to full-integer .tflite
(int8 in and out, per-channel and per-tensor weights), a few are edited or written with the
flatbuffer schema (multipliers above one, beta != 1, int8 -> int8 QUANTIZE, concat of
differently scaled inputs). The interpreter runs each model on seeded random int8 inputs
and keeps every intermediate tensor; each operator then becomes one C case: its real input
tensors, its constants, and parameters computed from the .tflite quantization parameters by
hhbc/quantize/fixedpoint.py. The C output must be identical to the interpreter's.

One C driver per kernel (all its cases), host cc, ASan/UBSan when available; each case runs
twice over outputs pre-filled with different bytes so that an unwritten element fails.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from c_harness import (HERE, HOST_CC, INCLUDE, REF, RUN_ENV, STRICT_FLAGS, build_riscv64_zig,
                       build_strict_host, cstr, ilist, needs_cc, needs_zig, sanitizer_flags)

from hhbc.quantize import fixedpoint as fp


KERNELS = ["conv2d", "depthwise_conv2d", "dense", "add", "mul", "pool2d", "mean", "softmax",
           "lut", "hardswish", "requantize", "concat", "pad", "quantize", "dequantize"]
# No TFLite op of their own: exercised end to end (tests/ops/test_tflite_int8_ops.py, reshape).
# Kernels checked end to end, bit-exact against the TFLite interpreter, by tests/ops/test_tflite_int8_ops.py
# (and on every input or input pair by test_tflite_int8_math2.py, test_tflite_int8_resample.py).
END_TO_END = ["copy", "argreduce", "binary", "gather", "prelu", "reduce", "resize2d", "strided_slice", "transpose",
              "squared_difference", "div", "l2norm", "sum", "deconv2d", "resize_bilinear"]


HAVE_TFLITE = (importlib.util.find_spec("tensorflow") is not None
               and importlib.util.find_spec("ai_edge_litert") is not None)
needs_tflite = pytest.mark.skipif(not HAVE_TFLITE,
                                  reason="needs tensorflow and ai-edge-litert (the [test] extra)")

SEEDS = (11, 22, 33)   # random int8 input draws per model


# =====================================================================================
# C driver
# =====================================================================================

CTYPE = {np.dtype(np.int8): "int8_t", np.dtype(np.int32): "int32_t",
         np.dtype(np.int16): "int16_t", np.dtype(np.float32): "float",
         np.dtype(np.float64): "double"}


def tensor_c(data: str, shape) -> str:
    shape = tuple(int(d) for d in shape) or (1,)
    assert 1 <= len(shape) <= 6, shape
    return f"{{.data = {data}, .dim = {ilist(shape)}, .ndim = {len(shape)}}}"


@dataclass
class Case:
    label: str
    body: str                      # C statements; see I8Driver.case
    expected: np.ndarray           # int8 (or float32 for dequantize)
    arrays: dict[str, np.ndarray]  # loaded as `T *NAME`
    tensors: dict[str, tuple]      # NAME -> shape: also `hhbc_tensor t_NAME`


class I8Driver:
    """All cases of some kernels in one C program: build, run, compare bit for bit."""

    def __init__(self, tmp_path: Path, name: str, kernels: list[str], reference: str = "the TFLite reference"):
        self.kernel = name
        self.reference = reference
        self.kernels = kernels
        self.dir = tmp_path / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.funcs: list[str] = []
        self.checks: list[tuple[str, list[Path], np.ndarray]] = []

    def case(self, c: Case) -> None:
        """c.body sees every array as `NAME`, the listed tensors as `t_NAME`, and the
        output as `out` / `t_out` (shape and dtype of c.expected)."""
        idx = len(self.checks)
        lines, frees = [], []
        for name, arr in c.arrays.items():
            arr = np.ascontiguousarray(arr)
            ctype = CTYPE[arr.dtype]
            path = self.dir / f"c{idx}_{name}.bin"
            arr.tofile(path)
            lines.append(f"{ctype} *{name} = ({ctype} *)hb_load({cstr(path)}, {arr.nbytes});")
            frees.append(f"free({name});")
            if name in c.tensors:
                lines.append(f"hhbc_tensor t_{name} = {tensor_c(name, c.tensors[name])};")
                lines.append(f"(void)t_{name};")
        exp = np.ascontiguousarray(c.expected)
        otype = CTYPE[exp.dtype]
        outs = [self.dir / f"c{idx}_out{k}.bin" for k in (0, 1)]
        lines.append(f"{otype} *out = ({otype} *)hb_alloc({exp.nbytes});")
        lines.append(f"hhbc_tensor t_out = {tensor_c('out', exp.shape)};")
        lines.append("(void)t_out;")
        lines.append(f"const char *paths[2] = {{{cstr(outs[0])}, {cstr(outs[1])}}};")
        lines.append("for (int pass = 0; pass < 2; pass++) {")
        lines.append(f"    memset(out, pass ? 0x5a : 0xa5, {exp.nbytes});")
        lines.extend("    " + ln for ln in c.body.strip().splitlines())
        lines.append(f"    hb_save_bytes(paths[pass], out, {exp.nbytes});")
        lines.append("}")
        lines.append("free(out);")
        lines.extend(frees)
        safe = c.label.replace("*/", "* /")
        self.funcs.append(f"/* {safe} */\nstatic void case_{idx}(void)\n{{\n"
                          + "".join(f"    {ln}\n" for ln in lines) + "}\n")
        self.checks.append((c.label, outs, exp))

    def run(self, target: str | None = None) -> int:
        """Build for the host (sanitized) or, given an hhbc target name, with zig cc for
        riscv64 and run under QEMU; then compare every output bit for bit."""
        assert self.checks, f"no {self.kernel} cases"
        src = self.dir / f"drive_{self.kernel}_i8.c"
        src.write_text(
            "#include <string.h>\n"
            '#include "hhbc_kernels_i8.h"\n'
            + "".join(f"#include {cstr(REF / (k + '_i8.c'))}\n" for k in self.kernels)
            + '#include "ref_driver.h"\n\n'
            "static void *hb_alloc(size_t n)\n{\n"
            "    void *p = malloc(n ? n : 1);\n"
            '    if (!p) hb_fail("out of memory", "");\n'
            "    return p;\n}\n\n"
            "static void hb_save_bytes(const char *path, const void *data, size_t n)\n{\n"
            '    FILE *f = fopen(path, "wb");\n'
            '    if (!f) hb_fail("cannot create", path);\n'
            '    if (fwrite(data, 1, n, f) != n) hb_fail("short write", path);\n'
            "    fclose(f);\n}\n\n"
            + "\n".join(self.funcs)
            + "\nint main(void)\n{\n"
            + "    (void)hb_out;   /* ref_driver.h's float helpers are not used here */\n"
            + "    (void)hb_save;\n"
            + "".join(f"    case_{i}();\n" for i in range(len(self.funcs)))
            + "    return 0;\n}\n")
        exe = self.dir / f"drive_{self.kernel}_i8"
        warnings = ["-Wall", "-Wextra", "-Werror", "-Wshadow"]
        if target is None:
            cmd = [HOST_CC, "-std=c99", "-O1", "-g1", *warnings, *sanitizer_flags()]
            run = [str(exe)]
        else:
            from hhbc.emulate import emulator_command
            from hhbc.targets import RISCV_TRIPLE, get_target
            tgt = get_target(target)
            cmd = [sys.executable, "-m", "ziglang", "cc", "-target", RISCV_TRIPLE,
                   f"-mcpu={tgt.zig_mcpu}", "-std=c99", "-O2", "-static", *warnings]
            run = [*emulator_command(tgt, None), str(exe)]
        cmd += ["-I", str(INCLUDE), "-I", str(HERE), str(src), "-o", str(exe), "-lm"]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, f"driver build failed:\n{' '.join(cmd)}\n{res.stderr}"
        res = subprocess.run(run, capture_output=True, text=True, env=RUN_ENV, timeout=600)
        assert res.returncode == 0, f"driver failed (rc={res.returncode}):\n{res.stderr[-6000:]}"

        failures = []
        for label, outs, exp in self.checks:
            for k, path in enumerate(outs):
                got = np.fromfile(path, exp.dtype)
                if got.size != exp.size:
                    failures.append(f"{label}: {got.size} elements written, want {exp.size}")
                    break
                got = got.reshape(exp.shape)
                same = (got.view(np.uint8) == exp.view(np.uint8)).reshape(-1)
                if not same.all():
                    bad = np.flatnonzero(~(got.reshape(-1) == exp.reshape(-1)))
                    show = ", ".join(f"[{i}] got {got.reshape(-1)[i]} want {exp.reshape(-1)[i]}"
                                     for i in bad[:6])
                    failures.append(f"{label} (pass {k}): {bad.size}/{exp.size} differ: {show}")
                    break
        if failures:
            pytest.fail(f"[{self.kernel}_i8] {len(failures)}/{len(self.checks)} cases differ "
                        f"from {self.reference}:\n" + "\n".join(failures))
        return len(self.checks)


def run_cases(tmp_path: Path, kernel: str, cases: list[Case], min_cases: int = 1,
              target: str | None = None, reference: str = "the TFLite reference") -> int:
    assert len(cases) >= min_cases, f"{kernel}: {len(cases)} cases, expected >= {min_cases}"
    drv = I8Driver(tmp_path, kernel, [kernel], reference)
    for c in cases:
        drv.case(c)
    return drv.run(target)


# =====================================================================================
# .tflite models: build, edit, read, run
# =====================================================================================

def schema():
    import ai_edge_litert.schema_py_generated as s
    return s


@functools.lru_cache(maxsize=None)
def op_names() -> dict[int, str]:
    s = schema()
    return {v: k for k, v in vars(s.BuiltinOperator).items() if not k.startswith("_")}


ACT_NAMES = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6"}
NP_TYPE = {9: np.int8, 0: np.float32, 2: np.int32, 4: np.int64, 3: np.uint8, 7: np.int16}


def convert(fn, rep, *, per_channel: bool = True, float_io: bool = False) -> bytes:
    """Full-integer TFLite conversion of a tf.function with an input_signature."""
    import tensorflow as tf
    conv = tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()], fn)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = rep
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if not float_io:
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    if not per_channel:
        conv._experimental_disable_per_channel = True
    return conv.convert()


def pack(model) -> bytes:
    import flatbuffers
    b = flatbuffers.Builder(1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


@dataclass
class Op:
    index: int
    name: str
    options: object
    inputs: list[int]
    outputs: list[int]


@dataclass
class TfliteModel:
    """A .tflite file read with the schema object API, runnable with the REF kernels."""
    content: bytes
    tag: str
    ops: list[Op] = field(default_factory=list)
    _runs: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        s = schema()
        self.m = s.ModelT.InitFromPackedBuf(self.content, 0)
        g = self.m.subgraphs[0]
        self.g = g
        for i, op in enumerate(g.operators):
            oc = self.m.operatorCodes[op.opcodeIndex]
            code = max(oc.builtinCode, oc.deprecatedBuiltinCode)
            self.ops.append(Op(i, op_names()[code], op.builtinOptions,
                               [int(t) for t in op.inputs], [int(t) for t in op.outputs]))

    # -- tensors --
    def shape(self, t: int) -> tuple[int, ...]:
        return tuple(int(d) for d in self.g.tensors[t].shape)

    def qparams(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        q = self.g.tensors[t].quantization
        return (np.asarray(q.scale, dtype=np.float32),
                np.asarray(q.zeroPoint, dtype=np.int64))

    def scale(self, t: int) -> float:
        return float(self.qparams(t)[0][0])

    def zp(self, t: int) -> int:
        return int(self.qparams(t)[1][0])

    def const(self, t: int) -> np.ndarray | None:
        tt = self.g.tensors[t]
        data = self.m.buffers[tt.buffer].data
        if data is None or len(data) == 0:
            return None
        return np.frombuffer(np.asarray(data, np.uint8).tobytes(),
                             dtype=NP_TYPE[tt.type]).reshape(self.shape(t))

    def producer(self, t: int) -> Op | None:
        return next((op for op in self.ops if t in op.outputs), None)

    # -- execution --
    def run(self, seed: int, float_lo: float = -4.0, float_hi: float = 4.0) -> dict[int, np.ndarray]:
        """Every tensor after one REF-kernel inference on seeded random inputs (memoized:
        every kernel test of the module reads the same runs)."""
        key = (seed, float_lo, float_hi)
        if key not in self._runs:
            self._runs[key] = self._run(seed, float_lo, float_hi)
        return self._runs[key]

    def _run(self, seed: int, float_lo: float, float_hi: float) -> dict[int, np.ndarray]:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
        it = Interpreter(model_content=self.content,
                         experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
                         experimental_preserve_all_tensors=True)
        it.allocate_tensors()
        rng = np.random.default_rng(seed)
        for d in it.get_input_details():
            if d["dtype"] == np.int8:
                x = rng.integers(-128, 128, size=d["shape"], dtype=np.int8)
            else:
                x = rng.uniform(float_lo, float_hi, size=d["shape"]).astype(d["dtype"])
            it.set_tensor(d["index"], x)
        it.invoke()
        used = {t for op in self.ops for t in op.inputs + op.outputs if t >= 0}
        return {t: np.array(it.get_tensor(t)) for t in used}


def tflite_padding(padding: int, in_size: int, k: int, stride: int, dil: int,
                   out_size: int) -> int:
    """Leading padding as TFLite computes it (ComputePaddingHeightWidth); 0 = SAME."""
    if padding != 0:
        return 0
    eff = (k - 1) * dil + 1
    return max((out_size - 1) * stride + eff - in_size, 0) // 2


def broadcast_c(a_shape, b_shape, out_shape) -> str:
    """hhbc_broadcast_i8 initializer for numpy broadcasting of a and b to out."""
    nd = len(out_shape)

    def strides(shape):
        shape = (1,) * (nd - len(shape)) + tuple(shape)
        st, s = [0] * nd, 1
        for d in range(nd - 1, -1, -1):
            st[d] = 0 if shape[d] == 1 and out_shape[d] != 1 else s
            s *= shape[d]
        return st
    return (f"{{.ndim = {nd}, .out_dim = {ilist(out_shape)}, .a_stride = {ilist(strides(a_shape))}, "
            f".b_stride = {ilist(strides(b_shape))}}}")


# =====================================================================================
# operator -> C case (the tests' own small lowering of TFLite operators)
# =====================================================================================

def _act(model: TfliteModel, op: Op, out: int) -> tuple[int, int]:
    return fp.activation_range(ACT_NAMES[op.options.fusedActivationFunction],
                               model.scale(out), model.zp(out))


def case_conv(model: TfliteModel, op: Op, env: dict[int, np.ndarray], label: str) -> Case:
    xi, wi, bi = (op.inputs + [-1])[:3]
    out = op.outputs[0]
    x, w = env[xi], model.const(wi)
    depthwise = op.name == "DEPTHWISE_CONV_2D"
    if depthwise:
        _, kh, kw, oc = w.shape
        w = w.reshape(kh, kw, oc)
        groups = 1
    else:
        oc, kh, kw, icg = w.shape
        groups = x.shape[3] // icg
    o = op.options
    exp = env[out]
    pt = tflite_padding(o.padding, x.shape[1], kh, o.strideH, o.dilationHFactor, exp.shape[1])
    pl = tflite_padding(o.padding, x.shape[2], kw, o.strideW, o.dilationWFactor, exp.shape[2])
    mult, shift = fp.conv_multipliers(model.scale(xi), model.qparams(wi)[0], model.scale(out))
    lo, hi = _act(model, op, out)
    arrays = dict(x=x, w=w, m=mult, s=shift)
    if bi >= 0:
        arrays["b"] = model.const(bi)
    fn = "hhbc_depthwise_conv2d_i8" if depthwise else "hhbc_conv2d_i8"
    body = f"""
hhbc_conv2d_i8_params p = {{.weight = w, .bias = {'b' if bi >= 0 else 'NULL'},
    .multiplier = m, .shift = s, .per_channel = {int(mult.size > 1)},
    .kernel_h = {kh}, .kernel_w = {kw}, .stride_h = {o.strideH}, .stride_w = {o.strideW},
    .dilation_h = {o.dilationHFactor}, .dilation_w = {o.dilationWFactor},
    .pad_top = {pt}, .pad_left = {pl}, .groups = {groups},
    .input_zp = {model.zp(xi)}, .output_zp = {model.zp(out)}, .act_min = {lo}, .act_max = {hi}}};
{fn}(&t_x, &t_out, &p);
"""
    label += (f" x{x.shape} w{w.shape} s({o.strideH},{o.strideW}) d({o.dilationHFactor},"
              f"{o.dilationWFactor}) {'SAME' if o.padding == 0 else 'VALID'} g{groups} "
              f"{'per-channel' if mult.size > 1 else 'per-tensor'} act[{lo},{hi}] "
              f"shift[{shift.min()},{shift.max()}]")
    return Case(label, body, exp, arrays, dict(x=x.shape))


def case_dense(model: TfliteModel, op: Op, env, label: str) -> Case:
    """TFLite's reference FULLY_CONNECTED: the double-precision rescale (real_scale)."""
    xi, wi, bi = (op.inputs + [-1])[:3]
    out = op.outputs[0]
    x, w = env[xi], model.const(wi)
    n, k = w.shape
    m = x.size // k
    scales = fp.dense_real_scales(model.scale(xi), model.qparams(wi)[0], model.scale(out))
    lo, hi = _act(model, op, out)
    arrays = dict(x=x, w=w, r=scales)
    if bi >= 0:
        arrays["b"] = model.const(bi)
    body = f"""
hhbc_dense_i8_params p = {{.weight = w, .bias = {'b' if bi >= 0 else 'NULL'}, .multiplier = NULL,
    .shift = NULL, .real_scale = r, .per_channel = {int(scales.size > 1)},
    .m = {m}, .n = {n}, .k = {k}, .input_zp = {model.zp(xi)}, .output_zp = {model.zp(out)},
    .act_min = {lo}, .act_max = {hi}}};
hhbc_dense_i8(&t_x, &t_out, &p);
"""
    label += (f" [{m}x{k}]x[{n}x{k}]^T bias={bi >= 0} "
              f"{'per-channel' if scales.size > 1 else 'per-tensor'} act[{lo},{hi}] real_scale")
    return Case(label, body, env[out], arrays, dict(x=x.shape))


def case_dense_fixed_point(model: TfliteModel, op: Op, env, label: str) -> Case:
    """The dense kernel's fixed-point mode, checked against a 1x1 / stride 1 CONV_2D: the
    same matrix product with TFLite's fixed-point requantization."""
    xi, wi, bi = op.inputs
    out = op.outputs[0]
    x, w = env[xi], model.const(wi)
    n, k = w.shape[0], w.shape[3]
    m = x.size // k
    mult, shift = fp.conv_multipliers(model.scale(xi), model.qparams(wi)[0], model.scale(out))
    lo, hi = _act(model, op, out)
    body = f"""
hhbc_dense_i8_params p = {{.weight = w, .bias = b, .multiplier = mq, .shift = sq,
    .real_scale = NULL, .per_channel = {int(mult.size > 1)}, .m = {m}, .n = {n}, .k = {k},
    .input_zp = {model.zp(xi)}, .output_zp = {model.zp(out)}, .act_min = {lo}, .act_max = {hi}}};
hhbc_dense_i8(&t_x, &t_out, &p);
"""
    label += (f" fixed point (as CONV_2D 1x1) [{m}x{k}]x[{n}x{k}]^T "
              f"{'per-channel' if mult.size > 1 else 'per-tensor'} shift[{shift.min()},{shift.max()}]")
    arrays = dict(x=x, w=w.reshape(n, k), b=model.const(bi), mq=mult, sq=shift)
    return Case(label, body, env[out], arrays, dict(x=x.shape))


def _binary_inputs(model: TfliteModel, op: Op, env):
    ai, bi = op.inputs
    a = env[ai] if ai in env else model.const(ai)
    b = env[bi] if bi in env else model.const(bi)
    return ai, bi, a, b


def case_add(model: TfliteModel, op: Op, env, label: str) -> Case:
    ai, bi, a, b = _binary_inputs(model, op, env)
    out = op.outputs[0]
    exp = env[out]
    p = fp.add_params(model.scale(ai), model.scale(bi), model.scale(out))
    lo, hi = _act(model, op, out)
    body = f"""
hhbc_add_i8_params p = {{.shape = {broadcast_c(a.shape, b.shape, exp.shape)},
    .left_shift = {p.left_shift},
    .a_zp = {model.zp(ai)}, .a_multiplier = {p.a_multiplier}, .a_shift = {p.a_shift},
    .b_zp = {model.zp(bi)}, .b_multiplier = {p.b_multiplier}, .b_shift = {p.b_shift},
    .output_zp = {model.zp(out)}, .output_multiplier = {p.output_multiplier},
    .output_shift = {p.output_shift}, .act_min = {lo}, .act_max = {hi}}};
hhbc_add_i8(&t_a, &t_b, &t_out, &p);
"""
    label += f" {a.shape}+{b.shape} act[{lo},{hi}]"
    return Case(label, body, exp, dict(a=a, b=b), dict(a=a.shape, b=b.shape))


def case_mul(model: TfliteModel, op: Op, env, label: str) -> Case:
    ai, bi, a, b = _binary_inputs(model, op, env)
    out = op.outputs[0]
    exp = env[out]
    m, s = fp.mul_multiplier(model.scale(ai), model.scale(bi), model.scale(out))
    lo, hi = _act(model, op, out)
    body = f"""
hhbc_mul_i8_params p = {{.shape = {broadcast_c(a.shape, b.shape, exp.shape)},
    .a_zp = {model.zp(ai)}, .b_zp = {model.zp(bi)}, .output_zp = {model.zp(out)},
    .output_multiplier = {m}, .output_shift = {s}, .act_min = {lo}, .act_max = {hi}}};
hhbc_mul_i8(&t_a, &t_b, &t_out, &p);
"""
    label += f" {a.shape}*{b.shape} shift {s} act[{lo},{hi}]"
    return Case(label, body, exp, dict(a=a, b=b), dict(a=a.shape, b=b.shape))


def case_pool(model: TfliteModel, op: Op, env, label: str) -> Case:
    xi, out = op.inputs[0], op.outputs[0]
    x, exp, o = env[xi], env[out], op.options
    assert model.scale(xi) == model.scale(out) and model.zp(xi) == model.zp(out)
    pt = tflite_padding(o.padding, x.shape[1], o.filterHeight, o.strideH, 1, exp.shape[1])
    pl = tflite_padding(o.padding, x.shape[2], o.filterWidth, o.strideW, 1, exp.shape[2])
    kind = "MAX" if op.name == "MAX_POOL_2D" else "AVG"
    lo, hi = _act(model, op, out)
    body = f"""
hhbc_pool2d_i8_params p = {{.kind = HHBC_POOL_{kind}, .kernel_h = {o.filterHeight},
    .kernel_w = {o.filterWidth}, .stride_h = {o.strideH}, .stride_w = {o.strideW},
    .pad_top = {pt}, .pad_left = {pl}, .act_min = {lo}, .act_max = {hi}}};
hhbc_pool2d_i8(&t_x, &t_out, &p);
"""
    label += (f" {kind} x{x.shape} k({o.filterHeight},{o.filterWidth}) s({o.strideH},{o.strideW}) "
              f"{'SAME' if o.padding == 0 else 'VALID'} act[{lo},{hi}]")
    return Case(label, body, exp, dict(x=x), dict(x=x.shape))


def case_mean(model: TfliteModel, op: Op, env, label: str) -> Case:
    xi, ai = op.inputs
    out = op.outputs[0]
    x = env[xi]
    axes = sorted({int(a) % x.ndim for a in model.const(ai).reshape(-1)})
    count = math.prod(x.shape[a] for a in axes)
    m, s = fp.mean_multiplier(model.scale(xi), model.scale(out), count)
    reduced = [int(d in axes) for d in range(x.ndim)]
    body = f"""
hhbc_mean_i8_params p = {{.ndim = {x.ndim}, .in_dim = {ilist(x.shape)}, .reduced = {ilist(reduced)},
    .count = {count}, .input_zp = {model.zp(xi)}, .output_zp = {model.zp(out)},
    .multiplier = {m}, .shift = {s}}};
hhbc_mean_i8(&t_x, &t_out, &p);
"""
    label += f" x{x.shape} axes{tuple(axes)} ({m}, {s})"
    return Case(label, body, env[out], dict(x=x), dict(x=x.shape))


def case_softmax(model: TfliteModel, op: Op, env, label: str) -> Case:
    xi, out = op.inputs[0], op.outputs[0]
    x = env[xi]
    p = fp.softmax_params(model.scale(xi), op.options.beta)
    body = f"""
hhbc_softmax_i8_params p = {{.outer = {x.size // x.shape[-1]}, .axis_size = {x.shape[-1]},
    .inner = 1, .input_multiplier = {p.input_multiplier},
    .input_left_shift = {p.input_left_shift}, .diff_min = {p.diff_min}}};
hhbc_softmax_i8(&t_x, &t_out, &p);
"""
    label += f" x{x.shape} scale {model.scale(xi):.4g} beta {op.options.beta:g} {p}"
    return Case(label, body, env[out], dict(x=x), dict(x=x.shape))


def case_lut(model: TfliteModel, op: Op, env, label: str) -> Case:
    xi, out = op.inputs[0], op.outputs[0]
    make = fp.logistic_table if op.name == "LOGISTIC" else fp.tanh_table
    table = make(model.scale(xi), model.zp(xi), model.scale(out), model.zp(out))
    body = """
hhbc_lut_i8_params p = {.table = t};
hhbc_lut_i8(&t_x, &t_out, &p);
"""
    label += f" {op.name} x{env[xi].shape}"
    return Case(label, body, env[out], dict(x=env[xi], t=table), dict(x=env[xi].shape))


def case_hardswish(model: TfliteModel, op: Op, env, label: str) -> Case:
    xi, out = op.inputs[0], op.outputs[0]
    p = fp.hardswish_params(model.scale(xi), model.scale(out))
    body = f"""
hhbc_hardswish_i8_params p = {{.input_zp = {model.zp(xi)}, .output_zp = {model.zp(out)},
    .output_multiplier = {p.output_multiplier}, .output_exponent = {p.output_exponent},
    .reluish_multiplier = {p.reluish_multiplier}, .reluish_exponent = {p.reluish_exponent}}};
hhbc_hardswish_i8(&t_x, &t_out, &p);
"""
    label += f" x{env[xi].shape} {p}"
    return Case(label, body, env[out], dict(x=env[xi]), dict(x=env[xi].shape))


def case_concat(model: TfliteModel, op: Op, env, label: str) -> Case:
    out = op.outputs[0]
    exp = env[out]
    # an input made by an int8 -> int8 QUANTIZE is taken before it: the concat requantizes
    inputs = []
    for t in op.inputs:
        q = model.producer(t)
        if q is not None and q.name == "QUANTIZE" and model.g.tensors[q.inputs[0]].type == 9:
            t = q.inputs[0]
        inputs.append(t)
    op = Op(op.index, op.name, op.options, inputs, op.outputs)
    xs = [env[t] if t in env else model.const(t) for t in op.inputs]
    axis = op.options.axis % exp.ndim
    same = all(model.scale(t) == model.scale(out) and model.zp(t) == model.zp(out)
               for t in op.inputs)
    names = [f"x{j}" for j in range(len(xs))]
    arrays = dict(zip(names, xs))
    rq = "NULL"
    if not same:
        rows = []
        for t in op.inputs:
            m, s = fp.requant_multiplier(model.scale(t), model.scale(out))
            rows.append(f"{{.input_zp = {model.zp(t)}, .output_zp = {model.zp(out)}, "
                        f".multiplier = {m}, .shift = {s}}}")
        rq = "rq"
    body = f"""
const hhbc_tensor *ins[{len(xs)}] = {{{', '.join('&t_' + n for n in names)}}};
const int32_t axis_dim[{len(xs)}] = {ilist(x.shape[axis] for x in xs)};
{'const hhbc_requant_i8 rq[%d] = {%s};' % (len(xs), ', '.join(rows)) if not same else ''}
hhbc_concat_i8_params p = {{.num_inputs = {len(xs)}, .outer = {math.prod(exp.shape[:axis])},
    .inner = {math.prod(exp.shape[axis + 1:])}, .axis_dim = axis_dim, .requant = {rq}}};
hhbc_concat_i8(ins, &t_out, &p);
"""
    label += f" {[x.shape for x in xs]} axis {axis} {'copy' if same else 'requantized'}"
    return Case(label, body, exp, arrays, {n: x.shape for n, x in arrays.items()})


def case_pad(model: TfliteModel, op: Op, env, label: str) -> Case:
    xi, pi = op.inputs[:2]
    out = op.outputs[0]
    x, exp = env[xi], env[out]
    pads = model.const(pi).reshape(-1, 2)
    value = model.zp(out)
    if op.name == "PADV2":
        value = int(model.const(op.inputs[2]).reshape(-1)[0])
    body = f"""
hhbc_pad_i8_params p = {{.value = {value}, .ndim = {x.ndim}, .in_dim = {ilist(x.shape)},
    .out_dim = {ilist(exp.shape)}, .before = {ilist(pads[:, 0])}}};
hhbc_pad_i8(&t_x, &t_out, &p);
"""
    label += f" {op.name} x{x.shape} pads{pads.tolist()} value {value}"
    return Case(label, body, exp, dict(x=x), dict(x=x.shape))


def case_quantize(model: TfliteModel, op: Op, env, label: str) -> Case:
    xi, out = op.inputs[0], op.outputs[0]
    x = env[xi]
    if x.dtype == np.float32:
        body = f"""
hhbc_affine_i8_params p = {{.scale = {float(np.float32(model.scale(out))).hex()}f,
    .zero_point = {model.zp(out)}}};
hhbc_quantize_i8(&t_x, &t_out, &p);
"""
        label += f" float -> int8 x{x.shape} scale {model.scale(out):.4g} zp {model.zp(out)}"
        return Case(label, body, env[out], dict(x=x), dict(x=x.shape))
    return case_requantize(model, op, env, label)


def case_requantize(model: TfliteModel, op: Op, env, label: str) -> Case:
    """int8 -> int8 QUANTIZE, and standalone RELU, RELU6, RELU_N1_TO_1."""
    xi, out = op.inputs[0], op.outputs[0]
    x = env[xi]
    if op.name == "QUANTIZE":
        m, s = fp.requant_multiplier(model.scale(xi), model.scale(out))
        lo, hi = -128, 127
    else:
        m, s = fp.relu_multiplier(model.scale(xi), model.scale(out))
        lo, hi = fp.activation_range(op.name, model.scale(out), model.zp(out))
    body = f"""
hhbc_requantize_i8_params p = {{.rq = {{.input_zp = {model.zp(xi)}, .output_zp = {model.zp(out)},
    .multiplier = {m}, .shift = {s}}}, .act_min = {lo}, .act_max = {hi}}};
hhbc_requantize_i8(&t_x, &t_out, &p);
"""
    label += (f" {op.name} x{x.shape} scale {model.scale(xi):.4g}->{model.scale(out):.4g} "
              f"zp {model.zp(xi)}->{model.zp(out)} ({m}, {s}) act[{lo},{hi}]")
    return Case(label, body, env[out], dict(x=x), dict(x=x.shape))


def case_dequantize(model: TfliteModel, op: Op, env, label: str) -> Case:
    xi, out = op.inputs[0], op.outputs[0]
    body = f"""
hhbc_affine_i8_params p = {{.scale = {float(np.float32(model.scale(xi))).hex()}f,
    .zero_point = {model.zp(xi)}}};
hhbc_dequantize_i8(&t_x, &t_out, &p);
"""
    label += f" x{env[xi].shape} scale {model.scale(xi):.4g} zp {model.zp(xi)}"
    return Case(label, body, env[out], dict(x=env[xi]), dict(x=env[xi].shape))


# TFLite operator -> (hhbc kernel, case builder)
LOWER = {
    "CONV_2D": ("conv2d", case_conv),
    "DEPTHWISE_CONV_2D": ("depthwise_conv2d", case_conv),
    "FULLY_CONNECTED": ("dense", case_dense),
    "ADD": ("add", case_add),
    "MUL": ("mul", case_mul),
    "AVERAGE_POOL_2D": ("pool2d", case_pool),
    "MAX_POOL_2D": ("pool2d", case_pool),
    "MEAN": ("mean", case_mean),
    "SOFTMAX": ("softmax", case_softmax),
    "LOGISTIC": ("lut", case_lut),
    "TANH": ("lut", case_lut),
    "HARD_SWISH": ("hardswish", case_hardswish),
    "CONCATENATION": ("concat", case_concat),
    "PAD": ("pad", case_pad),
    "PADV2": ("pad", case_pad),
    "DEQUANTIZE": ("dequantize", case_dequantize),
    "RELU": ("requantize", case_requantize),
    "RELU6": ("requantize", case_requantize),
    "RELU_N1_TO_1": ("requantize", case_requantize),
}


def kernel_of(op: Op, model: TfliteModel) -> str | None:
    if op.name == "QUANTIZE":
        float_in = model.g.tensors[op.inputs[0]].type == schema().TensorType.FLOAT32
        return "quantize" if float_in else "requantize"
    return LOWER[op.name][0] if op.name in LOWER else None


def is_pointwise_conv(op: Op, model: TfliteModel) -> bool:
    if op.name != "CONV_2D" or len(op.inputs) < 3 or op.inputs[2] < 0:
        return False
    o, w = op.options, model.shape(op.inputs[1])
    return (w[1], w[2], o.strideH, o.strideW, o.dilationHFactor, o.dilationWFactor) == (1,) * 6 \
        and w[3] == model.shape(op.inputs[0])[3]


def build_cases(models: list[TfliteModel], kernel: str, seeds=SEEDS) -> list[Case]:
    cases = []
    for model in models:
        ops = [(op, case_quantize if op.name == "QUANTIZE" else LOWER[op.name][1])
               for op in model.ops if kernel_of(op, model) == kernel]
        if kernel == "dense":
            ops += [(op, case_dense_fixed_point) for op in model.ops if is_pointwise_conv(op, model)]
        if not ops:
            continue
        for seed in seeds:
            env = model.run(seed)
            for op, builder in ops:
                cases.append(builder(model, op, env, f"{model.tag} op{op.index} seed{seed}"))
    return cases


# =====================================================================================
# the models
# =====================================================================================

def _rep(rng, ranges):
    """Representative dataset: uniform draws per input range (asymmetric ranges give
    non-zero zero points)."""
    def gen():
        for _ in range(32):
            yield [rng.uniform(lo, hi, size=shape).astype(np.float32) for shape, lo, hi in ranges]
    return gen


def conv_suite(tf):
    """CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED in parallel branches."""
    rng = np.random.default_rng(7)

    def c(*s, k=0.3):
        return tf.constant((rng.normal(size=s) * k).astype(np.float32))

    x_shape, x2_shape = (1, 9, 9, 4), (2, 7, 6, 3)
    w = dict(a=c(3, 3, 4, 6), b=c(3, 3, 4, 8), c=c(5, 3, 4, 5), d=c(3, 3, 4, 6), e=c(1, 1, 4, 8),
             g=c(3, 3, 2, 6), h=c(2, 2, 4, 4), i=c(3, 3, 3, 4), j=c(3, 1, 3, 6))
    dw = dict(a=c(3, 3, 4, 1), b=c(3, 3, 4, 2), c=c(5, 5, 4, 3), d=c(2, 2, 4, 1), e=c(3, 3, 3, 2))
    fc = dict(a=c(324, 10, k=0.05), b=c(4, 7), c=c(3, 5))
    bias = {n: c(int(v.shape[-1]), k=0.2) for n, v in w.items()}
    dbias = {n: c(int(v.shape[2] * v.shape[3]), k=0.2) for n, v in dw.items()}
    fbias = c(10, k=0.2)

    @tf.function(input_signature=[tf.TensorSpec(x_shape, tf.float32),
                                  tf.TensorSpec(x2_shape, tf.float32)])
    def model(x, x2):
        conv = tf.nn.conv2d
        ys = [
            conv(x, w["a"], 1, "SAME") + bias["a"],
            tf.nn.relu6(conv(x, w["b"], 2, "SAME") + bias["b"]),
            tf.nn.relu(conv(x, w["c"], (2, 1), "VALID") + bias["c"]),
            conv(x, w["d"], 1, "SAME", dilations=2) + bias["d"],
            conv(x, w["e"], 1, "VALID") + bias["e"],
            conv(x, w["g"], 1, "VALID") + bias["g"],                      # 2 groups
            tf.nn.relu(conv(x, w["h"], 1, "SAME") + bias["h"]),           # even kernel, SAME
            conv(x2, w["i"], 2, "SAME") + bias["i"],                      # batch 2
            tf.nn.relu6(conv(x2, w["j"], (1, 2), "SAME") + bias["j"]),
            tf.nn.relu6(tf.nn.depthwise_conv2d(x, dw["a"], [1, 1, 1, 1], "SAME") + dbias["a"]),
            tf.nn.depthwise_conv2d(x, dw["b"], [1, 2, 2, 1], "VALID") + dbias["b"],
            tf.nn.depthwise_conv2d(x, dw["c"], [1, 1, 1, 1], "SAME", dilations=(2, 2))
            + dbias["c"],
            tf.nn.relu(tf.nn.depthwise_conv2d(x, dw["d"], [1, 2, 2, 1], "SAME") + dbias["d"]),
            tf.nn.depthwise_conv2d(x2, dw["e"], [1, 2, 2, 1], "SAME") + dbias["e"],
            tf.nn.relu(tf.matmul(tf.reshape(x, (1, -1)), fc["a"]) + fbias),
            tf.matmul(tf.reshape(x, (-1, 4)), fc["b"]),                   # no bias, M = 81
            tf.nn.relu6(tf.matmul(tf.reshape(x2, (-1, 3)), fc["c"])),
        ]
        return ys

    rep = _rep(rng, [(x_shape, -1.0, 3.0), (x2_shape, -2.5, 1.5)])
    return model, rep


def elementwise_suite(tf):
    """ADD, MUL, pooling, MEAN, PAD, CONCATENATION, SOFTMAX, LOGISTIC, TANH, HARD_SWISH."""
    rng = np.random.default_rng(8)
    s1, s2, s3, s4 = (1, 6, 7, 4), (1, 6, 7, 4), (1, 1, 7, 1), (2, 5, 12)
    k4 = tf.constant(rng.uniform(-2, 2, size=(4,)).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec(s, tf.float32) for s in (s1, s2, s3, s4)])
    def model(x, y, z, v):
        return [
            x + y, tf.nn.relu(x + y), tf.nn.relu6(x * 2.0 + y), x + k4, x + z, z + y,
            x * y, tf.nn.relu(x * y), x * k4, y * z,
            tf.nn.avg_pool2d(x, 3, 2, "SAME"), tf.nn.avg_pool2d(y, 2, 2, "VALID"),
            tf.nn.avg_pool2d(x, (2, 3), 1, "SAME"),
            tf.nn.max_pool2d(x, 3, 2, "SAME"), tf.nn.max_pool2d(y, 2, 1, "VALID"),
            tf.nn.max_pool2d(x, (3, 2), (1, 2), "SAME"),
            tf.reduce_mean(x, axis=[1, 2], keepdims=True), tf.reduce_mean(y, axis=[3]),
            tf.reduce_mean(v, axis=[1]), tf.reduce_mean(v, axis=[0, 2]),
            tf.pad(x, [[0, 0], [1, 2], [0, 1], [0, 0]]),
            tf.pad(v, [[1, 0], [0, 0], [2, 3]], constant_values=0.75),
            tf.concat([x, y], axis=3), tf.concat([x, x * 0.5], axis=1),
            tf.nn.softmax(v), tf.nn.softmax(tf.reshape(x, (-1, 28))),
            tf.nn.softmax(v * 8.0),
            tf.sigmoid(x), tf.sigmoid(v), tf.tanh(y), tf.tanh(v),
            x * tf.nn.relu6(x + 3.0) / 6.0, v * tf.nn.relu6(v + 3.0) / 6.0,
            tf.nn.relu6(v), tf.nn.relu(y), tf.clip_by_value(x, -1.0, 1.0),
        ]

    rep = _rep(rng, [(s1, -1.5, 4.0), (s2, -2.0, 1.0), (s3, -1.0, 1.0), (s4, -6.0, 3.0)])
    return model, rep


def float_io_suite(tf):
    """QUANTIZE (float -> int8) at the input, DEQUANTIZE at the output."""
    rng = np.random.default_rng(9)
    shape = (1, 4, 5, 3)

    @tf.function(input_signature=[tf.TensorSpec(shape, tf.float32)])
    def model(x):
        return [tf.nn.relu(x + 0.5)]

    return model, _rep(rng, [(shape, -3.0, 2.0)])


def make_hot(content: bytes, tag: str) -> TfliteModel:
    """The model with output scales shrunk so that conv/dense/mul/mean multipliers exceed
    one (positive shifts, saturation), softmax beta != 1, and a hard-swish output exponent
    of 0 (its int16 wrap-around path)."""
    s = schema()
    m = s.ModelT.InitFromPackedBuf(content, 0)
    g = m.subgraphs[0]
    tmp = TfliteModel(content, tag)

    def set_scale(t, scale):
        g.tensors[t].quantization.scale = np.array([scale], dtype=np.float32)

    consumed = {t for op in tmp.ops for t in op.inputs}
    for op in tmp.ops:
        out = op.outputs[0]
        if out in consumed:   # its consumers' quantization must stay consistent
            continue
        if op.name in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            wmax = float(tmp.qparams(op.inputs[1])[0].max())
            set_scale(out, tmp.scale(op.inputs[0]) * wmax / 3.0)
        elif op.name == "MUL":
            set_scale(out, tmp.scale(op.inputs[0]) * tmp.scale(op.inputs[1]) / 2.5)
        elif op.name == "MEAN":
            set_scale(out, tmp.scale(op.inputs[0]) / 5.0)
        elif op.name == "HARD_SWISH":
            set_scale(out, tmp.scale(op.inputs[0]) / 100.0)
        elif op.name == "SOFTMAX":
            g.operators[op.index].builtinOptions.beta = 0.35
        elif op.name in ("RELU", "RELU6", "RELU_N1_TO_1"):
            set_scale(out, tmp.scale(op.inputs[0]) * 0.7)
    return TfliteModel(pack(m), tag)


def single_op_model(op_name: str, inputs: list[tuple[tuple, float, int]],
                    output: tuple[tuple, float, int], options=None) -> bytes:
    """A one-operator int8 model written with the schema object API."""
    s = schema()
    m = s.ModelT()
    m.version = 3
    m.buffers = [s.BufferT()]
    code = getattr(s.BuiltinOperator, op_name)
    oc = s.OperatorCodeT()
    oc.builtinCode, oc.deprecatedBuiltinCode, oc.version = code, min(code, 127), 2
    m.operatorCodes = [oc]
    g = s.SubGraphT()
    g.tensors = []
    for i, (shape, scale, zp) in enumerate(inputs + [output]):
        t = s.TensorT()
        t.shape = np.array(shape, dtype=np.int32)
        t.type = s.TensorType.INT8
        t.buffer = 0
        t.name = f"t{i}".encode()
        q = s.QuantizationParametersT()
        q.scale = np.array([scale], dtype=np.float32)
        q.zeroPoint = np.array([zp], dtype=np.int64)
        t.quantization = q
        g.tensors.append(t)
    op = s.OperatorT()
    op.opcodeIndex = 0
    op.inputs = np.arange(len(inputs), dtype=np.int32)
    op.outputs = np.array([len(inputs)], dtype=np.int32)
    if options is not None:
        op.builtinOptionsType, op.builtinOptions = options
    g.operators = [op]
    g.inputs = op.inputs.copy()
    g.outputs = op.outputs.copy()
    m.subgraphs = [g]
    return pack(m)


REQUANT_CASES = [  # (in scale, in zp), (out scale, out zp)
    ((0.05, 3), (0.02, -10)),        # ratio 2.5: positive shift, saturation
    ((0.02, -10), (0.05, 3)),        # ratio 0.4
    ((0.1, 0), (0.1, 5)),            # ratio 1: zero point shift only
    ((0.0123, -128), (0.0456, 127)),
    ((0.5, 17), (0.001, 0)),         # ratio 500
    ((0.001, -7), (0.9, 1)),         # ratio ~1/900
    ((0.07, 100), (0.07 * 3, -100)),  # exact 1/3
]


def requant_models() -> list[TfliteModel]:
    s = schema()
    models = []
    for i, ((si, zi), (so, zo)) in enumerate(REQUANT_CASES):
        content = single_op_model("QUANTIZE", [((2, 3, 43), si, zi)], ((2, 3, 43), so, zo),
                                  (s.BuiltinOptions.QuantizeOptions, s.QuantizeOptionsT()))
        models.append(TfliteModel(content, f"requant{i}"))
    return models


def concat_requant_model() -> TfliteModel:
    """Three inputs with their own scales and zero points, each rescaled by an int8 QUANTIZE
    to the output's parameters and concatenated: what a converter emits for a concat of
    differently quantized tensors, the semantics hhbc_concat_i8's requant path must have."""
    s = schema()
    ins = [((1, 3, 4, 2), 0.05, 3), ((1, 3, 4, 5), 0.013, -20), ((1, 3, 4, 1), 0.2, 60)]
    out_q = (0.04, -5)
    m = s.ModelT()
    m.version = 3
    m.buffers = [s.BufferT()]
    codes = []
    for name in ("QUANTIZE", "CONCATENATION"):
        oc = s.OperatorCodeT()
        code = getattr(s.BuiltinOperator, name)
        oc.builtinCode, oc.deprecatedBuiltinCode, oc.version = code, min(code, 127), 2
        codes.append(oc)
    m.operatorCodes = codes
    g = s.SubGraphT()
    g.tensors, g.operators = [], []

    def tensor(shape, scale, zp):
        t = s.TensorT()
        t.shape = np.array(shape, dtype=np.int32)
        t.type, t.buffer, t.name = s.TensorType.INT8, 0, f"t{len(g.tensors)}".encode()
        q = s.QuantizationParametersT()
        q.scale, q.zeroPoint = np.array([scale], np.float32), np.array([zp], np.int64)
        t.quantization = q
        g.tensors.append(t)
        return len(g.tensors) - 1

    def operator(code, inputs, outputs, opts_type, opts):
        op = s.OperatorT()
        op.opcodeIndex = code
        op.inputs, op.outputs = np.array(inputs, np.int32), np.array(outputs, np.int32)
        op.builtinOptionsType, op.builtinOptions = opts_type, opts
        g.operators.append(op)

    xs = [tensor(*q) for q in ins]
    rs = [tensor(q[0], *out_q) for q in ins]
    for x, r in zip(xs, rs):
        operator(0, [x], [r], s.BuiltinOptions.QuantizeOptions, s.QuantizeOptionsT())
    y = tensor((1, 3, 4, 8), *out_q)
    copts = s.ConcatenationOptionsT()
    copts.axis = 3
    operator(1, rs, [y], s.BuiltinOptions.ConcatenationOptions, copts)
    g.inputs, g.outputs = np.array(xs, np.int32), np.array([y], np.int32)
    m.subgraphs = [g]
    return TfliteModel(pack(m), "concat_requant")


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, list[TfliteModel]]:
    """Every model of this module, converted once and cached as .tflite files."""
    if not HAVE_TFLITE:
        pytest.skip("needs tensorflow and ai-edge-litert")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    cache = tmp_path_factory.mktemp("tflite")

    def get(tag, suite, **kw) -> TfliteModel:
        path = cache / f"{tag}.tflite"
        if not path.exists():
            fn, rep = suite(tf)
            path.write_bytes(convert(fn, rep, **kw))
        return TfliteModel(path.read_bytes(), tag)

    conv_pc = get("conv_per_channel", conv_suite)
    conv_pt = get("conv_per_tensor", conv_suite, per_channel=False)
    elem = get("elementwise", elementwise_suite)
    return {
        "conv": [conv_pc, conv_pt, make_hot(conv_pc.content, "conv_hot"),
                 make_hot(conv_pt.content, "conv_per_tensor_hot")],
        "elementwise": [elem, make_hot(elem.content, "elementwise_hot")],
        "float_io": [get("float_io", float_io_suite, float_io=True)],
        "requant": requant_models(),
        "concat_requant": [concat_requant_model()],
    }


def all_models(models) -> list[TfliteModel]:
    return [m for group in models.values() for m in group]


# =====================================================================================
# kernel tests against the interpreter
# =====================================================================================

def _check(models, tmp_path, kernel, min_cases, want_ops=()):
    cases = build_cases(all_models(models), kernel)
    for name in want_ops:   # the suites really contain what the test claims to cover
        assert any(name in c.label or name in c.body for c in cases), (kernel, name)
    run_cases(tmp_path, kernel, cases, min_cases)


@needs_cc
@needs_tflite
def test_conv2d_i8(models, tmp_path):
    _check(models, tmp_path, "conv2d", 4 * 9 * len(SEEDS),
           ["per-channel", "per-tensor", "SAME", "VALID", " g2 ", "d(2,2)", "act[-128,127]"])


@needs_cc
@needs_tflite
def test_depthwise_conv2d_i8(models, tmp_path):
    _check(models, tmp_path, "depthwise_conv2d", 4 * 5 * len(SEEDS),
           ["per-channel", "per-tensor", "w(3, 3, 8)", "w(5, 5, 12)", "d(2,2)"])


@needs_cc
@needs_tflite
def test_dense_i8(models, tmp_path):
    _check(models, tmp_path, "dense", 4 * 4 * len(SEEDS),
           ["per-channel", "per-tensor", "bias=False", "bias=True", "real_scale", "fixed point"])


@needs_cc
@needs_tflite
def test_add_i8(models, tmp_path):
    _check(models, tmp_path, "add", (2 * 5 + 1) * len(SEEDS), ["(4,)", "(1, 1, 7, 1)+"])


@needs_cc
@needs_tflite
def test_mul_i8(models, tmp_path):
    _check(models, tmp_path, "mul", 2 * 6 * len(SEEDS), ["*()", "(1, 1, 7, 1) shift"])


@needs_cc
@needs_tflite
def test_pool2d_i8(models, tmp_path):
    _check(models, tmp_path, "pool2d", 2 * 6 * len(SEEDS), ["MAX", "AVG", "SAME", "VALID"])


@needs_cc
@needs_tflite
def test_mean_i8(models, tmp_path):
    _check(models, tmp_path, "mean", 2 * 4 * len(SEEDS))


@needs_cc
@needs_tflite
def test_softmax_i8(models, tmp_path):
    _check(models, tmp_path, "softmax", 2 * 3 * len(SEEDS), ["beta 1 ", "beta 0.35"])


@needs_cc
@needs_tflite
def test_lut_i8(models, tmp_path):
    _check(models, tmp_path, "lut", 2 * 4 * len(SEEDS), ["LOGISTIC", "TANH"])


@needs_cc
@needs_tflite
def test_hardswish_i8(models, tmp_path):
    _check(models, tmp_path, "hardswish", 2 * 2 * len(SEEDS), ["output_exponent=0"])


@needs_cc
@needs_tflite
def test_concat_i8(models, tmp_path):
    _check(models, tmp_path, "concat", 3 * len(SEEDS), ["copy", "requantized"])


@needs_cc
@needs_tflite
def test_pad_i8(models, tmp_path):
    _check(models, tmp_path, "pad", 2 * 2 * len(SEEDS), ["PAD ", "PADV2"])


@needs_cc
@needs_tflite
def test_requantize_i8(models, tmp_path):
    _check(models, tmp_path, "requantize", (len(REQUANT_CASES) + 3 + 2 * 3) * len(SEEDS),
           ["QUANTIZE", "RELU6", "RELU ", "RELU_N1_TO_1"])


@needs_cc
@needs_tflite
def test_quantize_i8(models, tmp_path):
    cases = build_cases(all_models(models), "quantize")
    # beyond the interpreter's random draws: ties, saturation and signed zero, checked
    # against the float -> int8 QUANTIZE of the same model
    model = models["float_io"][0]
    (qop,) = [op for op in model.ops if op.name == "QUANTIZE"]
    scale = model.scale(qop.outputs[0])
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    it = Interpreter(model_content=model.content,
                     experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
                     experimental_preserve_all_tensors=True)
    it.allocate_tensors()
    (d,) = it.get_input_details()
    k = np.arange(-140, 140, dtype=np.float64)
    special = np.concatenate([(k + 0.5) * scale, (k - 0.5) * scale, k * scale, [0.0, -0.0, 1e6, -1e6]])
    x = np.resize(special.astype(np.float32), d["shape"])
    it.set_tensor(d["index"], x)
    it.invoke()
    env = {qop.inputs[0]: x, qop.outputs[0]: np.array(it.get_tensor(qop.outputs[0]))}
    cases.append(case_quantize(model, qop, env, "ties and saturation"))
    run_cases(tmp_path, "quantize", cases, len(SEEDS) + 1)


@needs_cc
@needs_tflite
def test_dequantize_i8(models, tmp_path):
    _check(models, tmp_path, "dequantize", len(SEEDS))


@pytest.mark.qemu
@pytest.mark.slow
@needs_tflite
@pytest.mark.parametrize("target", ["rv64gc", "c908"])
def test_int8_kernels_riscv64_qemu(models, tmp_path, target):
    """The same interpreter-checked cases (one input draw), cross-compiled with zig cc at
    -O2 for the target's -mcpu (c908: RVV 1.0, the compiler may vectorize) and run under
    QEMU: the arithmetic must not depend on the host."""
    if importlib.util.find_spec("ziglang") is None or importlib.util.find_spec("qemu") is None:
        pytest.skip("needs ziglang and xuantie-qemu")
    drv = I8Driver(tmp_path, f"all_{target}", KERNELS)   # one program: one zig build
    for kernel in KERNELS:
        for c in build_cases(all_models(models), kernel, seeds=SEEDS[:1]):
            drv.case(c)
    drv.run(target)


MLPERF_TINY_INT8 = ["ad01_int8", "kws_ref_model", "pretrainedResnet_quant", "vww_96_int8"]


@pytest.mark.slow
@needs_cc
@needs_tflite
def test_mlperf_tiny_operators(models_dir, tmp_path):
    """Every operator of the MLPerf Tiny int8 reference models (anomaly detection, keyword
    spotting, ResNet-8, visual wake words), on the interpreter's own input tensors, is
    reproduced bit for bit: by induction the whole network is."""
    paths = [models_dir / "tflite" / "mlperf_tiny" / f"{n}.tflite" for n in MLPERF_TINY_INT8]
    missing = [p.name for p in paths if not p.exists()]
    if missing:
        pytest.skip(f"MLPerf Tiny models missing: {missing}")
    tiny = [TfliteModel(p.read_bytes(), p.stem) for p in paths]
    unsupported = {op.name for m in tiny for op in m.ops
                   if kernel_of(op, m) is None and op.name != "RESHAPE"}
    assert not unsupported, f"operators without an int8 kernel: {unsupported}"
    kernels = sorted({kernel_of(op, m) for m in tiny for op in m.ops} - {None})
    failures, total = [], 0
    for kernel in kernels:
        cases = build_cases(tiny, kernel, seeds=(101,))
        try:
            total += run_cases(tmp_path, kernel, cases)
        except pytest.fail.Exception as e:
            failures.append(str(e))
    assert not failures, "\n".join(failures)
    # one case per operator, plus the dense fixed-point cross-check of each 1x1 conv
    assert total == sum((op.name != "RESHAPE") + is_pointwise_conv(op, m)
                        for m in tiny for op in m.ops)


# =====================================================================================
# compile-time arithmetic (hhbc/quantize/fixedpoint.py)
# =====================================================================================

@pytest.mark.parametrize("real, want", [
    (0.0, (0, 0)),
    (0.5, (1 << 30, 0)),
    (1.0, (1 << 30, 1)),
    (0.75, (3 << 29, 0)),
    (2.0, (1 << 30, 2)),
    (-0.5, (-(1 << 30), 0)),
    (1.0 - 2.0**-40, (1 << 30, 1)),          # significand rounds up to 2^31: renormalized
    (0.5 + 2.0**-32, ((1 << 30) + 1, 0)),     # exactly half an LSB: ties away from zero
    (0.5 + 3 * 2.0**-32, ((1 << 30) + 2, 0)),  # 1.5 LSB
    (-0.5 - 2.0**-32, (-(1 << 30) - 1, 0)),   # negative tie, away from zero
    (2.0**-32, (1 << 30, -31)),               # smallest kept
    (2.0**-33, (0, 0)),                       # flushed to zero (shift < -31)
    (0.3, (1288490189, -1)),
    (1e-3, (1099511628, -9)),
    (12345.678, (1618172707, 14)),
])
def test_quantize_multiplier(real, want):
    assert fp.quantize_multiplier(real) == want


def test_quantize_multiplier_reconstructs():
    rng = np.random.default_rng(5)
    for real in np.exp(rng.uniform(-20, 10, size=2000)):
        m, s = fp.quantize_multiplier(real)
        assert (1 << 30) <= m < (1 << 31)
        assert abs(m * 2.0 ** (s - 31) - real) <= 2.0 ** (s - 32) * (1 + 1e-12)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_quantize_multiplier_rejects_non_finite(bad):
    with pytest.raises(ValueError):
        fp.quantize_multiplier(bad)


def test_round_half_away():
    assert [fp.round_half_away(v) for v in (0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999999999999994)] \
        == [1, 2, 3, -1, -2, -3, 0]


def test_float32_sensitive_prepare_steps():
    """Where TFLite prepares in float32 the multiplier differs from the double one in its
    low bits; both must be what TFLite computes (the kernel tests check the outputs)."""
    a, b, o = 0.051670342683792114, 0.09509590268135071, 0.015271801501512527
    assert fp.mul_multiplier(a, b, o) == (1381887616, -1)            # float32 a * b / o
    assert fp.quantize_multiplier(a * b / o) == (1381887657, -1)     # double: not TFLite's
    a, b, o = 0.08294256031513214, 0.04151071608066559, 0.05540977418422699
    (m,), (s,) = fp.dense_multipliers(a, [b], o)                     # per tensor: f32 product
    assert (m, s) == (2135015956, -4)
    mc, sc = fp.conv_multipliers(a, [b, b], o)                       # conv / per channel: double
    assert [(int(x), int(y)) for x, y in zip(mc, sc)] == [(2135015983, -4)] * 2
    mc, sc = fp.dense_multipliers(a, [b, b], o)
    assert [(int(x), int(y)) for x, y in zip(mc, sc)] == [(2135015983, -4)] * 2


def test_activation_range():
    assert fp.activation_range("NONE", 0.05, 3) == (-128, 127)
    assert fp.activation_range("RELU", 0.05, -20) == (-20, 127)
    assert fp.activation_range("RELU6", 6.0 / 255, -128) == (-128, 127)
    assert fp.activation_range("RELU6", 0.05, -128) == (-128, -8)
    assert fp.activation_range("RELU_N1_TO_1", 0.01, 0) == (-100, 100)
    assert fp.activation_range("RELU6", 0.01, 100) == (100, 127)  # clamped to the type
    with pytest.raises(ValueError):
        fp.activation_range("TANH", 0.05, 0)


def test_mean_multiplier_folds_count():
    m, s = fp.requant_multiplier(0.1, 0.05)   # 2.0
    assert (m, s) == (1 << 30, 2)
    assert fp.mean_multiplier(0.1, 0.05, 4) == ((1 << 32) // 4, 0)
    assert fp.mean_multiplier(0.1, 0.05, 9) == ((m << 3) // 9, -1)
    assert fp.mean_multiplier(0.1, 0.05, 2**40) == ((m << 32) // 2**40, 2 - 32)  # cap 32
    m, s = fp.requant_multiplier(0.05, 0.1)   # 0.5: (2^30, 0)
    assert fp.mean_multiplier(0.05, 0.1, 2**40) == ((m << 31) // 2**40, -31)    # cap 31 + s


def test_softmax_params():
    p = fp.softmax_params(0.1)
    assert (p.input_multiplier, p.input_left_shift) == fp.quantize_multiplier(
        float(np.float32(0.1)) * 2.0**26)
    assert p.diff_min == -math.floor(31 * 2.0**26 / 2.0**p.input_left_shift)
    with pytest.raises(ValueError):
        fp.softmax_params(1e-9)


def test_tables_cover_every_byte():
    t = fp.logistic_table(0.1, -3, 1.0 / 256, -128)
    assert t.dtype == np.int8 and t.shape == (256,)
    assert t[np.uint8(np.int8(-3))] == 0    # logistic(0) = 0.5 -> -128 + 128 = 0
    assert t[127] == 127 and t[128] == -128 + round(256 / (1 + math.exp(12.5)))
    tt = fp.tanh_table(0.05, 0, 1.0 / 128, 0)
    assert tt[0] == 0 and tt[127] == 127 and tt[128] == -128


# =====================================================================================
# the C fixed-point primitives against exact integer arithmetic
# =====================================================================================

def py_srdhm(a: int, b: int) -> int:
    if a == b == -2**31:
        return 2**31 - 1
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    return fp._trunc_div(ab + nudge, 1 << 31)


def py_rdbpot(x: int, e: int) -> int:
    mask = (1 << e) - 1
    rem = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> e) + (1 if rem > threshold else 0)


def py_mul_by_qm(x: int, m: int, s: int) -> int:
    left, right = max(s, 0), max(-s, 0)
    shifted = ((x << left) + 2**31) % 2**32 - 2**31   # wraps like TFLite's int32 product
    return py_rdbpot(py_srdhm(shifted, m), right)


@needs_cc
def test_fixedpoint_primitives(tmp_path):
    """hhbc_fp_mul_by_qm / srdhm / rdbpot on edge values (INT32 extremes, exact ties of
    both signs) and random values, against Python's exact integers."""
    rng = np.random.default_rng(3)
    edge = [0, 1, -1, 2, -2, 3, -3, 2**31 - 1, -2**31, -2**31 + 1, 2**30, -2**30,
            12345, -12345, 2**16, -2**16 - 1]
    xs = np.array(edge + list(rng.integers(-2**31, 2**31, size=300)), dtype=np.int64)
    ms = np.array([1 << 30, 2**31 - 1, -2**31, 0, 1, 1518500250]
                  + list(rng.integers(1 << 30, 1 << 31, size=20)), dtype=np.int64)
    shifts = np.array([-31, -20, -8, -1, 0, 1, 3, 12, 31], dtype=np.int64)
    # rdbpot ties: x = (2k + 1) * 2^(e-1) for both signs
    ties = np.array([t for e in (1, 2, 7, 30) for k in range(-4, 4)
                     if -2**31 <= (t := (2 * k + 1) << (e - 1)) < 2**31], np.int64)
    X, M, S = np.meshgrid(xs, ms, shifts, indexing="ij")
    X, M, S = X.reshape(-1), M.reshape(-1), S.reshape(-1)
    want_q = np.array([py_mul_by_qm(int(x), int(m), int(s)) for x, m, s in zip(X, M, S)], np.int64)
    want_t = np.array([py_rdbpot(int(t), e) for e in (1, 2, 7, 30) for t in ties], np.int64)
    want_h = np.array([py_srdhm(int(a), int(b)) for a in xs for b in ms], np.int64)
    src = tmp_path / "fp.c"
    src.write_text(f"""
#include <stdio.h>
#include <stdlib.h>
#include "hhbc_fixedpoint.h"
static const int32_t xs[] = {ilist(xs)};
static const int32_t ms[] = {ilist(ms)};
static const int32_t ss[] = {ilist(shifts)};
static const int32_t ties[] = {ilist(ties)};
static const int32_t es[] = {{1, 2, 7, 30}};
int main(void)
{{
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++)
        for (size_t j = 0; j < sizeof ms / sizeof ms[0]; j++)
            for (size_t k = 0; k < sizeof ss / sizeof ss[0]; k++)
                printf("%d\\n", hhbc_fp_mul_by_qm(xs[i], ms[j], ss[k]));
    for (size_t e = 0; e < 4; e++)
        for (size_t i = 0; i < sizeof ties / sizeof ties[0]; i++)
            printf("%d\\n", hhbc_fp_rdbpot(ties[i], es[e]));
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++)
        for (size_t j = 0; j < sizeof ms / sizeof ms[0]; j++)
            printf("%d\\n", hhbc_fp_srdhm(xs[i], ms[j]));
    return 0;
}}
""".replace("{-2147483648", "{(-2147483647 - 1)").replace(", -2147483648", ", (-2147483647 - 1)"))
    exe = tmp_path / "fp"
    res = subprocess.run([HOST_CC, *STRICT_FLAGS, *sanitizer_flags(), "-I", str(INCLUDE),
                          str(src), "-o", str(exe)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    res = subprocess.run([str(exe)], capture_output=True, text=True, env=RUN_ENV, timeout=120)
    assert res.returncode == 0, res.stderr
    got = np.array(res.stdout.split(), dtype=np.int64)
    n_q, n_t = want_q.size, want_t.size
    np.testing.assert_array_equal(got[:n_q], want_q, err_msg="hhbc_fp_mul_by_qm")
    np.testing.assert_array_equal(got[n_q:n_q + n_t], want_t, err_msg="hhbc_fp_rdbpot ties")
    np.testing.assert_array_equal(got[n_q + n_t:], want_h, err_msg="hhbc_fp_srdhm")


# =====================================================================================
# build hygiene: file set, includes, strict host build, riscv64 cross build
# =====================================================================================

def i8_sources() -> list[Path]:
    return sorted(REF.glob("*_i8.c"))


def test_i8_file_set_and_hygiene():
    names = sorted(p.stem for p in i8_sources())
    assert names == sorted(k + "_i8" for k in KERNELS + END_TO_END)
    # int8 kernels of generic ops (gather, argreduce) are declared beside their float twins
    header = (INCLUDE / "hhbc_kernels_i8.h").read_text() + (INCLUDE / "hhbc_kernels.h").read_text()
    declared = sorted(re.findall(r"^void (hhbc_\w+_i8)\(", header, re.M))
    assert declared == sorted("hhbc_" + n for n in names)
    allowed = {'"hhbc_kernels_i8.h"', '"hhbc_fixedpoint.h"', "<math.h>", "<string.h>", '"hhbc_act.h"'}
    allowed |= {f'"{p.stem[:-3]}_body.h"' for p in i8_sources()}   # int8 instances of float bodies
    for path in i8_sources():
        text = path.read_text()
        assert re.search(rf"^(void hhbc_{path.stem}\(|#define HHBC_KERNEL hhbc_{path.stem}$)", text, re.M), path.name
        includes = re.findall(r'^\s*#\s*include\s*([<"][^>"]+[>"])', text, re.M)
        assert '"hhbc_kernels_i8.h"' in includes, path.name
        assert set(includes) <= allowed, (path.name, includes)
        code = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        for banned in ("malloc", "calloc", "realloc", "free(", "printf", "FILE", "alloca",
                       "double"):
            assert banned not in code, (path.name, banned)
        for m in re.finditer(r"^static\s+(?!inline\b)(?!.*\()", code, re.M):
            pytest.fail(f"{path.name}: file-scope static data: {m.group(0)!r}")
        # requantization arithmetic lives in hhbc_fixedpoint.h only
        assert not re.search(r"1\s*<<\s*30|1LL|int64_t", code), path.name


@needs_cc
def test_i8_kernels_build_strict_host(tmp_path):
    assert build_strict_host(tmp_path, i8_sources()) == sorted([k + "_i8" for k in KERNELS + END_TO_END])


@needs_zig
def test_i8_kernels_build_riscv64_zig(tmp_path):
    assert build_riscv64_zig(tmp_path, i8_sources()) == sorted([k + "_i8" for k in KERNELS + END_TO_END])
