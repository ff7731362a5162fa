"""The float16 reference kernels (hhbc_<op>_f16, kernels/ref/<op>_f16.c) and the casts.

Every f16 kernel is the f32 kernel's type-generic loop nest (<op>_body.h) instantiated for
_Float16: it converts each half input to float32, does the f32 kernel's arithmetic in the
same order and rounds to half once per output. So on half-representable inputs (and
weights) the f16 output must equal the f32 kernel's output rounded to half, bit for bit;
that is what these tests check, one C program per op running both kernels on the same
cases (host gcc, -std=c99 -O2 -Wall -Wextra -Werror, ASan/UBSan when available). The f32
kernels themselves are checked against numpy in test_ref_kernels*.py; a numpy sanity check
(~1e-2 relative) is added here for the arithmetic ops. Casts are checked bit-exactly
against numpy's float16 conversion. Every f16 source also builds warning-free with zig for
riscv64 with -mcpu=baseline_rv64+zfh.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from c_harness import (HERE, HOST_CC, INCLUDE, REF, RUN_ENV, cstr, ilist, needs_cc, needs_zig,
                       sanitizer_flags)

OPS = ["conv2d", "depthwise_conv2d", "dense", "matmul", "binary", "unary", "prelu", "pool2d",
       "reduce", "concat", "transpose", "pad", "softmax", "resize2d", "copy", "deconv2d",
       "strided_slice", "lrn"]
HOST_FLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-Wshadow", "-Wstrict-prototypes"]
ZIG_F16_FLAGS = ["-target", "riscv64-linux-musl", "-mcpu=baseline_rv64+zfh",
                 "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"]

ACTS = ["{.kind = HHBC_ACT_NONE}", "{.kind = HHBC_ACT_RELU}",
        "{.kind = HHBC_ACT_CLIP, .lo = 0.0f, .hi = 6.0f}", "{.kind = HHBC_ACT_CLIP, .lo = -0.5f, .hi = 0.25f}",
        "{.kind = HHBC_ACT_LEAKY_RELU, .alpha = 0.1f}", "{.kind = HHBC_ACT_HARDSWISH}",
        "{.kind = HHBC_ACT_SIGMOID}"]


def fl(x) -> str:
    return float(np.float32(x)).hex() + "f"


def farr(a) -> str:
    a = np.asarray(a, np.float32).ravel()
    return "{" + ", ".join(fl(v) for v in a) + "}" if a.size else "{0}"


def h16(rng, shape, lo=-1.0, hi=1.0) -> np.ndarray:
    """Uniform values rounded to half, held as float32 (so both kernels read the same)."""
    return np.ascontiguousarray(rng.uniform(lo, hi, size=shape).astype(np.float16).astype(np.float32))


def contig_strides(shape):
    strides, s = [], 1
    for d in reversed(shape):
        strides.append(s)
        s *= d
    return strides[::-1]


class F16Driver:
    """One C program per op: every case runs hhbc_<op>_f32 and hhbc_<op>_f16 on the same
    half-representable data; the f16 result must be the f32 result rounded to half."""

    qemu_cpu: str | None = None   # set: build with zig for riscv64+zfh, run under this QEMU cpu

    def __init__(self, tmp_path: Path, op: str):
        self.op = op
        self.dir = tmp_path / op
        self.dir.mkdir(parents=True, exist_ok=True)
        self.funcs: list[str] = []
        self.cases: list[tuple[str, Path, Path, int, object]] = []

    def case(self, label, call, out_shape, inputs, params="", weight=None, numpy_ref=None):
        """call: C call template with {dt} (f32/f16) and {T} (32/16): the tensors are
        t{T}_<input>, t{T}_out, the params p{T} (params: 'type = {initializer}' whose
        .weight, if any, is filled in per dtype from `weight`)."""
        i = len(self.cases)
        n_out = math.prod(out_shape)
        lines = []
        for name, arr in inputs.items():
            arr = np.ascontiguousarray(arr, np.float32)
            assert np.array_equal(arr.astype(np.float16).astype(np.float32), arr), (label, name)
            path = self.dir / f"c{i}_{name}.bin"
            arr.tofile(path)
            shape = arr.shape if arr.ndim else (1,)
            lines += [f"float *{name}32 = (float *)hb_load({cstr(path)}, {arr.nbytes});",
                      f"_Float16 *{name}16 = hb_to16({name}32, {arr.size});",
                      f"hhbc_tensor t32_{name} = {{.data = {name}32, .dim = {ilist(shape)}, .ndim = {len(shape)}}};",
                      f"hhbc_tensor t16_{name} = {{.data = {name}16, .dim = {ilist(shape)}, .ndim = {len(shape)}}};"]
        if weight is not None:
            w = np.ascontiguousarray(weight, np.float32)
            assert np.array_equal(w.astype(np.float16).astype(np.float32), w), label
            path = self.dir / f"c{i}_w.bin"
            w.tofile(path)
            lines += [f"float *w32 = (float *)hb_load({cstr(path)}, {w.nbytes});",
                      f"_Float16 *w16 = hb_to16(w32, {w.size});"]
        shape = tuple(out_shape) or (1,)
        lines += [f"float *out32 = hb_out({n_out});",
                  f"_Float16 *out16 = hb_out16({n_out});",
                  f"hhbc_tensor t32_out = {{.data = out32, .dim = {ilist(shape)}, .ndim = {len(shape)}}};",
                  f"hhbc_tensor t16_out = {{.data = out16, .dim = {ilist(shape)}, .ndim = {len(shape)}}};"]
        if params:
            ptype, pinit = params.split(" = ", 1)
            lines += [f"{ptype} p32 = {pinit};", f"{ptype} p16 = p32;"]
            if weight is not None:
                lines += ["p32.weight = w32;", "p16.weight = w16;"]
        lines += [call.format(dt="f32", T="32"), call.format(dt="f16", T="16")]
        p32, p16 = self.dir / f"c{i}_o32.bin", self.dir / f"c{i}_o16.bin"
        lines += [f"hb_save({cstr(p32)}, out32, {n_out});",
                  f"hb_save16({cstr(p16)}, out16, {n_out});"]
        self.funcs.append(f"/* {label} */\nstatic void case_{i}(void)\n{{\n"
                          + "".join(f"    {ln}\n" for ln in lines) + "}\n")
        self.cases.append((label, p32, p16, n_out, numpy_ref))

    def run(self):
        src = self.dir / f"drive_{self.op}_f16.c"
        src.write_text(
            '#include "hhbc_kernels.h"\n#include "ref_driver.h"\n\n'
            "static _Float16 *hb_to16(const float *x, size_t n)\n{\n"
            "    _Float16 *y = (_Float16 *)malloc(n ? n * sizeof(_Float16) : 1);\n"
            "    if (!y) hb_fail(\"out of memory\", \"\");\n"
            "    for (size_t i = 0; i < n; i++) y[i] = (_Float16)x[i];\n    return y;\n}\n\n"
            "static _Float16 *hb_out16(size_t n)\n{\n"
            "    _Float16 *y = (_Float16 *)malloc(n ? n * sizeof(_Float16) : 1);\n"
            "    if (!y) hb_fail(\"out of memory\", \"\");\n"
            "    for (size_t i = 0; i < n; i++) y[i] = (_Float16)NAN;\n    return y;\n}\n\n"
            "static void hb_save16(const char *path, const _Float16 *data, size_t n)\n{\n"
            "    FILE *f = fopen(path, \"wb\");\n    if (!f) hb_fail(\"cannot create\", path);\n"
            "    if (fwrite(data, sizeof(_Float16), n, f) != n) hb_fail(\"short write\", path);\n"
            "    fclose(f);\n}\n\n"
            + "\n".join(self.funcs)
            + "\nint main(void)\n{\n"
            + "".join(f"    case_{i}();\n" for i in range(len(self.funcs)))
            + "    return 0;\n}\n")
        exe = self.dir / f"drive_{self.op}_f16"
        if self.qemu_cpu is not None:
            self._build_and_run_riscv64(src, exe)
        else:
            self._build_and_run_host(src, exe)
        self._check()

    def _build_and_run_riscv64(self, src: Path, exe: Path):
        from hhbc.emulate import qemu_binary
        zig = [sys.executable, "-m", "ziglang", "cc", *ZIG_F16_FLAGS]
        cmd = [*zig, "-I", str(INCLUDE), "-I", str(HERE), "-Wno-unused-function", str(src),
               str(REF / f"{self.op}.c"), str(REF / f"{self.op}_f16.c"), "-static", "-o", str(exe), "-lm"]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, f"riscv64 driver build failed:\n{res.stderr}"
        res = subprocess.run([str(qemu_binary()), "-cpu", self.qemu_cpu, str(exe)], capture_output=True,
                             text=True, timeout=600)
        assert res.returncode == 0, f"driver failed under QEMU (rc={res.returncode}):\n{res.stderr[-6000:]}"

    def _build_and_run_host(self, src: Path, exe: Path):
        # the kernels with the strict generated-code flags, the driver with the sanitizers
        objs = []
        for s in (REF / f"{self.op}.c", REF / f"{self.op}_f16.c"):
            obj = self.dir / f"{s.stem}.o"
            cmd = [HOST_CC, *HOST_FLAGS, *sanitizer_flags(), "-I", str(INCLUDE), "-c", str(s), "-o", str(obj)]
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            assert res.returncode == 0, f"{s.name}:\n{res.stderr}"
            objs.append(str(obj))
        cmd = [HOST_CC, "-std=c99", "-O1", "-g", "-Wall", "-Wextra", "-Werror", *sanitizer_flags(),
               "-I", str(INCLUDE), "-I", str(HERE), str(src), *objs, "-o", str(exe), "-lm"]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, f"driver build failed:\n{res.stderr}"
        res = subprocess.run([str(exe)], capture_output=True, text=True, env=RUN_ENV, timeout=120)
        assert res.returncode == 0, f"driver failed (rc={res.returncode}):\n{res.stderr[-6000:]}"

    def _check(self):
        failures = []
        for label, p32, p16, n, numpy_ref in self.cases:
            o32 = np.fromfile(p32, np.float32)
            o16 = np.fromfile(p16, np.float16)
            assert o32.size == n and o16.size == n, label
            want = o32.astype(np.float16)
            if np.isnan(o32).any():
                failures.append(f"{label}: f32 kernel left NaN (unwritten?)")
                continue
            bad = want.view(np.uint16) != o16.view(np.uint16)
            if bad.any():
                k = int(np.flatnonzero(bad)[0])
                failures.append(f"{label}: {int(bad.sum())}/{n} f16 outputs differ from half(f32); "
                                f"first at {k}: f16 {o16[k]!r} vs half(f32) {want[k]!r} (f32 {o32[k]!r})")
                continue
            if numpy_ref is not None:
                ref = np.asarray(numpy_ref, np.float64).ravel()
                got = o16.astype(np.float64)
                tol = 1e-2 * np.maximum(np.abs(ref), np.max(np.abs(ref)) * 1e-2 + 1e-3)
                if not np.all(np.abs(got - ref) <= tol):
                    k = int(np.argmax(np.abs(got - ref) - tol))
                    failures.append(f"{label}: vs numpy at {k}: {got[k]} vs {ref[k]}")
        if failures:
            pytest.fail(f"[{self.op}_f16] {len(failures)}/{len(self.cases)} cases failed\n" + "\n".join(failures))


# ----------------------------------------------------------------------------------
# conv-like kernels
# ----------------------------------------------------------------------------------

def conv_params(kh, kw, st, dl, pad, groups, act, bias) -> str:
    b = f"(const float[]){farr(bias)}" if bias is not None else "NULL"
    return (f"hhbc_conv2d_params = {{.weight = NULL, .bias = {b}, .kernel_h = {kh}, .kernel_w = {kw}, "
            f".stride_h = {st[0]}, .stride_w = {st[1]}, .dilation_h = {dl[0]}, .dilation_w = {dl[1]}, "
            f".pad_top = {pad[0]}, .pad_left = {pad[1]}, .groups = {groups}, .act = {act}}}")


def conv_np(x, w, b, st, dl, pad, groups, oh, ow):
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)
    n, h, wd, c = x.shape
    oc, kh_n, kw_n, icg = w.shape
    ocg = oc // groups
    out = np.zeros((n, oh, ow, oc))
    for y in range(oh):
        for xx in range(ow):
            for kh in range(kh_n):
                for kw in range(kw_n):
                    ih, iw = y * st[0] - pad[0] + kh * dl[0], xx * st[1] - pad[1] + kw * dl[1]
                    if 0 <= ih < h and 0 <= iw < wd:
                        for g in range(groups):
                            out[:, y, xx, g * ocg:(g + 1) * ocg] += x[:, ih, iw, g * icg:(g + 1) * icg] @ \
                                w[g * ocg:(g + 1) * ocg, kh, kw, :].T
    if b is not None:
        out += np.asarray(b, np.float64)
    return out


CONV_CASES = [
    # N, H, W, C, OC, K, stride, dilation, pad, groups, bias, act
    (1, 5, 6, 3, 4, (3, 3), (1, 1), (1, 1), (1, 1), 1, True, 0),
    (2, 7, 5, 4, 6, (3, 2), (2, 1), (1, 2), (1, 0), 2, False, 1),
    (1, 49, 10, 1, 8, (10, 4), (2, 2), (1, 1), (4, 1), 1, True, 2),   # KWS-like first layer
    (1, 6, 6, 6, 6, (3, 3), (2, 2), (2, 2), (2, 2), 3, True, 3),
    (1, 4, 4, 17, 33, (1, 1), (1, 1), (1, 1), (0, 0), 1, True, 4),
    (1, 5, 5, 8, 4, (3, 3), (1, 1), (1, 1), (1, 1), 1, True, 5),
    (1, 5, 5, 8, 4, (3, 3), (1, 1), (1, 1), (1, 1), 1, True, 6),
]


@needs_cc
def test_conv2d_f16(tmp_path):
    rng = np.random.default_rng(1)
    drv = F16Driver(tmp_path, "conv2d")
    for n, h, w, c, oc, k, st, dl, pad, g, has_b, a in CONV_CASES:
        oh = (h + 2 * pad[0] - dl[0] * (k[0] - 1) - 1) // st[0] + 1
        ow = (w + 2 * pad[1] - dl[1] * (k[1] - 1) - 1) // st[1] + 1
        x, wt = h16(rng, (n, h, w, c)), h16(rng, (oc, k[0], k[1], c // g))
        b = rng.uniform(-1, 1, oc).astype(np.float32) if has_b else None
        ref = conv_np(x, wt, b, st, dl, pad, g, oh, ow) if a in (0, 4) else None
        if a == 4:
            ref = np.where(ref >= 0, ref, np.float32(0.1) * ref)
        drv.case(f"conv {n}x{h}x{w}x{c}->{oc} k{k} s{st} d{dl} p{pad} g{g} act{a}",
                 "hhbc_conv2d_{dt}(&t{T}_x, &t{T}_out, &p{T});", (n, oh, ow, oc), dict(x=x),
                 conv_params(k[0], k[1], st, dl, pad, g, ACTS[a], b), wt, ref)
    drv.run()


@needs_cc
def test_deconv2d_f16(tmp_path):
    rng = np.random.default_rng(2)
    drv = F16Driver(tmp_path, "deconv2d")
    for n, h, w, c, oc, k, st, dl, pad, g, a in [
            (1, 3, 4, 2, 3, (3, 3), (2, 2), (1, 1), (1, 1), 1, 0),
            (2, 4, 3, 4, 6, (4, 4), (2, 2), (1, 1), (1, 1), 2, 1),
            (1, 4, 5, 4, 4, (3, 3), (2, 2), (2, 2), (1, 1), 2, 6)]:
        oh = (h - 1) * st[0] - 2 * pad[0] + dl[0] * (k[0] - 1) + 1
        ow = (w - 1) * st[1] - 2 * pad[1] + dl[1] * (k[1] - 1) + 1
        x, wt = h16(rng, (n, h, w, c)), h16(rng, (oc, k[0], k[1], c // g))
        b = rng.uniform(-1, 1, oc).astype(np.float32)
        drv.case(f"deconv {n}x{h}x{w}x{c}->{oc} k{k} s{st} g{g}", "hhbc_deconv2d_{dt}(&t{T}_x, &t{T}_out, &p{T});",
                 (n, oh, ow, oc), dict(x=x), conv_params(k[0], k[1], st, dl, pad, g, ACTS[a], b), wt)
    drv.run()


@needs_cc
def test_depthwise_conv2d_f16(tmp_path):
    rng = np.random.default_rng(3)
    drv = F16Driver(tmp_path, "depthwise_conv2d")
    # channel counts over the f16 kernel's 128-float accumulator chunk, multipliers
    # whose chunk boundaries split an input channel's outputs
    for n, h, w, c, mult, k, st, dl, pad, has_b, a in [
            (1, 5, 5, 3, 1, (3, 3), (1, 1), (1, 1), (1, 1), True, 0),
            (1, 25, 5, 32, 1, (3, 3), (1, 1), (1, 1), (1, 1), True, 1),
            (2, 6, 7, 5, 3, (3, 2), (2, 1), (1, 2), (1, 1), False, 4),
            (1, 4, 4, 300, 1, (3, 3), (2, 2), (1, 1), (1, 1), True, 2),
            (1, 4, 3, 50, 3, (2, 2), (1, 1), (1, 1), (0, 0), True, 5),
            (1, 3, 3, 1, 200, (3, 3), (1, 1), (1, 1), (1, 1), True, 6)]:
        oc = c * mult
        oh = (h + 2 * pad[0] - dl[0] * (k[0] - 1) - 1) // st[0] + 1
        ow = (w + 2 * pad[1] - dl[1] * (k[1] - 1) - 1) // st[1] + 1
        x, wt = h16(rng, (n, h, w, c)), h16(rng, (k[0], k[1], oc))
        b = rng.uniform(-1, 1, oc).astype(np.float32) if has_b else None
        ref = None
        if a == 0:   # as a grouped conv: w [OC][KH][KW][1]
            ref = conv_np(x, np.transpose(wt, (2, 0, 1))[..., None], b, st, dl, pad, c, oh, ow)
        drv.case(f"dw {n}x{h}x{w}x{c} m{mult} k{k} s{st} d{dl} p{pad} act{a}",
                 "hhbc_depthwise_conv2d_{dt}(&t{T}_x, &t{T}_out, &p{T});", (n, oh, ow, oc), dict(x=x),
                 conv_params(k[0], k[1], st, dl, pad, c, ACTS[a], b), wt, ref)
    drv.run()


@needs_cc
def test_dense_f16(tmp_path):
    rng = np.random.default_rng(4)
    drv = F16Driver(tmp_path, "dense")
    for m, n, k, has_b, a in [(1, 12, 32, True, 0), (3, 5, 37, False, 1), (2, 17, 64, True, 6)]:
        x, wt = h16(rng, (m, k)), h16(rng, (n, k))
        b = rng.uniform(-1, 1, n).astype(np.float32) if has_b else None
        ref = x.astype(np.float64) @ wt.astype(np.float64).T + (b if b is not None else 0) if a == 0 else None
        bias = f"(const float[]){farr(b)}" if b is not None else "NULL"
        drv.case(f"dense m{m} n{n} k{k} act{a}", "hhbc_dense_{dt}(&t{T}_x, &t{T}_out, &p{T});", (m, n), dict(x=x),
                 f"hhbc_dense_params = {{.weight = NULL, .bias = {bias}, .m = {m}, .n = {n}, .k = {k}, "
                 f".act = {ACTS[a]}}}", wt, ref)
    drv.run()


@needs_cc
def test_matmul_f16(tmp_path):
    rng = np.random.default_rng(5)
    drv = F16Driver(tmp_path, "matmul")
    for batch, m, n, k, bcast in [(2, 3, 5, 4, False), (1, 2, 300, 7, False), (3, 4, 129, 5, True)]:
        a = h16(rng, (batch, m, k))
        b = h16(rng, (1 if bcast else batch, k, n))
        ref = np.matmul(a.astype(np.float64), b.astype(np.float64))
        drv.case(f"matmul b{batch} m{m} n{n} k{k} bcast{bcast}", "hhbc_matmul_{dt}(&t{T}_a, &t{T}_b, &t{T}_out, &p{T});",
                 (batch, m, n), dict(a=a, b=b),
                 f"hhbc_matmul_params = {{.batch = {batch}, .m = {m}, .n = {n}, .k = {k}, "
                 f".a_batch_stride = {m * k}, .b_batch_stride = {0 if bcast else k * n}}}", None, ref)
    drv.run()


# ----------------------------------------------------------------------------------
# elementwise
# ----------------------------------------------------------------------------------

def bcast_strides(shape, out_shape):
    nd = len(out_shape)
    shape = (1,) * (nd - len(shape)) + tuple(shape)
    cs = contig_strides(shape)
    return [0 if shape[i] == 1 and out_shape[i] != 1 else cs[i] for i in range(nd)]


@needs_cc
def test_binary_f16(tmp_path):
    rng = np.random.default_rng(6)
    drv = F16Driver(tmp_path, "binary")
    fns = dict(ADD=np.add, SUB=np.subtract, MUL=np.multiply, DIV=np.divide, MAX=np.maximum,
               MIN=np.minimum, POW=np.power)
    for i, (op, sa, sb) in enumerate([("ADD", (2, 3, 4), (2, 3, 4)), ("SUB", (2, 3, 4), (3, 1)),
                                      ("MUL", (5, 1, 7), (1, 6, 7)), ("DIV", (4, 9), (9,)),
                                      ("MAX", (3, 5), (3, 1)), ("MIN", (1,), (6, 2)), ("POW", (2, 8), (2, 8))]):
        out_shape = tuple(np.broadcast_shapes(sa, sb))
        a = h16(rng, sa, 0.1, 2.0) if op == "POW" else h16(rng, sa)
        b = h16(rng, sb, 0.5, 2.0) * np.where(rng.random(sb) < 0.5, -1, 1).astype(np.float32) if op == "DIV" \
            else h16(rng, sb)
        ref = fns[op](a.astype(np.float64), b.astype(np.float64))
        act = ACTS[i % 2]
        if i % 2:
            ref = np.maximum(ref, 0)
        drv.case(f"binary {op} {sa} {sb}", "hhbc_binary_{dt}(&t{T}_a, &t{T}_b, &t{T}_out, &p{T});", out_shape,
                 dict(a=a, b=b),
                 f"hhbc_binary_params = {{.op = HHBC_BIN_{op}, .ndim = {len(out_shape)}, "
                 f".out_dim = {ilist(out_shape)}, .a_stride = {ilist(bcast_strides(sa, out_shape))}, "
                 f".b_stride = {ilist(bcast_strides(sb, out_shape))}, .act = {act}}}", None, ref)
    drv.run()


@needs_cc
def test_unary_f16(tmp_path):
    rng = np.random.default_rng(7)
    drv = F16Driver(tmp_path, "unary")
    import math as m
    fns = dict(TANH=np.tanh, EXP=np.exp, LOG=np.log, SQRT=np.sqrt, RSQRT=lambda v: 1 / np.sqrt(v),
               ABS=np.abs, NEG=np.negative, ERF=np.vectorize(m.erf), ACT=None)
    for op, fn in fns.items():
        x = h16(rng, (3, 41), 0.05, 4.0) if op in ("LOG", "SQRT", "RSQRT") else h16(rng, (3, 41), -3, 3)
        acts = ACTS if op == "ACT" else [ACTS[0]]
        for a in acts:
            ref = fn(x.astype(np.float64)) if fn is not None else None
            drv.case(f"unary {op} {a}", "hhbc_unary_{dt}(&t{T}_x, &t{T}_out, &p{T});", x.shape, dict(x=x),
                     f"hhbc_unary_params = {{.op = HHBC_UN_{op}, .size = {x.size}, .act = {a}}}", None, ref)
    drv.run()


@needs_cc
def test_prelu_f16(tmp_path):
    rng = np.random.default_rng(8)
    drv = F16Driver(tmp_path, "prelu")
    for outer, ch, inner in [(2, 3, 5), (1, 16, 1), (4, 7, 3)]:
        x = h16(rng, (outer, ch, inner))
        s = rng.uniform(-0.5, 0.5, ch).astype(np.float32)
        ref = np.where(x >= 0, x, s[None, :, None].astype(np.float64) * x)
        drv.case(f"prelu {outer}x{ch}x{inner}", "hhbc_prelu_{dt}(&t{T}_x, &t{T}_out, &p{T});", x.shape, dict(x=x),
                 f"hhbc_prelu_params = {{.slope = (const float[]){farr(s)}, .outer = {outer}, "
                 f".channels = {ch}, .inner = {inner}}}", None, ref)
    drv.run()


# ----------------------------------------------------------------------------------
# pooling / reduction / softmax / lrn
# ----------------------------------------------------------------------------------

@needs_cc
def test_pool2d_f16(tmp_path):
    rng = np.random.default_rng(9)
    drv = F16Driver(tmp_path, "pool2d")
    for kind, n, h, w, c, k, st, dl, pads, cip in [
            ("MAX", 1, 6, 6, 5, (2, 2), (2, 2), (1, 1), (0, 0, 0, 0), 0),
            ("AVG", 1, 25, 5, 32, (24, 5), (1, 1), (1, 1), (0, 0, 0, 0), 0),   # KWS avg pool
            ("AVG", 2, 5, 7, 3, (3, 3), (2, 2), (1, 1), (1, 1, 1, 1), 1),
            ("AVG", 1, 5, 7, 200, (3, 3), (2, 2), (1, 1), (1, 1, 1, 1), 0),
            ("MAX", 1, 7, 7, 300, (3, 3), (2, 2), (2, 1), (1, 1, 1, 1), 0)]:
        oh = (h + pads[0] + pads[2] - dl[0] * (k[0] - 1) - 1) // st[0] + 1
        ow = (w + pads[1] + pads[3] - dl[1] * (k[1] - 1) - 1) // st[1] + 1
        x = h16(rng, (n, h, w, c), -4, 4)
        ref = None
        if pads == (0, 0, 0, 0) and dl == (1, 1):
            win = np.lib.stride_tricks.sliding_window_view(x.astype(np.float64), k, axis=(1, 2))
            win = win[:, ::st[0], ::st[1]][:, :oh, :ow]
            ref = win.max(axis=(-2, -1)) if kind == "MAX" else win.mean(axis=(-2, -1))
        drv.case(f"pool {kind} {n}x{h}x{w}x{c} k{k} s{st} d{dl} p{pads} cip{cip}",
                 "hhbc_pool2d_{dt}(&t{T}_x, &t{T}_out, &p{T});", (n, oh, ow, c), dict(x=x),
                 f"hhbc_pool2d_params = {{.kind = HHBC_POOL_{kind}, .kernel_h = {k[0]}, .kernel_w = {k[1]}, "
                 f".stride_h = {st[0]}, .stride_w = {st[1]}, .dilation_h = {dl[0]}, .dilation_w = {dl[1]}, "
                 f".pad_top = {pads[0]}, .pad_left = {pads[1]}, .pad_bottom = {pads[2]}, "
                 f".pad_right = {pads[3]}, .count_include_pad = {cip}}}", None, ref)
    drv.run()


@needs_cc
def test_reduce_f16(tmp_path):
    rng = np.random.default_rng(10)
    drv = F16Driver(tmp_path, "reduce")
    fns = dict(MEAN=np.mean, SUM=np.sum, MAX=np.max, MIN=np.min)
    for shape, axes in [((4, 5, 6), (1,)), ((4, 5, 6), (0, 2)), ((2, 3, 4, 5), (1, 2)),
                        ((3, 300), (0,)), ((1, 5, 5, 200), (1, 2)), ((7, 9), (0, 1))]:
        out_shape = tuple(1 if i in axes else d for i, d in enumerate(shape))
        ostr = contig_strides(out_shape)
        out_stride = [0 if i in axes else ostr[i] for i in range(len(shape))]
        count = math.prod(shape[i] for i in axes)
        for op, fn in fns.items():
            x = h16(rng, shape)
            ref = fn(x.astype(np.float64), axis=axes, keepdims=True)
            drv.case(f"reduce {op} {shape} axes {axes}", "hhbc_reduce_{dt}(&t{T}_x, &t{T}_out, &p{T});", out_shape,
                     dict(x=x),
                     f"hhbc_reduce_params = {{.op = HHBC_RED_{op}, .ndim = {len(shape)}, .in_dim = {ilist(shape)}, "
                     f".out_stride = {ilist(out_stride)}, .out_size = {math.prod(out_shape)}, "
                     f".reduce_count = {count}}}", None, ref)
    drv.run()


@needs_cc
def test_softmax_f16(tmp_path):
    rng = np.random.default_rng(11)
    drv = F16Driver(tmp_path, "softmax")
    for outer, axis, inner, log in [(3, 12, 1, 0), (2, 5, 4, 0), (2, 10, 3, 1), (1, 1000, 1, 0)]:
        x = h16(rng, (outer, axis, inner), -5, 5)
        xd = x.astype(np.float64)
        e = np.exp(xd - xd.max(axis=1, keepdims=True))
        ref = np.log(e / e.sum(axis=1, keepdims=True)) if log else e / e.sum(axis=1, keepdims=True)
        drv.case(f"softmax {outer}x{axis}x{inner} log{log}", "hhbc_softmax_{dt}(&t{T}_x, &t{T}_out, &p{T});",
                 x.shape, dict(x=x),
                 f"hhbc_softmax_params = {{.outer = {outer}, .axis_size = {axis}, .inner = {inner}, "
                 f".log = {log}}}", None, ref)
    drv.run()


@needs_cc
def test_lrn_f16(tmp_path):
    rng = np.random.default_rng(12)
    drv = F16Driver(tmp_path, "lrn")
    for outer, ch, inner, size in [(2, 7, 1, 3), (1, 16, 4, 5)]:
        x = h16(rng, (outer, ch, inner), -2, 2)
        pre, alpha, k, beta = (size - 1) // 2, 1e-2, 1.0, 0.75
        xd = x.astype(np.float64)
        ref = np.empty_like(xd)
        for c in range(ch):
            lo, hi = max(0, c - pre), min(ch, c - pre + size)
            ref[:, c] = xd[:, c] * (k + alpha / size * (xd[:, lo:hi] ** 2).sum(axis=1)) ** -beta
        drv.case(f"lrn {outer}x{ch}x{inner} size{size}", "hhbc_lrn_{dt}(&t{T}_x, &t{T}_out, &p{T});", x.shape,
                 dict(x=x),
                 f"hhbc_lrn_params = {{.outer = {outer}, .channels = {ch}, .inner = {inner}, .size = {size}, "
                 f".pre_pad = {pre}, .alpha_over_size = {fl(alpha / size)}, .k = {fl(k)}, .beta = {fl(beta)}}}",
                 None, ref)
    drv.run()


# ----------------------------------------------------------------------------------
# data movement (bit-exact by construction) and resize
# ----------------------------------------------------------------------------------

@needs_cc
def test_concat_f16(tmp_path):
    rng = np.random.default_rng(13)
    drv = F16Driver(tmp_path, "concat")
    for shapes, axis in [([(2, 3, 4), (2, 5, 4), (2, 1, 4)], 1), ([(3, 2), (3, 7)], 1), ([(1, 4), (2, 4)], 0)]:
        xs = {f"x{i}": h16(rng, s) for i, s in enumerate(shapes)}
        ref = np.concatenate(list(xs.values()), axis=axis)
        outer = math.prod(shapes[0][:axis])
        inner = math.prod(shapes[0][axis + 1:])
        ptrs = ", ".join(f"&t{{T}}_{k}" for k in xs)
        drv.case(f"concat {shapes} axis {axis}",
                 "{{ const hhbc_tensor *ins[] = {{" + ptrs + "}}; hhbc_concat_{dt}(ins, &t{T}_out, &p{T}); }}",
                 ref.shape, xs,
                 f"hhbc_concat_params = {{.num_inputs = {len(shapes)}, .outer = {outer}, .inner = {inner}, "
                 f".axis_dim = (const int32_t[]){ilist([s[axis] for s in shapes])}}}", None, ref)
    drv.run()


@needs_cc
def test_transpose_f16(tmp_path):
    rng = np.random.default_rng(14)
    drv = F16Driver(tmp_path, "transpose")
    for shape, perm in [((2, 3, 4), (2, 0, 1)), ((2, 3, 4, 5), (0, 3, 1, 2)), ((6, 7), (1, 0))]:
        x = h16(rng, shape)
        ref = np.transpose(x, perm)
        st = contig_strides(shape)
        drv.case(f"transpose {shape} {perm}", "hhbc_transpose_{dt}(&t{T}_x, &t{T}_out, &p{T});", ref.shape,
                 dict(x=x),
                 f"hhbc_transpose_params = {{.ndim = {len(shape)}, .out_dim = {ilist(ref.shape)}, "
                 f".in_stride = {ilist([st[p] for p in perm])}}}", None, ref)
    drv.run()


@needs_cc
def test_pad_f16(tmp_path):
    rng = np.random.default_rng(15)
    drv = F16Driver(tmp_path, "pad")
    for mode, shape, before, after, value in [
            ("CONSTANT", (2, 3, 4), (0, 1, 2), (1, 0, 3), 0.3),     # 0.3: rounded to half once
            ("CONSTANT", (1, 4, 4, 3), (0, 1, 1, 0), (0, 1, 1, 0), 0.0),
            ("EDGE", (3, 4), (2, 1), (1, 3), 0.0), ("REFLECT", (3, 5), (2, 4), (2, 4), 0.0)]:
        x = h16(rng, shape)
        npmode = mode.lower()
        kw = dict(constant_values=np.float16(value).astype(np.float64)) if mode == "CONSTANT" else {}
        ref = np.pad(x.astype(np.float64), list(zip(before, after)), mode=npmode, **kw)
        drv.case(f"pad {mode} {shape} {before} {after}", "hhbc_pad_{dt}(&t{T}_x, &t{T}_out, &p{T});", ref.shape,
                 dict(x=x),
                 f"hhbc_pad_params = {{.mode = HHBC_PAD_{mode}, .value = {fl(value)}, .ndim = {len(shape)}, "
                 f".in_dim = {ilist(shape)}, .out_dim = {ilist(ref.shape)}, .before = {ilist(before)}}}",
                 None, ref)
    drv.run()


@needs_cc
def test_strided_slice_f16(tmp_path):
    rng = np.random.default_rng(16)
    drv = F16Driver(tmp_path, "strided_slice")
    for shape, sl in [((4, 6, 5), (slice(1, 4), slice(0, 6, 2), slice(4, 0, -2))), ((8, 3), (slice(7, None, -3), slice(1, 3)))]:
        x = h16(rng, shape)
        ref = x[sl]
        st = contig_strides(shape)
        starts = [s.indices(d)[0] for s, d in zip(sl, shape)]
        steps = [s.indices(d)[2] for s, d in zip(sl, shape)]
        drv.case(f"strided_slice {shape} {sl}", "hhbc_strided_slice_{dt}(&t{T}_x, &t{T}_out, &p{T});", ref.shape,
                 dict(x=x),
                 f"hhbc_strided_slice_params = {{.ndim = {len(shape)}, .out_dim = {ilist(ref.shape)}, "
                 f".in_stride = {ilist([a * b for a, b in zip(st, steps)])}, "
                 f".offset = {sum(a * b for a, b in zip(st, starts))}}}", None, ref)
    drv.run()


@needs_cc
def test_copy_f16(tmp_path):
    rng = np.random.default_rng(17)
    drv = F16Driver(tmp_path, "copy")
    x = h16(rng, (3, 5, 7))
    drv.case("copy", "hhbc_copy_{dt}(&t{T}_x, &t{T}_out);", x.shape, dict(x=x), numpy_ref=x)
    drv.case("copy in place", "hhbc_copy_{dt}(&t{T}_x, &t{T}_x); hhbc_copy_{dt}(&t{T}_x, &t{T}_out);", x.shape,
             dict(x=x), numpy_ref=x)
    drv.run()


@needs_cc
def test_resize2d_f16(tmp_path):
    rng = np.random.default_rng(18)
    drv = F16Driver(tmp_path, "resize2d")
    n, h, w, c, oh, ow = 1, 3, 4, 5, 7, 9
    x = h16(rng, (n, h, w, c))
    ys, xs = (np.arange(oh) + 0.5) * h / oh - 0.5, (np.arange(ow) + 0.5) * w / ow - 0.5
    ys, xs = np.clip(ys, 0, h - 1), np.clip(xs, 0, w - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    wy, wx = (ys - y0).astype(np.float32), (xs - x0).astype(np.float32)
    ny, nx = np.minimum((np.arange(oh) * h) // oh, h - 1), np.minimum((np.arange(ow) * w) // ow, w - 1)
    near = x[:, ny][:, :, nx]
    drv.case("resize nearest", "hhbc_resize2d_{dt}(&t{T}_x, &t{T}_out, &p{T});", (n, oh, ow, c), dict(x=x),
             f"hhbc_resize2d_params = {{.mode = HHBC_RESIZE_NEAREST, .y0 = (const int32_t[]){ilist(ny)}, "
             f".x0 = (const int32_t[]){ilist(nx)}}}", None, near)
    xd = x.astype(np.float64)
    wyd, wxd = wy.astype(np.float64)[None, :, None, None], wx.astype(np.float64)[None, None, :, None]
    bil = ((1 - wyd) * (1 - wxd) * xd[:, y0][:, :, x0] + (1 - wyd) * wxd * xd[:, y0][:, :, x1]
           + wyd * (1 - wxd) * xd[:, y1][:, :, x0] + wyd * wxd * xd[:, y1][:, :, x1])
    drv.case("resize bilinear", "hhbc_resize2d_{dt}(&t{T}_x, &t{T}_out, &p{T});", (n, oh, ow, c), dict(x=x),
             f"hhbc_resize2d_params = {{.mode = HHBC_RESIZE_BILINEAR, .y0 = (const int32_t[]){ilist(y0)}, "
             f".y1 = (const int32_t[]){ilist(y1)}, .x0 = (const int32_t[]){ilist(x0)}, "
             f".x1 = (const int32_t[]){ilist(x1)}, .wy = (const float[]){farr(wy)}, "
             f".wx = (const float[]){farr(wx)}}}", None, bil)
    drv.run()


# ----------------------------------------------------------------------------------
# casts
# ----------------------------------------------------------------------------------

@needs_cc
def test_cast_f32_f16_roundtrip_bit_exact(tmp_path):
    rng = np.random.default_rng(19)
    x = np.concatenate([
        rng.uniform(-10, 10, 500), rng.normal(0, 1e-5, 100),            # normals, subnormals
        np.float32([0.0, -0.0, 65504.0, 65519.0, 65520.0, 1e6, -1e6, np.inf, -np.inf,
                    1.0 + 2.0 ** -11, 1.0 + 3 * 2.0 ** -11, 2.0 ** -25, 2.0 ** -24 * 1.5, 5.96e-8]),
        rng.uniform(-1, 1, 100).astype(np.float16).astype(np.float32),   # exactly representable
    ]).astype(np.float32)
    h = rng.integers(0, 0x7c00, 400, dtype=np.uint16)   # every finite positive half pattern range
    h = np.concatenate([h, h | 0x8000, np.uint16([0x7c00, 0xfc00, 0x0001, 0x03ff, 0x0400])])
    d = tmp_path
    x.tofile(d / "x.bin")
    h.tofile(d / "h.bin")
    src = d / "drive_cast.c"
    src.write_text(f"""#include "hhbc_kernels.h"
#include "ref_driver.h"
int main(void)
{{
    float *x = (float *)hb_load({cstr(d / 'x.bin')}, {x.nbytes});
    _Float16 *h = (_Float16 *)hb_load({cstr(d / 'h.bin')}, {h.nbytes});
    _Float16 y[{x.size}];
    float *z = hb_out({h.size});
    hhbc_tensor tx = {{.data = x, .dim = {{{x.size}}}, .ndim = 1}}, ty = {{.data = y, .dim = {{{x.size}}}, .ndim = 1}};
    hhbc_tensor th = {{.data = h, .dim = {{{h.size}}}, .ndim = 1}}, tz = {{.data = z, .dim = {{{h.size}}}, .ndim = 1}};
    hhbc_cast_params p1 = {{.size = {x.size}}}, p2 = {{.size = {h.size}}};
    hhbc_cast_f32_f16(&tx, &ty, &p1);
    hhbc_cast_f16_f32(&th, &tz, &p2);
    FILE *f = fopen({cstr(d / 'y.bin')}, "wb"); fwrite(y, 2, {x.size}, f); fclose(f);
    hb_save({cstr(d / 'z.bin')}, z, {h.size});
    free(x); free(h); free(z);
    return 0;
}}
""")
    obj = d / "cast.o"
    res = subprocess.run([HOST_CC, *HOST_FLAGS, "-I", str(INCLUDE), "-c", str(REF / "cast.c"), "-o", str(obj)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    res = subprocess.run([HOST_CC, "-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", "-I", str(INCLUDE), "-I",
                          str(HERE), str(src), str(obj), "-o", str(d / "drive"), "-lm"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    res = subprocess.run([str(d / "drive")], capture_output=True, text=True, env=RUN_ENV, timeout=60)
    assert res.returncode == 0, res.stderr
    y = np.fromfile(d / "y.bin", np.uint16)
    z = np.fromfile(d / "z.bin", np.float32)
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(y, x.astype(np.float16).view(np.uint16))
    np.testing.assert_array_equal(z.view(np.uint32), h.view(np.float16).astype(np.float32).view(np.uint32))


# ----------------------------------------------------------------------------------
# build hygiene: file set, strict host build, riscv64 zfh build
# ----------------------------------------------------------------------------------

def f16_sources():
    return [REF / f"{op}_f16.c" for op in OPS] + [REF / "cast.c"]


def test_f16_file_set_and_rows():
    from hhbc.codegen.kernel_table import REF_F16
    # gather/argreduce/where (f16 from their bodies) are checked end to end in tests/ops
    assert set(f"{op}_f16.c" for op in OPS) <= {p.name for p in REF.glob("*_f16.c")}
    rows = {r.function: r for r in REF_F16}
    for op in OPS:
        text = (REF / f"{op}_f16.c").read_text()
        assert f"#define HHBC_KERNEL hhbc_{op}_f16\n" in text and f'#include "{op}_body.h"' in text, op
        row = rows[f"hhbc_{op}_f16"]
        assert row.op == op and row.dtypes == ("float16", "float16") and row.variant == "ref"
        assert row.sources == (f"ref/{op}_f16.c",) and row.headers == (f"ref/{op}_body.h",)
        code = (REF / f"{op}_body.h").read_text()
        for banned in ("malloc", "calloc", "alloca", "printf", "static float", "static int"):
            assert banned not in code, (op, banned)
    assert rows["hhbc_cast_f32_f16"].dtypes == ("float32", "float16")
    assert rows["hhbc_cast_f16_f32"].dtypes == ("float16", "float32")


@needs_cc
def test_f16_kernels_build_strict_host(tmp_path):
    cmd = [HOST_CC, *HOST_FLAGS, "-I", str(INCLUDE), "-c", *map(str, f16_sources())]
    res = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert sorted(p.stem for p in tmp_path.glob("*.o")) == sorted(p.stem for p in f16_sources())


@needs_zig
@pytest.mark.parametrize("src", f16_sources(), ids=lambda p: p.stem)
def test_f16_kernel_builds_riscv64_zfh(tmp_path, src):
    obj = tmp_path / (src.stem + ".o")
    cmd = [sys.executable, "-m", "ziglang", "cc", *ZIG_F16_FLAGS, "-I", str(INCLUDE), "-c", str(src), "-o", str(obj)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0 and not res.stderr.strip(), f"{src.name}:\n{res.stderr}"
    head = obj.read_bytes()[:20]
    assert head[:4] == b"\x7fELF" and head[4] == 2 and int.from_bytes(head[18:20], "little") == 243


# ----------------------------------------------------------------------------------
# the same differential cases on riscv64 (zig, -mcpu=baseline_rv64+zfh, clang's default
# FP contraction) under QEMU c906fdv: f16 must still equal half(f32) bit for bit
# ----------------------------------------------------------------------------------

OP_TESTS = {op: globals()[f"test_{op}_f16"] for op in OPS}


@pytest.mark.qemu
@needs_zig
@pytest.mark.parametrize("op", OPS)
def test_f16_kernels_on_riscv64_qemu(tmp_path, op, monkeypatch):
    try:
        from hhbc.emulate import qemu_binary
        qemu_binary()
    except Exception as e:   # noqa: BLE001 - xuantie-qemu missing
        pytest.skip(str(e))
    monkeypatch.setattr(F16Driver, "qemu_cpu", "c906fdv")
    OP_TESTS[op](tmp_path)
