"""Differential tests of the portable C99 float32 reference kernels (hhbc/kernels/ref).

Every kernel is compiled with the host C compiler into one driver per kernel (one C
function per case, params written as C initialisers, tensors loaded from raw .bin files
into exact-size heap blocks, outputs pre-filled with NaN), run under ASan/UBSan when the
host supports them, and compared with an independent float64 numpy reference.
"""

from __future__ import annotations

import math
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from c_harness import (HERE, HOST_CC, INCLUDE, REF, RUN_ENV, build_riscv64_zig, build_strict_host, cstr,
                       ilist, needs_cc, needs_zig, sanitizer_flags)


OPS = [
    "conv2d", "depthwise_conv2d", "dense", "matmul", "binary", "unary", "prelu", "pool2d",
    "reduce", "concat", "transpose", "pad", "softmax", "resize2d", "copy",
    "deconv2d", "strided_slice", "lrn",   # differential tests in test_ref_kernels_extra.py
    "gather", "argreduce", "where",       # exercised end to end (tests/ops: ONNX and TFLite cases)
]


# ----------------------------------------------------------------------------------
# C emission helpers
# ----------------------------------------------------------------------------------

def fl(x) -> str:
    """Exact C99 float literal (hex) of x rounded to float32."""
    return float(np.float32(x)).hex() + "f"


def tensor_c(data: str, shape) -> str:
    shape = tuple(int(d) for d in shape)
    assert 1 <= len(shape) <= 6
    return f"{{.data = {data}, .dim = {ilist(shape)}, .ndim = {len(shape)}}}"


def contig_strides(shape):
    strides, s = [], 1
    for d in reversed(shape):
        strides.append(s)
        s *= d
    return strides[::-1]


# ----------------------------------------------------------------------------------
# activations
# ----------------------------------------------------------------------------------

ACTS = [
    dict(kind="NONE"),
    dict(kind="RELU"),
    dict(kind="CLIP", lo=0.0, hi=6.0),
    dict(kind="CLIP", lo=-0.5, hi=0.25),
    dict(kind="LEAKY_RELU", alpha=0.1),
    dict(kind="HARDSWISH"),
    dict(kind="SIGMOID"),
]


def act_c(kind="NONE", lo=0.0, hi=0.0, alpha=0.0) -> str:
    return f"{{.kind = HHBC_ACT_{kind}, .lo = {fl(lo)}, .hi = {fl(hi)}, .alpha = {fl(alpha)}}}"


def act_np(x, kind="NONE", lo=0.0, hi=0.0, alpha=0.0):
    x = np.asarray(x, np.float64)
    if kind == "NONE":
        return x
    if kind == "RELU":
        return np.maximum(x, 0.0)
    if kind == "CLIP":
        return np.minimum(np.maximum(x, np.float32(lo)), np.float32(hi))
    if kind == "LEAKY_RELU":
        return np.where(x >= 0, x, np.float64(np.float32(alpha)) * x)
    if kind == "HARDSWISH":
        return x * np.clip(x + 3.0, 0.0, 6.0) / 6.0
    if kind == "SIGMOID":
        return 1.0 / (1.0 + np.exp(-x))
    raise ValueError(kind)


def act_name(a) -> str:
    extra = ",".join(f"{k}={v}" for k, v in a.items() if k != "kind")
    return a["kind"] + (f"({extra})" if extra else "")


# ----------------------------------------------------------------------------------
# driver builder
# ----------------------------------------------------------------------------------


class Driver:
    """Collects the cases of one kernel into one C program, builds, runs and checks it."""

    def __init__(self, tmp_path: Path, op: str):
        self.op = op
        self.dir = tmp_path / op
        self.dir.mkdir(parents=True, exist_ok=True)
        self.funcs: list[str] = []
        self.checks: list[tuple[str, Path, tuple, np.ndarray, float, float]] = []

    def case(self, label, body, out_shape, expected, inputs=None, rtol=1e-5, atol=1e-5):
        """body: C statements using `out`/`t_out` and, per input NAME, `NAME` and (float
        inputs) the tensor `t_NAME` shaped like the numpy array."""
        idx = len(self.checks)
        out_shape = tuple(int(d) for d in out_shape)
        expected = np.asarray(expected, np.float64)
        assert expected.shape == out_shape, (label, expected.shape, out_shape)
        lines, frees = [], []
        for name, arr in (inputs or {}).items():
            arr = np.ascontiguousarray(arr)
            ctype = {np.dtype(np.float32): "float", np.dtype(np.int32): "int32_t"}[arr.dtype]
            path = self.dir / f"c{idx}_{name}.bin"
            arr.tofile(path)
            lines.append(f"{ctype} *{name} = ({ctype} *)hb_load({cstr(path)}, {arr.nbytes});")
            if ctype == "float":
                lines.append(f"hhbc_tensor t_{name} = {tensor_c(name, arr.shape)};")
                lines.append(f"(void)t_{name};")
            frees.append(f"free({name});")
        n_out = math.prod(out_shape)
        out_path = self.dir / f"c{idx}_out.bin"
        lines.append(f"float *out = hb_out({n_out});")
        lines.append(f"hhbc_tensor t_out = {tensor_c('out', out_shape)};")
        lines.append("(void)t_out;")
        lines.append("{")
        lines.extend("    " + ln for ln in body.strip().splitlines())
        lines.append("}")
        lines.append(f"hb_save({cstr(out_path)}, out, {n_out});")
        lines.append("free(out);")
        lines.extend(frees)
        safe_label = label.replace("*/", "* /")
        self.funcs.append(f"/* {safe_label} */\nstatic void case_{idx}(void)\n{{\n"
                          + "".join(f"    {ln}\n" for ln in lines) + "}\n")
        self.checks.append((label, out_path, out_shape, expected, rtol, atol))

    def run(self):
        assert self.checks, "no cases"
        src = self.dir / f"drive_{self.op}.c"
        src.write_text(
            f'#include "hhbc_kernels.h"\n#include {cstr(REF / (self.op + ".c"))}\n'
            '#include "ref_driver.h"\n\n'
            + "\n".join(self.funcs)
            + "\nint main(void)\n{\n"
            + "".join(f"    case_{i}();\n" for i in range(len(self.funcs)))
            + "    return 0;\n}\n")
        exe = self.dir / f"drive_{self.op}"
        cmd = [HOST_CC, "-std=c99", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-Wshadow",
               *sanitizer_flags(), "-I", str(INCLUDE), "-I", str(HERE),
               str(src), "-o", str(exe), "-lm"]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, f"driver build failed:\n{' '.join(cmd)}\n{res.stderr}"
        res = subprocess.run([str(exe)], capture_output=True, text=True, env=RUN_ENV, timeout=120)
        assert res.returncode == 0, f"driver failed (rc={res.returncode}):\n{res.stderr[-6000:]}"

        failures = []
        for label, path, shape, expected, rtol, atol in self.checks:
            got = np.fromfile(path, np.float32)
            try:
                assert got.size == math.prod(shape), f"{got.size} elements written"
                np.testing.assert_allclose(got.reshape(shape), expected, rtol=rtol, atol=atol,
                                           err_msg=label)
            except AssertionError as e:
                failures.append(f"[{self.op}] {label}:\n{e}")
        if failures:
            pytest.fail(f"{len(failures)}/{len(self.checks)} cases failed\n" + "\n".join(failures))
        return len(self.checks)


def f32(a):
    return np.ascontiguousarray(a, dtype=np.float32)


def uniform(rng, shape, lo=-1.0, hi=1.0):
    return f32(rng.uniform(lo, hi, size=shape))


# ----------------------------------------------------------------------------------
# numpy references
# ----------------------------------------------------------------------------------

def conv2d_ref(x, w, b, stride, dil, pads, groups, out_hw):
    """x NHWC, w [OC][KH][KW][C/groups]; pads (top, left, bottom, right)."""
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)
    n, h, wd, c = x.shape
    oc, kh_n, kw_n, icg = w.shape
    pt, pl, pb, pr = pads
    oh, ow = out_hw
    ocg = oc // groups
    # pad generously, the output size decides what is read
    eh = max(h + pt + pb, (oh - 1) * stride[0] + dil[0] * (kh_n - 1) + 1)
    ew = max(wd + pl + pr, (ow - 1) * stride[1] + dil[1] * (kw_n - 1) + 1)
    xp = np.zeros((n, eh, ew, c))
    xp[:, pt:pt + h, pl:pl + wd, :] = x
    out = np.zeros((n, oh, ow, oc))
    for kh in range(kh_n):
        for kw in range(kw_n):
            r0, c0 = kh * dil[0], kw * dil[1]
            patch = xp[:, r0:r0 + (oh - 1) * stride[0] + 1:stride[0],
                       c0:c0 + (ow - 1) * stride[1] + 1:stride[1], :]
            for g in range(groups):
                out[..., g * ocg:(g + 1) * ocg] += np.einsum(
                    "nhwc,oc->nhwo", patch[..., g * icg:(g + 1) * icg],
                    w[g * ocg:(g + 1) * ocg, kh, kw, :])
    if b is not None:
        out += np.asarray(b, np.float64)
    return out


def conv_out(size, k, s, d, p0, p1):
    return (size + p0 + p1 - d * (k - 1) - 1) // s + 1


def pool_out(size, k, s, d, p0, p1, ceil):
    num = size + p0 + p1 - d * (k - 1) - 1
    o = (-(-num // s) if ceil else num // s) + 1
    if ceil and (o - 1) * s >= size + p0:   # last window must start inside input + pad_begin
        o -= 1
    return o


def pool2d_ref(x, kind, k, s, d, pads, out_hw, count_include_pad):
    """Mask-based reference: MAX over real taps; AVG sum over real taps divided by the
    taps inside the real input (cip=0) or inside the padded extent (cip=1)."""
    x = np.asarray(x, np.float64)
    n, h, w, c = x.shape
    pt, pl, pb, pr = pads
    oh, ow = out_hw
    eh = max(h + pt + pb, (oh - 1) * s[0] + d[0] * (k[0] - 1) + 1)
    ew = max(w + pl + pr, (ow - 1) * s[1] + d[1] * (k[1] - 1) + 1)
    real = np.zeros((eh, ew), bool)
    real[pt:pt + h, pl:pl + w] = True
    padded = np.zeros((eh, ew), bool)
    padded[:h + pt + pb, :w + pl + pr] = True
    vals = np.full((n, eh, ew, c), -np.inf if kind == "MAX" else 0.0)
    vals[:, pt:pt + h, pl:pl + w, :] = x
    count_mask = (padded if count_include_pad else real).astype(np.float64)

    def window(a, kh, kw):
        r0, c0 = kh * d[0], kw * d[1]
        return a[..., r0:r0 + (oh - 1) * s[0] + 1:s[0], c0:c0 + (ow - 1) * s[1] + 1:s[1]]

    if kind == "MAX":
        out = np.full((n, oh, ow, c), -np.inf)
        for kh in range(k[0]):
            for kw in range(k[1]):
                out = np.maximum(out, window(vals.transpose(0, 3, 1, 2), kh, kw).transpose(0, 2, 3, 1))
        return out
    total = np.zeros((n, oh, ow, c))
    count = np.zeros((oh, ow))
    for kh in range(k[0]):
        for kw in range(k[1]):
            total += window(vals.transpose(0, 3, 1, 2), kh, kw).transpose(0, 2, 3, 1)
            count += window(count_mask, kh, kw)
    return total / count[None, :, :, None]


# ----------------------------------------------------------------------------------
# tests: one driver per kernel
# ----------------------------------------------------------------------------------

CONV_CASES = [
    # N, H, W, C, OC, KH, KW, stride, dilation, pads(t,l,b,r), groups, bias, act
    (2, 5, 6, 3, 4, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 1, True, ACTS[0]),
    (1, 7, 8, 4, 5, 3, 3, (2, 2), (1, 1), (0, 1, 1, 0), 1, False, ACTS[1]),
    (1, 9, 9, 3, 2, 3, 3, (1, 1), (2, 2), (2, 2, 2, 2), 1, True, ACTS[2]),
    (2, 6, 7, 4, 6, 3, 1, (1, 2), (1, 1), (1, 0, 1, 0), 2, True, ACTS[4]),
    (1, 5, 5, 3, 6, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 3, True, ACTS[5]),
    (1, 4, 4, 8, 5, 1, 1, (1, 1), (1, 1), (0, 0, 0, 0), 1, True, ACTS[6]),
    (1, 11, 10, 2, 3, 5, 4, (3, 2), (2, 1), (3, 1, 0, 2), 1, True, ACTS[3]),
    (3, 6, 5, 8, 4, 2, 2, (2, 2), (1, 1), (1, 1, 0, 0), 4, False, ACTS[0]),
    (1, 3, 3, 16, 8, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 2, True, ACTS[1]),
]


@needs_cc
def test_conv2d(tmp_path):
    rng = np.random.default_rng(101)
    drv = Driver(tmp_path, "conv2d")
    for i, (n, h, w, c, oc, kh, kw, st, dl, pads, groups, has_bias, act) in enumerate(CONV_CASES):
        oh = conv_out(h, kh, st[0], dl[0], pads[0], pads[2])
        ow = conv_out(w, kw, st[1], dl[1], pads[1], pads[3])
        x = uniform(rng, (n, h, w, c))
        wt = uniform(rng, (oc, kh, kw, c // groups))
        b = uniform(rng, (oc,)) if has_bias else None
        exp = act_np(conv2d_ref(x, wt, b, st, dl, pads, groups, (oh, ow)), **act)
        inputs = dict(x=x, w=wt)
        if has_bias:
            inputs["b"] = b
        body = f"""
hhbc_conv2d_params p = {{.weight = w, .bias = {'b' if has_bias else 'NULL'},
    .kernel_h = {kh}, .kernel_w = {kw}, .stride_h = {st[0]}, .stride_w = {st[1]},
    .dilation_h = {dl[0]}, .dilation_w = {dl[1]}, .pad_top = {pads[0]}, .pad_left = {pads[1]},
    .groups = {groups}, .act = {act_c(**act)}}};
hhbc_conv2d_f32(&t_x, &t_out, &p);
"""
        label = (f"case{i} x{(n, h, w, c)} w{wt.shape} s{st} d{dl} pads{pads} g{groups} "
                 f"bias={has_bias} {act_name(act)}")
        drv.case(label, body, (n, oh, ow, oc), exp, inputs)
    drv.run()


DW_CASES = [
    # N, H, W, C, mult, KH, KW, stride, dilation, pads, bias, act, groups field
    (1, 6, 6, 4, 1, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), True, ACTS[2], 4),
    (2, 7, 5, 3, 2, 3, 3, (2, 2), (1, 1), (0, 1, 1, 1), False, ACTS[0], 3),
    (1, 9, 8, 2, 3, 3, 3, (1, 1), (2, 2), (2, 2, 2, 2), True, ACTS[6], 2),
    (2, 8, 8, 5, 1, 5, 5, (2, 1), (1, 1), (2, 2, 2, 2), True, ACTS[4], 1),
    (1, 4, 6, 3, 4, 2, 3, (1, 2), (1, 2), (0, 0, 1, 2), True, ACTS[5], 0),
    (1, 5, 5, 7, 2, 3, 3, (1, 1), (1, 1), (0, 0, 0, 0), True, ACTS[1], 7),
]


@needs_cc
def test_depthwise_conv2d(tmp_path):
    rng = np.random.default_rng(102)
    drv = Driver(tmp_path, "depthwise_conv2d")
    for i, (n, h, w, c, mult, kh, kw, st, dl, pads, has_bias, act, gfield) in enumerate(DW_CASES):
        oc = c * mult
        oh = conv_out(h, kh, st[0], dl[0], pads[0], pads[2])
        ow = conv_out(w, kw, st[1], dl[1], pads[1], pads[3])
        x = uniform(rng, (n, h, w, c))
        wt = uniform(rng, (kh, kw, oc))
        b = uniform(rng, (oc,)) if has_bias else None
        w_conv = wt.transpose(2, 0, 1)[..., None]   # [OC][KH][KW][1], groups = C
        exp = act_np(conv2d_ref(x, w_conv, b, st, dl, pads, c, (oh, ow)), **act)
        inputs = dict(x=x, w=wt)
        if has_bias:
            inputs["b"] = b
        body = f"""
hhbc_conv2d_params p = {{.weight = w, .bias = {'b' if has_bias else 'NULL'},
    .kernel_h = {kh}, .kernel_w = {kw}, .stride_h = {st[0]}, .stride_w = {st[1]},
    .dilation_h = {dl[0]}, .dilation_w = {dl[1]}, .pad_top = {pads[0]}, .pad_left = {pads[1]},
    .groups = {gfield}, .act = {act_c(**act)}}};
hhbc_depthwise_conv2d_f32(&t_x, &t_out, &p);
"""
        label = (f"case{i} x{(n, h, w, c)} mult{mult} k{(kh, kw)} s{st} d{dl} pads{pads} "
                 f"bias={has_bias} {act_name(act)}")
        drv.case(label, body, (n, oh, ow, oc), exp, inputs)
    drv.run()


@needs_cc
def test_dense(tmp_path):
    rng = np.random.default_rng(103)
    drv = Driver(tmp_path, "dense")
    shapes = [(3, 17, 5), (1, 64, 10), (4, 1, 3), (6, 33, 7), (2, 8, 16), (5, 12, 1), (3, 40, 9)]
    for i, act in enumerate(ACTS):
        m, k, nn = shapes[i]
        has_bias = i != 1
        x = uniform(rng, (m, k), -2, 2)
        wt = uniform(rng, (nn, k))
        b = uniform(rng, (nn,)) if has_bias else None
        ref = x.astype(np.float64) @ wt.astype(np.float64).T + (b if has_bias else 0.0)
        inputs = dict(x=x if i != 3 else x.reshape(1, m, k), w=wt)   # leading dims flattened
        if has_bias:
            inputs["b"] = b
        body = f"""
hhbc_dense_params p = {{.weight = w, .bias = {'b' if has_bias else 'NULL'},
    .m = {m}, .n = {nn}, .k = {k}, .act = {act_c(**act)}}};
hhbc_dense_f32(&t_x, &t_out, &p);
"""
        drv.case(f"case{i} M{m} K{k} N{nn} bias={has_bias} {act_name(act)}", body, (m, nn),
                 act_np(ref, **act), inputs)
    drv.run()


@needs_cc
def test_matmul(tmp_path):
    rng = np.random.default_rng(104)
    drv = Driver(tmp_path, "matmul")
    cases = [  # batch, m, k, n, broadcast a, broadcast b
        (3, 4, 5, 6, False, False), (4, 3, 7, 2, True, False), (2, 5, 3, 4, False, True),
        (1, 1, 9, 1, False, False), (2, 6, 1, 5, False, False), (5, 2, 16, 3, True, False),
    ]
    for i, (bt, m, k, n, ba, bb) in enumerate(cases):
        a = uniform(rng, (1 if ba else bt, m, k), -2, 2)
        b = uniform(rng, (1 if bb else bt, k, n), -2, 2)
        exp = np.matmul(a.astype(np.float64), b.astype(np.float64))
        exp = np.broadcast_to(exp, (bt, m, n))
        body = f"""
hhbc_matmul_params p = {{.batch = {bt}, .m = {m}, .n = {n}, .k = {k},
    .a_batch_stride = {0 if ba else m * k}, .b_batch_stride = {0 if bb else k * n}}};
hhbc_matmul_f32(&t_a, &t_b, &t_out, &p);
"""
        drv.case(f"case{i} batch{bt} M{m} K{k} N{n} bcast_a={ba} bcast_b={bb}", body,
                 (bt, m, n), exp, dict(a=a, b=b))
    drv.run()


BIN_OPS = ["ADD", "SUB", "MUL", "DIV", "MAX", "MIN", "POW"]
BIN_NP = {"ADD": np.add, "SUB": np.subtract, "MUL": np.multiply, "DIV": np.divide,
          "MAX": np.maximum, "MIN": np.minimum, "POW": np.power}
BIN_PATTERNS = [
    ((2, 3, 4), (2, 3, 4)),
    ((2, 3, 4), (1,)),
    ((4, 5), (5,)),
    ((3, 1, 5), (1, 4, 1)),
    ((2, 3, 4, 5), (3, 1, 1)),
    ((1, 2, 1, 3, 1, 2), (2, 1, 3, 1, 2, 1)),
    ((7,), (7,)),
    ((1,), (2, 3)),
]


def broadcast_strides(shape, out_shape):
    shape = (1,) * (len(out_shape) - len(shape)) + tuple(shape)
    return [0 if d == 1 else s for d, s in zip(shape, contig_strides(shape))]


def binary_operands(rng, op, sa, sb):
    if op == "POW":
        return uniform(rng, sa, 0.2, 2.0), uniform(rng, sb, -2.0, 2.0)
    b = uniform(rng, sb, -2.0, 2.0)
    if op == "DIV":
        b = f32(np.sign(b + 1e-3) * rng.uniform(0.5, 2.0, size=sb))
    return uniform(rng, sa, -2.0, 2.0), b


def binary_body(op, out_shape, a_str, b_str, act):
    nd = len(out_shape)
    return f"""
hhbc_binary_params p = {{.op = HHBC_BIN_{op}, .ndim = {nd}, .out_dim = {ilist(out_shape)},
    .a_stride = {ilist(a_str)}, .b_stride = {ilist(b_str)}, .act = {act_c(**act)}}};
hhbc_binary_f32(&t_a, &t_b, &t_out, &p);
"""


@needs_cc
def test_binary(tmp_path):
    rng = np.random.default_rng(105)
    drv = Driver(tmp_path, "binary")
    idx = 0
    for op in BIN_OPS:
        for sa, sb in BIN_PATTERNS:
            act = ACTS[idx % len(ACTS)]
            idx += 1
            a, b = binary_operands(rng, op, sa, sb)
            out_shape = np.broadcast_shapes(sa, sb)
            ref = BIN_NP[op](a.astype(np.float64), b.astype(np.float64))
            body = binary_body(op, out_shape, broadcast_strides(sa, out_shape),
                               broadcast_strides(sb, out_shape), act)
            drv.case(f"{op} a{sa} b{sb} {act_name(act)}", body, out_shape,
                     act_np(ref, **act), dict(a=a, b=b))
    # arbitrary (non-broadcast) strides: a read transposed
    a = uniform(rng, (3, 4))
    b = uniform(rng, (4, 3))
    body = binary_body("SUB", (4, 3), [1, 4], [3, 1], ACTS[0])
    drv.case("SUB a transposed via strides", body, (4, 3),
             a.T.astype(np.float64) - b, dict(a=a, b=b))
    drv.run()


UN_OPS = {  # op: (numpy, input range)
    "TANH": (np.tanh, (-3, 3)),
    "EXP": (np.exp, (-5, 5)),
    "LOG": (np.log, (0.01, 10)),
    "SQRT": (np.sqrt, (0, 10)),
    "RSQRT": (lambda v: 1.0 / np.sqrt(v), (0.01, 10)),
    "ABS": (np.abs, (-3, 3)),
    "NEG": (np.negative, (-3, 3)),
    "ERF": (np.vectorize(math.erf), (-3, 3)),
}


def unary_body(op, size, act):
    return f"""
hhbc_unary_params p = {{.op = HHBC_UN_{op}, .size = {size}, .act = {act_c(**act)}}};
hhbc_unary_f32(&t_x, &t_out, &p);
"""


@needs_cc
def test_unary(tmp_path):
    rng = np.random.default_rng(106)
    drv = Driver(tmp_path, "unary")
    for i, (op, (fn, (lo, hi))) in enumerate(UN_OPS.items()):
        for act in (ACTS[0], ACTS[1 + i % (len(ACTS) - 1)]):
            x = uniform(rng, (3, 37), lo, hi)
            exp = act_np(fn(x.astype(np.float64)), **act)
            drv.case(f"{op} then {act_name(act)}", unary_body(op, x.size, act), x.shape, exp,
                     dict(x=x), rtol=2e-5, atol=1e-6)
    for act in ACTS:   # HHBC_UN_ACT: the activation alone, over all its regimes
        x = f32(np.concatenate([np.linspace(-8, 8, 161), [-3.0, 3.0, 0.0, -0.0, 0.25, -0.5]]))
        drv.case(f"ACT {act_name(act)}", unary_body("ACT", x.size, act), x.shape,
                 act_np(x, **act), dict(x=x), rtol=1e-5, atol=1e-6)
    drv.run()


@needs_cc
def test_prelu(tmp_path):
    rng = np.random.default_rng(107)
    drv = Driver(tmp_path, "prelu")
    for i, (outer, ch, inner) in enumerate([(2, 3, 4), (12, 5, 1), (1, 1, 7), (3, 4, 6)]):
        x = uniform(rng, (outer, ch, inner), -2, 2)
        slope = uniform(rng, (ch,), -0.5, 0.5)
        slope[0] = 0.0
        exp = np.where(x >= 0, x, slope[None, :, None].astype(np.float64) * x)
        body = f"""
hhbc_prelu_params p = {{.slope = s, .outer = {outer}, .channels = {ch}, .inner = {inner}}};
hhbc_prelu_f32(&t_x, &t_out, &p);
"""
        drv.case(f"case{i} [{outer}][{ch}][{inner}]", body, x.shape, exp, dict(x=x, s=slope))
    drv.run()


POOL_CASES = [
    # kind, (N, H, W, C), kernel, stride, dilation, pads(t,l,b,r), ceil_mode, count_include_pad
    ("MAX", (1, 6, 6, 3), (2, 2), (2, 2), (1, 1), (0, 0, 0, 0), False, 0),
    ("MAX", (2, 7, 7, 4), (3, 3), (2, 2), (1, 1), (1, 1, 1, 1), False, 0),
    ("MAX", (1, 8, 9, 2), (3, 3), (1, 1), (2, 2), (2, 1, 2, 1), False, 0),
    ("MAX", (1, 6, 6, 2), (3, 3), (2, 2), (1, 1), (0, 0, 0, 0), True, 0),
    ("MAX", (1, 7, 5, 3), (2, 3), (2, 1), (1, 1), (1, 0, 0, 1), True, 0),
    ("AVG", (1, 4, 6, 3), (2, 2), (2, 2), (1, 1), (0, 0, 0, 0), False, 0),
    ("AVG", (2, 5, 5, 3), (3, 3), (1, 1), (1, 1), (1, 1, 1, 1), False, 0),
    ("AVG", (2, 5, 5, 3), (3, 3), (1, 1), (1, 1), (1, 1, 1, 1), False, 1),
    ("AVG", (1, 6, 6, 2), (3, 3), (2, 2), (1, 1), (1, 1, 1, 1), True, 1),
    ("AVG", (1, 6, 6, 2), (3, 3), (2, 2), (1, 1), (1, 1, 1, 1), True, 0),
    ("AVG", (1, 7, 7, 2), (3, 3), (2, 2), (1, 1), (0, 0, 0, 0), True, 1),
    ("AVG", (1, 7, 8, 3), (2, 3), (1, 2), (1, 1), (0, 1, 1, 0), True, 1),
    ("AVG", (1, 7, 8, 3), (2, 3), (1, 2), (1, 1), (0, 1, 1, 0), True, 0),
    ("AVG", (1, 9, 9, 2), (3, 3), (1, 2), (2, 2), (2, 2, 2, 2), False, 1),
    ("AVG", (1, 9, 9, 2), (3, 3), (1, 2), (2, 2), (2, 2, 2, 2), False, 0),
    ("AVG", (2, 5, 4, 6), (5, 4), (1, 1), (1, 1), (0, 0, 0, 0), False, 0),   # global
]


def pool_case_geometry(case):
    kind, (n, h, w, c), k, s, d, pads, ceil, cip = case
    oh = pool_out(h, k[0], s[0], d[0], pads[0], pads[2], ceil)
    ow = pool_out(w, k[1], s[1], d[1], pads[1], pads[3], ceil)
    return oh, ow


@needs_cc
def test_pool2d(tmp_path):
    rng = np.random.default_rng(108)
    drv = Driver(tmp_path, "pool2d")
    for i, case in enumerate(POOL_CASES):
        kind, shape, k, s, d, pads, ceil, cip = case
        oh, ow = pool_case_geometry(case)
        x = uniform(rng, shape, -2, 2)
        exp = pool2d_ref(x, kind, k, s, d, pads, (oh, ow), cip)
        body = f"""
hhbc_pool2d_params p = {{.kind = HHBC_POOL_{kind}, .kernel_h = {k[0]}, .kernel_w = {k[1]},
    .stride_h = {s[0]}, .stride_w = {s[1]}, .dilation_h = {d[0]}, .dilation_w = {d[1]},
    .pad_top = {pads[0]}, .pad_left = {pads[1]}, .pad_bottom = {pads[2]}, .pad_right = {pads[3]},
    .count_include_pad = {cip}}};
hhbc_pool2d_f32(&t_x, &t_out, &p);
"""
        drv.case(f"case{i} {kind} x{shape} k{k} s{s} d{d} pads{pads} ceil={ceil} cip={cip}",
                 body, (shape[0], oh, ow, shape[3]), exp, dict(x=x))
    drv.run()


def test_pool2d_reference_matches_onnxruntime():
    """The numpy pooling reference (and output-size rule) agrees with onnxruntime."""
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime not installed")
    pytest.importorskip("onnx", reason="onnx not installed")
    from onnx import TensorProto, helper

    rng = np.random.default_rng(109)
    for i, case in enumerate(POOL_CASES):
        kind, shape, k, s, d, pads, ceil, cip = case
        oh, ow = pool_case_geometry(case)
        x = uniform(rng, shape, -2, 2)
        attrs = dict(kernel_shape=list(k), strides=list(s), dilations=list(d),
                     pads=[pads[0], pads[1], pads[2], pads[3]], ceil_mode=int(ceil))
        if kind == "AVG":
            attrs["count_include_pad"] = cip
        node = helper.make_node("MaxPool" if kind == "MAX" else "AveragePool", ["x"], ["y"], **attrs)
        graph = helper.make_graph(
            [node], "pool",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [shape[0], shape[3], shape[1], shape[2]])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
        model.ir_version = 9
        sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        (y,) = sess.run(None, {"x": x.transpose(0, 3, 1, 2).copy()})
        y = y.transpose(0, 2, 3, 1)
        assert y.shape == (shape[0], oh, ow, shape[3]), f"case{i}: output size {y.shape}"
        np.testing.assert_allclose(pool2d_ref(x, kind, k, s, d, pads, (oh, ow), cip), y,
                                   rtol=1e-5, atol=1e-6, err_msg=f"case{i} {case}")


REDUCE_CASES = [
    ((2, 3, 4), (1,), "MEAN"),
    ((2, 3, 4), (0, 2), "SUM"),
    ((2, 3, 4), (0, 1, 2), "MAX"),
    ((2, 3, 4), (2,), "MIN"),
    ((2, 5, 6, 3), (1, 2), "MEAN"),
    ((3, 2, 2, 4, 2), (0, 3), "MAX"),
    ((4, 5), (0,), "MIN"),
    ((7,), (0,), "SUM"),
    ((2, 3, 1, 4, 2, 3), (1, 4, 5), "MEAN"),
    ((2, 3, 4, 2), (0, 1, 3), "SUM"),
    ((3, 4), (1,), "MAX"),
    ((2, 3, 4), (0, 1, 2), "MEAN"),
    ((2, 3, 4), (1,), "MIN", (0.5, 3.0)),    # all positive: MIN must not start from 0
    ((2, 3, 4), (0, 2), "MAX", (-3.0, -0.5)),  # all negative: MAX must not start from 0
]
RED_NP = {"MEAN": np.mean, "SUM": np.sum, "MAX": np.max, "MIN": np.min}


@needs_cc
def test_reduce(tmp_path):
    rng = np.random.default_rng(110)
    drv = Driver(tmp_path, "reduce")
    for i, (shape, axes, op, *value_range) in enumerate(REDUCE_CASES):
        x = uniform(rng, shape, *(value_range[0] if value_range else (-3, 3)))
        kept = tuple(1 if a in axes else d for a, d in enumerate(shape))
        out_stride = [0 if a in axes else s for a, s in enumerate(contig_strides(kept))]
        exp = RED_NP[op](x.astype(np.float64), axis=axes, keepdims=True)
        count = math.prod(shape[a] for a in axes)
        body = f"""
hhbc_reduce_params p = {{.op = HHBC_RED_{op}, .ndim = {len(shape)}, .in_dim = {ilist(shape)},
    .out_stride = {ilist(out_stride)}, .out_size = {math.prod(kept)}, .reduce_count = {count}}};
hhbc_reduce_f32(&t_x, &t_out, &p);
"""
        drv.case(f"case{i} {op} x{shape} axes{axes}", body, kept, exp, dict(x=x))
    drv.run()


@needs_cc
def test_concat(tmp_path):
    rng = np.random.default_rng(111)
    drv = Driver(tmp_path, "concat")
    cases = [
        ([(2, 3, 4), (2, 1, 4), (2, 5, 4)], 1),
        ([(1, 4), (3, 4), (2, 4)], 0),
        ([(2, 3, 2), (2, 3, 5), (2, 3, 1)], 2),
        ([(2, 2, 2, 3), (2, 2, 2, 3)], 3),
        ([(5,), (2,), (1,)], 0),
        ([(2, 3, 4, 2, 2), (2, 3, 1, 2, 2), (2, 3, 2, 2, 2)], 2),
    ]
    for i, (shapes, axis) in enumerate(cases):
        xs = [uniform(rng, s) for s in shapes]
        exp = np.concatenate(xs, axis=axis)
        names = [f"x{j}" for j in range(len(xs))]
        body = f"""
const hhbc_tensor *ins[{len(xs)}] = {{{', '.join('&t_' + nm for nm in names)}}};
const int32_t axis_dim[{len(xs)}] = {ilist(s[axis] for s in shapes)};
hhbc_concat_params p = {{.num_inputs = {len(xs)}, .outer = {math.prod(shapes[0][:axis])},
    .inner = {math.prod(shapes[0][axis + 1:])}, .axis_dim = axis_dim}};
hhbc_concat_f32(ins, &t_out, &p);
"""
        drv.case(f"case{i} {shapes} axis{axis}", body, exp.shape, exp, dict(zip(names, xs)))
    drv.run()


@needs_cc
def test_transpose(tmp_path):
    rng = np.random.default_rng(112)
    drv = Driver(tmp_path, "transpose")
    cases = [
        ((3, 4), (1, 0)),
        ((2, 3, 4), (2, 0, 1)),
        ((2, 3, 4, 5), (0, 2, 3, 1)),   # NCHW -> NHWC
        ((2, 3, 4, 5), (0, 3, 1, 2)),   # NHWC -> NCHW
        ((2, 1, 3, 2, 2, 3), (5, 3, 1, 0, 4, 2)),
        ((6,), (0,)),
        ((2, 3, 4), (0, 1, 2)),
        ((1, 5, 1, 3), (3, 2, 1, 0)),
    ]
    for i, (shape, perm) in enumerate(cases):
        x = uniform(rng, shape)
        exp = x.transpose(perm)
        strides = contig_strides(shape)
        body = f"""
hhbc_transpose_params p = {{.ndim = {len(shape)}, .out_dim = {ilist(exp.shape)},
    .in_stride = {ilist(strides[a] for a in perm)}}};
hhbc_transpose_f32(&t_x, &t_out, &p);
"""
        drv.case(f"case{i} x{shape} perm{perm}", body, exp.shape, exp, dict(x=x))
    drv.run()


@needs_cc
def test_pad(tmp_path):
    rng = np.random.default_rng(113)
    drv = Driver(tmp_path, "pad")
    cases = [  # shape, before, after, mode, value
        ((5,), (2,), (3,), "CONSTANT", 1.5),
        ((5,), (4,), (4,), "REFLECT", 0.0),
        ((5,), (3,), (2,), "EDGE", 0.0),
        ((3, 4), (1, 2), (2, 0), "REFLECT", 0.0),
        ((2, 4, 5, 3), (0, 1, 2, 0), (0, 2, 1, 0), "CONSTANT", -2.0),
        ((2, 4, 5, 3), (0, 1, 2, 0), (0, 2, 1, 0), "EDGE", 0.0),
        ((2, 4, 5, 3), (0, 3, 2, 0), (0, 2, 4, 0), "REFLECT", 0.0),
        ((2, 3, 4), (1, 0, 1), (0, 2, 3), "EDGE", 0.0),
        ((1, 3, 1), (0, 2, 3), (0, 1, 2), "EDGE", 0.0),
        ((2, 3, 4), (1, 1, 1), (1, 1, 1), "CONSTANT", 0.0),
        ((2, 3, 4), (1, 2, 0), (2, 0, 3), "REFLECT", 0.0),
        ((3, 4), (5, 7), (6, 9), "REFLECT", 0.0),   # wider than the axis: periodic mirror
        ((1, 4), (2, 1), (1, 0), "REFLECT", 0.0),   # singleton axis
        ((2, 2, 2, 2, 2, 2), (0, 1, 0, 1, 0, 1), (1, 0, 1, 0, 1, 0), "CONSTANT", 3.25),
    ]
    for i, (shape, before, after, mode, value) in enumerate(cases):
        x = uniform(rng, shape)
        width = list(zip(before, after))
        if mode == "CONSTANT":
            exp = np.pad(x, width, mode="constant", constant_values=value)
        else:
            exp = np.pad(x, width, mode=mode.lower())
        body = f"""
hhbc_pad_params p = {{.mode = HHBC_PAD_{mode}, .value = {fl(value)}, .ndim = {len(shape)},
    .in_dim = {ilist(shape)}, .out_dim = {ilist(exp.shape)}, .before = {ilist(before)}}};
hhbc_pad_f32(&t_x, &t_out, &p);
"""
        drv.case(f"case{i} {mode} x{shape} before{before} after{after}", body, exp.shape, exp,
                 dict(x=x), rtol=0, atol=0)
    drv.run()


def softmax_np(x, axis, log):
    x = x.astype(np.float64)
    z = x - x.max(axis=axis, keepdims=True)
    lse = np.log(np.exp(z).sum(axis=axis, keepdims=True))
    return z - lse if log else np.exp(z - lse)


@needs_cc
def test_softmax(tmp_path):
    rng = np.random.default_rng(114)
    drv = Driver(tmp_path, "softmax")
    cases = [  # shape, axis, log, scale, offset
        ((4, 10), 1, 0, 3, 0), ((4, 10), 1, 1, 3, 0),
        ((2, 5, 3), 1, 0, 3, 0), ((2, 5, 3), 1, 1, 3, 0),
        ((6, 4), 0, 0, 3, 0), ((6, 4), 0, 1, 3, 0),
        ((3, 7), 1, 0, 50, 200), ((3, 7), 1, 1, 50, 200),   # would overflow expf unshifted
        ((3, 7), 1, 0, 50, -200),                            # would underflow to 0/0
        ((2, 1), 1, 0, 3, 0), ((2, 1), 1, 1, 3, 0),          # axis of size 1
        ((2, 3, 4, 5), 2, 1, 3, 0), ((2, 3, 4, 5), 3, 0, 3, 0),
    ]
    for i, (shape, axis, log, scale, offset) in enumerate(cases):
        x = f32(rng.uniform(-1, 1, size=shape) * scale + offset)
        exp = softmax_np(x, axis, log)
        body = f"""
hhbc_softmax_params p = {{.outer = {math.prod(shape[:axis])}, .axis_size = {shape[axis]},
    .inner = {math.prod(shape[axis + 1:])}, .log = {log}}};
hhbc_softmax_f32(&t_x, &t_out, &p);
"""
        drv.case(f"case{i} x{shape} axis{axis} log={log} scale{scale} offset{offset}", body,
                 shape, exp, dict(x=x), rtol=1e-5, atol=1e-6 if not log else 1e-5)
    # the maximum dominates by > 88 (expf overflow) at the last, first and a middle position
    x = f32([[0.0, 10.0, 20.0, 200.0], [300.0, 1.0, 2.0, 3.0], [-5.0, 150.0, 40.0, -90.0]])
    for log in (0, 1):
        body = f"""
hhbc_softmax_params p = {{.outer = 3, .axis_size = 4, .inner = 1, .log = {log}}};
hhbc_softmax_f32(&t_x, &t_out, &p);
"""
        drv.case(f"dominant maximum log={log}", body, x.shape, softmax_np(x, 1, log), dict(x=x),
                 rtol=1e-5, atol=1e-6)
        xt = f32(x.T)   # same along a strided axis: [axis 4][inner 3]
        body = f"""
hhbc_softmax_params p = {{.outer = 1, .axis_size = 4, .inner = 3, .log = {log}}};
hhbc_softmax_f32(&t_x, &t_out, &p);
"""
        drv.case(f"dominant maximum, strided axis, log={log}", body, xt.shape,
                 softmax_np(xt, 0, log), dict(x=xt), rtol=1e-5, atol=1e-6)
    drv.run()


def nearest_table(n_in, n_out):
    """asymmetric + floor (ONNX nearest_mode=floor)."""
    return np.minimum(np.floor(np.arange(n_out) * n_in / n_out), n_in - 1).astype(np.int32)


def bilinear_table(n_in, n_out, align_corners):
    o = np.arange(n_out, dtype=np.float64)
    if align_corners:
        src = o * (n_in - 1) / (n_out - 1) if n_out > 1 else np.zeros(n_out)
    else:   # half_pixel
        src = (o + 0.5) * n_in / n_out - 0.5
    src = np.clip(src, 0, n_in - 1)
    i0 = np.floor(src).astype(np.int32)
    i1 = np.minimum(i0 + 1, n_in - 1).astype(np.int32)
    return i0, i1, f32(src - i0)


@needs_cc
def test_resize2d(tmp_path):
    rng = np.random.default_rng(115)
    drv = Driver(tmp_path, "resize2d")
    cases = [  # mode, (N, H, W, C), (OH, OW), align_corners
        ("NEAREST", (2, 3, 4, 3), (7, 5), False),
        ("NEAREST", (1, 8, 6, 2), (3, 4), False),
        ("NEAREST", (1, 2, 2, 5), (4, 4), False),
        ("BILINEAR", (2, 3, 4, 3), (6, 8), False),
        ("BILINEAR", (1, 5, 4, 2), (9, 7), True),
        ("BILINEAR", (1, 8, 8, 4), (3, 5), False),
        ("BILINEAR", (1, 1, 3, 2), (2, 6), False),
    ]
    for i, (mode, shape, (oh, ow), ac) in enumerate(cases):
        n, h, w, c = shape
        x = uniform(rng, shape, -2, 2)
        xd = x.astype(np.float64)
        if mode == "NEAREST":
            y0, x0 = nearest_table(h, oh), nearest_table(w, ow)
            exp = xd[:, y0][:, :, x0]
            inputs = dict(x=x, y0=y0, x0=x0)
            tables = ".y0 = y0, .y1 = NULL, .x0 = x0, .x1 = NULL, .wy = NULL, .wx = NULL"
        else:
            y0, y1, wy = bilinear_table(h, oh, ac)
            x0, x1, wx = bilinear_table(w, ow, ac)
            wyd = wy.astype(np.float64)[None, :, None, None]
            wxd = wx.astype(np.float64)[None, None, :, None]
            exp = ((1 - wyd) * (1 - wxd) * xd[:, y0][:, :, x0] + (1 - wyd) * wxd * xd[:, y0][:, :, x1]
                   + wyd * (1 - wxd) * xd[:, y1][:, :, x0] + wyd * wxd * xd[:, y1][:, :, x1])
            inputs = dict(x=x, y0=y0, y1=y1, x0=x0, x1=x1, wy=wy, wx=wx)
            tables = ".y0 = y0, .y1 = y1, .x0 = x0, .x1 = x1, .wy = wy, .wx = wx"
        body = f"""
hhbc_resize2d_params p = {{.mode = HHBC_RESIZE_{mode}, {tables}}};
hhbc_resize2d_f32(&t_x, &t_out, &p);
"""
        drv.case(f"case{i} {mode} x{shape} -> ({oh}, {ow}) align_corners={ac}", body,
                 (n, oh, ow, c), exp, inputs)
    drv.run()


@needs_cc
def test_copy(tmp_path):
    rng = np.random.default_rng(116)
    drv = Driver(tmp_path, "copy")
    for i, (shape_in, shape_out) in enumerate([((17,), (17,)), ((2, 3, 4), (4, 6)),
                                               ((1,), (1,)), ((2, 2, 2, 2, 2, 3), (96,))]):
        x = uniform(rng, shape_in)
        drv.case(f"case{i} {shape_in} -> {shape_out}", "hhbc_copy_f32(&t_x, &t_out);",
                 shape_out, x.reshape(shape_out), dict(x=x), rtol=0, atol=0)
    x = uniform(rng, (3, 5))
    body = """
for (int32_t i = 0; i < 15; i++) out[i] = x[i];
hhbc_copy_f32(&t_out, &t_out);   /* in place: a no-op */
"""
    drv.case("in place", body, (3, 5), x, dict(x=x), rtol=0, atol=0)
    drv.run()


# ----------------------------------------------------------------------------------
# build hygiene: file set, includes, strict host build, riscv64 cross build
# ----------------------------------------------------------------------------------

def ref_sources():
    """The float32 kernels; the int8 ones (*_i8.c) are tests/kernels/test_int8_kernels.py's,
    the weight-only ones (*_w8.c) tests/kernels/test_w8_kernels.py's, the float16 ones
    (*_f16.c, cast.c) tests/kernels/test_ref_f16_kernels.py's, the float16 ones over int8
    weights (*_f16w8.c) tests/kernels/test_f16w8_kernels.py's."""
    return sorted(p for p in REF.glob("*.c")
                  if not p.stem.endswith(("_i8", "_w8", "_f16", "_f16w8")) and p.stem != "cast")


def test_ref_file_set_and_hygiene():
    names = sorted(p.stem for p in ref_sources())
    assert names == sorted(OPS)
    for path in ref_sources():
        # a float kernel instantiates its type-generic loop nest <op>_body.h for float
        text = path.read_text()
        assert re.search(rf"^#define HHBC_KERNEL hhbc_{path.stem}_f32$", text, re.M), path.name
        includes = re.findall(r'^\s*#\s*include\s*([<"][^>"]+[>"])', text, re.M)
        assert '"hhbc_kernels.h"' in includes, path.name
        body = f'"{path.stem}_body.h"'
        assert body in includes, path.name
        assert set(includes) <= {'"hhbc_kernels.h"', '"hhbc_act.h"', "<math.h>", body}, (path.name, includes)
        text += (REF / f"{path.stem}_body.h").read_text()
        assert re.search(r"^void HHBC_KERNEL\(", text, re.M), path.name
        code = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        for banned in ("malloc", "calloc", "realloc", "free(", "printf", "FILE", "alloca"):
            assert banned not in code, (path.name, banned)
        # no file-scope mutable state: every file-scope 'static' is a function
        for m in re.finditer(r"^static\s+(?!inline\b)(?!.*\()", code, re.M):
            pytest.fail(f"{path.name}: file-scope static data: {m.group(0)!r}")


@needs_cc
def test_ref_kernels_build_strict_host(tmp_path):
    assert build_strict_host(tmp_path, ref_sources()) == sorted(OPS)


@needs_zig
def test_ref_kernels_build_riscv64_zig(tmp_path):
    assert build_riscv64_zig(tmp_path, ref_sources()) == sorted(OPS)
