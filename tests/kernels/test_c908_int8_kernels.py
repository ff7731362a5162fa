"""The c908 int8 kernels (hhbc/kernels/c908/, XTheadVdot th.vmaqa) against the int8
reference kernels, byte for byte, under QEMU `c908v`; the XTheadVdot encodings against
clang's own assembler and against their definition, executed on `c908v`; and the guarantee
that the generic `rvv` target's binary holds no XTheadVdot instruction.

The kernel cases are generated here with numpy: reference-layout weights for ref, and the
same weights packed by the compiler's own packer (hhbc/codegen/table_c908.py) for c908.
They cover tails in the reduction (K = KW * C not a multiple of 4) and in the output
channels (1, 3, 7, 17, 33, 65: strips shorter than one vector), pixel counts not a multiple
of the 3-pixel tile, zero points at -128 and 127, per-channel and per-tensor requantization
with left shifts, zero shifts and right shifts, multipliers of exactly 0.5 and accumulators
that make rounding ties (TFLite double rounding, ONNX half-to-even, TFLite FC's double
scale), outputs that saturate, and fused activation ranges. Each output carries a guard zone
that must stay untouched.
"""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from c_harness import INCLUDE, QEMU, REF, ROOT, VECTOR_KERNEL_MARKS, ilist

from hhbc.codegen.table_c908 import folded_bias, vmaqa_depthwise_weights, vmaqa_weights

C908 = ROOT / "hhbc" / "kernels" / "c908"
ZIG = ["-target", "riscv64-linux-musl", "-mcpu=baseline_rv64+v+zfh+zvfh",
       "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"]
GUARD = 32


pytestmark = VECTOR_KERNEL_MARKS


def zig_cc(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ziglang", "cc", *args], capture_output=True, text=True,
                          timeout=600)


def fl(x: float) -> str:
    return float(np.float32(x)).hex() + "f"


def arr(name: str, ctype: str, values) -> str:
    vals = list(values)
    if not vals:
        vals = [0]
    if ctype == "float":
        body = ", ".join(fl(v) for v in vals)
    elif ctype == "double":
        body = ", ".join(float(v).hex() for v in vals)
    else:
        body = ", ".join(str(int(v)) for v in vals)
    return f"static const {ctype} {name}[] = {{{body}}};"


# ---- requantization parameter sets --------------------------------------------------

def quant_params(rng: np.random.Generator, oc: int, mode: str, per_channel: bool):
    """(multiplier, shift, scale, real_scale) arrays for one case; None where unused."""
    n = oc if per_channel else 1
    if mode == "onnx":
        scale = rng.choice([0.5, 0.25, 0.0078125], size=n).astype(np.float32)
        scale = np.where(rng.random(n) < 0.5, scale, rng.uniform(1e-3, 0.05, n)).astype(np.float32)
        return None, None, scale, None
    if mode == "real":
        real = np.where(rng.random(n) < 0.5, 0.5, rng.uniform(1e-3, 0.05, n))
        return None, None, None, real.astype(np.float64)
    mult = rng.integers(1 << 30, (1 << 31) - 1, size=n, dtype=np.int64)
    mult[rng.random(n) < 0.4] = 1 << 30            # exactly 0.5: srdhm ties on odd inputs
    shift = rng.integers(-10, 1, size=n)
    if mode == "tflite_mixed":                     # left shifts and zero shifts too
        shift = rng.choice([-9, -7, -3, -1, 0, 1, 2], size=n)
    return mult.astype(np.int32), shift.astype(np.int32), None, None


ACTS = [(-128, 127), (None, 127), (None, None), (-10, 20)]   # None: the output zero point / zp + 60


def act_range(act, out_zp: int) -> tuple[int, int]:
    lo, hi = act
    lo = out_zp if lo is None else lo
    hi = min(127, out_zp + 60) if hi is None else hi
    return lo, max(lo, hi)


# ---- one C program of all cases -----------------------------------------------------

PRELUDE = r"""
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "hhbc_kernels_i8.h"

void hhbc_conv2d_1x1_i8_c908(const hhbc_tensor *, const hhbc_tensor *, const hhbc_conv2d_i8_params *);
void hhbc_conv2d_i8_c908(const hhbc_tensor *, const hhbc_tensor *, const hhbc_conv2d_i8_params *);
void hhbc_dense_i8_c908(const hhbc_tensor *, const hhbc_tensor *, const hhbc_dense_i8_params *);
void hhbc_depthwise_conv2d_i8_c908(const hhbc_tensor *, const hhbc_tensor *, const hhbc_conv2d_i8_params *);

#define GUARD @GUARD@
static int8_t ref_out[65536], got_out[65536 + GUARD];
static int failures = 0;

static void check(const char *label, int32_t n)
{
    int bad = -1, guard_ok = 1;
    for (int32_t i = 0; i < n; i++) if (ref_out[i] != got_out[i]) { bad = i; break; }
    for (int i = 0; i < GUARD; i++) if ((uint8_t)got_out[n + i] != 0xA5) guard_ok = 0;
    if (bad >= 0 || !guard_ok) {
        failures++;
        printf("FAIL %s first mismatch %d (ref %d got %d) guard %d\n", label, bad,
               bad >= 0 ? ref_out[bad] : 0, bad >= 0 ? got_out[bad] : 0, guard_ok);
    } else {
        printf("PASS %s n=%d\n", label, n);
    }
}
""".replace("@GUARD@", str(GUARD))


class Program:
    def __init__(self):
        self.decls: list[str] = []
        self.calls: list[str] = []
        self.n = 0
        self.labels: list[str] = []

    def conv_case(self, rng, label, n, h, w, c, oc, kh, kw, sh, sw, dh, pt, pl, oh, ow, in_zp, out_zp,
                  mode="tflite", per_channel=True, act=(-128, 127), bias=True, fn="hhbc_conv2d_i8_c908",
                  extreme=False):
        k = self.n
        self.n += 1
        x = rng.integers(-128, 128, size=(n, h, w, c)).astype(np.int8)
        if extreme:   # saturating windows: inputs and weights at the ends of the range
            x = rng.choice(np.array([-128, 127], dtype=np.int8), size=x.shape)
        wt = rng.integers(-127, 128, size=(oc, kh, kw, c)).astype(np.int8)
        b = rng.integers(-20000, 20000, size=oc).astype(np.int32) if bias else None
        mult, shift, scale, _ = quant_params(rng, oc, mode, per_channel)
        if extreme and mode.startswith("tflite"):
            shift = np.full_like(shift, -2)        # big outputs: saturate at -128 / 127
        lo, hi = act_range(act, out_zp)
        packed = vmaqa_weights(wt)
        fb = folded_bias(wt, b, in_zp) if bias else None
        d = self.decls
        d.append(arr(f"x{k}", "int8_t", x.ravel()))
        d.append(arr(f"w{k}", "int8_t", wt.ravel()))
        d.append(arr(f"pw{k}", "int8_t", packed.ravel()))
        if bias:
            d.append(arr(f"b{k}", "int32_t", b))
            d.append(arr(f"fb{k}", "int32_t", fb))
        if mult is not None:
            d.append(arr(f"m{k}", "int32_t", mult))
            d.append(arr(f"s{k}", "int32_t", shift))
        if scale is not None:
            d.append(arr(f"sc{k}", "float", scale))
        nout = n * oh * ow * oc
        mm = f"m{k}" if mult is not None else "NULL"
        ss = f"s{k}" if mult is not None else "NULL"
        sc = f"sc{k}" if scale is not None else "NULL"
        self.calls.append(f"""
    {{
        hhbc_tensor ti = {{(void *)x{k}, {{{n}, {h}, {w}, {c}}}, 4}};
        hhbc_tensor tr = {{ref_out, {{{n}, {oh}, {ow}, {oc}}}, 4}}, tg = {{got_out, {{{n}, {oh}, {ow}, {oc}}}, 4}};
        hhbc_conv2d_i8_params p = {{w{k}, {f"b{k}" if bias else "NULL"}, {mm}, {ss}, {int(per_channel)},
            {kh}, {kw}, {sh}, {sw}, {dh}, 1, {pt}, {pl}, 1, {in_zp}, {out_zp}, {lo}, {hi}, {sc}, NULL}};
        hhbc_conv2d_i8(&ti, &tr, &p);
        hhbc_conv2d_i8_params q = p;
        q.weight = pw{k};
        q.bias = {f"fb{k}" if bias else "NULL"};
        memset(got_out, 0xA5, sizeof got_out);
        {fn}(&ti, &tg, &q);
        check("{label}", {nout});
    }}""")
        self.labels.append(label)

    def dw_case(self, rng, label, n, h, w, c, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow, in_zp, out_zp,
                mode="tflite", per_channel=True, act=(-128, 127), bias=True, extreme=False):
        k = self.n
        self.n += 1
        x = rng.integers(-128, 128, size=(n, h, w, c)).astype(np.int8)
        if extreme:
            x = rng.choice(np.array([-128, 127], dtype=np.int8), size=x.shape)
        wt = rng.integers(-127, 128, size=(kh, kw, c)).astype(np.int8)
        b = rng.integers(-20000, 20000, size=c).astype(np.int32) if bias else None
        mult, shift, scale, _ = quant_params(rng, c, mode, per_channel)
        if extreme and mode.startswith("tflite"):
            shift = np.full_like(shift, -1)
        lo, hi = act_range(act, out_zp)
        d = self.decls
        d.append(arr(f"x{k}", "int8_t", x.ravel()))
        d.append(arr(f"w{k}", "int8_t", wt.ravel()))
        d.append(arr(f"pw{k}", "int8_t", vmaqa_depthwise_weights(wt).ravel()))
        if bias:
            d.append(arr(f"b{k}", "int32_t", b))
            d.append(arr(f"fb{k}", "int32_t", folded_bias(np.ascontiguousarray(wt.reshape(-1, c).T), b, in_zp)))
        if mult is not None:
            d.append(arr(f"m{k}", "int32_t", mult))
            d.append(arr(f"s{k}", "int32_t", shift))
        if scale is not None:
            d.append(arr(f"sc{k}", "float", scale))
        mm = f"m{k}" if mult is not None else "NULL"
        ss = f"s{k}" if mult is not None else "NULL"
        sc = f"sc{k}" if scale is not None else "NULL"
        self.calls.append(f"""
    {{
        hhbc_tensor ti = {{(void *)x{k}, {{{n}, {h}, {w}, {c}}}, 4}};
        hhbc_tensor tr = {{ref_out, {{{n}, {oh}, {ow}, {c}}}, 4}}, tg = {{got_out, {{{n}, {oh}, {ow}, {c}}}, 4}};
        hhbc_conv2d_i8_params p = {{w{k}, {f"b{k}" if bias else "NULL"}, {mm}, {ss}, {int(per_channel)},
            {kh}, {kw}, {sh}, {sw}, {dh}, {dw}, {pt}, {pl}, {c}, {in_zp}, {out_zp}, {lo}, {hi}, {sc}, NULL}};
        hhbc_depthwise_conv2d_i8(&ti, &tr, &p);
        hhbc_conv2d_i8_params q = p;
        q.weight = pw{k};
        q.bias = {f"fb{k}" if bias else "NULL"};
        memset(got_out, 0xA5, sizeof got_out);
        hhbc_depthwise_conv2d_i8_c908(&ti, &tg, &q);
        check("{label}", {n * oh * ow * c});
    }}""")
        self.labels.append(label)

    def dense_case(self, rng, label, m, nn, kk, in_zp, out_zp, mode="tflite", per_channel=True,
                   act=(-128, 127), bias=True):
        k = self.n
        self.n += 1
        x = rng.integers(-128, 128, size=(m, kk)).astype(np.int8)
        wt = rng.integers(-127, 128, size=(nn, kk)).astype(np.int8)
        b = rng.integers(-20000, 20000, size=nn).astype(np.int32) if bias else None
        mult, shift, scale, real = quant_params(rng, nn, mode, per_channel)
        lo, hi = act_range(act, out_zp)
        w4 = wt.reshape(nn, 1, 1, kk)
        packed = vmaqa_weights(w4)
        d = self.decls
        d.append(arr(f"x{k}", "int8_t", x.ravel()))
        d.append(arr(f"w{k}", "int8_t", wt.ravel()))
        d.append(arr(f"pw{k}", "int8_t", packed.ravel()))
        if bias:
            d.append(arr(f"b{k}", "int32_t", b))
            d.append(arr(f"fb{k}", "int32_t", folded_bias(w4, b, in_zp)))
        if mult is not None:
            d.append(arr(f"m{k}", "int32_t", mult))
            d.append(arr(f"s{k}", "int32_t", shift))
        if scale is not None:
            d.append(arr(f"sc{k}", "float", scale))
        if real is not None:
            d.append(arr(f"rs{k}", "double", real))
        mm = f"m{k}" if mult is not None else "NULL"
        ss = f"s{k}" if mult is not None else "NULL"
        rs = f"rs{k}" if real is not None else "NULL"
        sc = f"sc{k}" if scale is not None else "NULL"
        self.calls.append(f"""
    {{
        hhbc_tensor ti = {{(void *)x{k}, {{{m}, {kk}}}, 2}};
        hhbc_tensor tr = {{ref_out, {{{m}, {nn}}}, 2}}, tg = {{got_out, {{{m}, {nn}}}, 2}};
        hhbc_dense_i8_params p = {{w{k}, {f"b{k}" if bias else "NULL"}, {mm}, {ss}, {rs}, {int(per_channel)},
            {m}, {nn}, {kk}, {in_zp}, {out_zp}, {lo}, {hi}, {sc}, NULL}};
        hhbc_dense_i8(&ti, &tr, &p);
        hhbc_dense_i8_params q = p;
        q.weight = pw{k};
        q.bias = {f"fb{k}" if bias else "NULL"};
        memset(got_out, 0xA5, sizeof got_out);
        hhbc_dense_i8_c908(&ti, &tg, &q);
        check("{label}", {m * nn});
    }}""")
        self.labels.append(label)

    def source(self) -> str:
        return "\n".join([PRELUDE, *self.decls, "int main(void)\n{", *self.calls,
                          '    printf("failures=%d\\n", failures);', "    return failures != 0;", "}"]) + "\n"


def out_size(n, k, s, d, pb, pa):
    return (n + pb + pa - d * (k - 1) - 1) // s + 1


ZPS = [(-128, -128), (127, 127), (0, 5), (83, -128), (-7, 127)]
MODES = ["tflite", "tflite_mixed", "onnx"]


def build_cases() -> Program:
    rng = np.random.default_rng(908)
    prog = Program()
    i = 0
    # pointwise: the GEMM over pixels, K = C (tails when C % 4 != 0), N = OC
    for c in (1, 3, 7, 17, 33, 64):
        for oc in (1, 3, 7, 17, 33, 64, 65):
            for pix in ((1, 1), (1, 5), (5, 5)):
                in_zp, out_zp = ZPS[i % len(ZPS)]
                mode = MODES[i % len(MODES)]
                pc = i % 4 != 3
                act = ACTS[i % len(ACTS)]
                bias = in_zp != 0 or i % 2 == 0
                i += 1
                label = f"1x1 c{c} oc{oc} hw{pix} zp{in_zp},{out_zp} {mode} pc{int(pc)} act{act} b{int(bias)}"
                prog.conv_case(rng, label, 1, pix[0], pix[1], c, oc, 1, 1, 1, 1, 1, 0, 0, pix[0], pix[1], in_zp, out_zp,
                               mode, pc, act, bias, fn="hhbc_conv2d_1x1_i8_c908")
    # KWS first layer: 10x4 stride 2 on 49x10x1, TF SAME (top 4, left 1) -> 25x5x64
    for mode in MODES:
        prog.conv_case(rng, f"kws-first {mode}", 1, 49, 10, 1, 64, 10, 4, 2, 2, 1, 4, 1, 25, 5, 83, -128, mode)
    # k x k: tails in KW * C and OC, strides, padding, dilation_h, batch, chunks of windows
    shapes = []
    for c in (1, 3, 7, 17, 33):
        for oc in (3, 17, 33):
            shapes.append(dict(n=1, h=7, w=9, c=c, oc=oc, k=(3, 3), s=(1, 1), d=1, pad=(1, 1, 1, 1)))
        shapes.append(dict(n=1, h=8, w=9, c=c, oc=7, k=(3, 3), s=(2, 2), d=1, pad=(1, 1, 1, 1)))
        shapes.append(dict(n=1, h=9, w=11, c=c, oc=5, k=(3, 2), s=(1, 2), d=2, pad=(2, 0, 2, 1)))
    shapes += [dict(n=2, h=6, w=7, c=2, oc=65, k=(3, 3), s=(1, 1), d=1, pad=(1, 1, 1, 1)),
               dict(n=1, h=2, w=5, c=1, oc=9, k=(2, 2), s=(1, 1), d=1, pad=(3, 0, 3, 0)),
               dict(n=1, h=4, w=4, c=3, oc=5, k=(5, 5), s=(1, 1), d=1, pad=(2, 2, 2, 2)),
               dict(n=1, h=5, w=6, c=34, oc=34, k=(1, 1), s=(2, 2), d=1, pad=(0, 0, 0, 0)),
               dict(n=1, h=3, w=3, c=2, oc=3, k=(3, 3), s=(1, 1), d=1, pad=(0, 0, 0, 0)),
               # kernel rows of 4 and 8 bytes: one strided segment load per window
               dict(n=2, h=12, w=10, c=2, oc=17, k=(5, 4), s=(2, 2), d=1, pad=(2, 1, 2, 2)),
               dict(n=1, h=14, w=9, c=1, oc=8, k=(3, 4), s=(1, 1), d=2, pad=(2, 1, 2, 2)),
               dict(n=1, h=9, w=7, c=4, oc=33, k=(3, 1), s=(1, 1), d=1, pad=(1, 0, 1, 0)),
               # several bands of padded rows
               dict(n=1, h=20, w=20, c=17, oc=5, k=(3, 3), s=(1, 1), d=1, pad=(1, 1, 1, 1)),
               dict(n=2, h=30, w=40, c=4, oc=9, k=(4, 2), s=(2, 3), d=2, pad=(3, 1, 3, 1)),
               # rows too wide for one band: border windows filled and clipped
               dict(n=1, h=5, w=100, c=17, oc=6, k=(3, 3), s=(1, 1), d=1, pad=(1, 1, 1, 1))]
    for sh in shapes:
        kh, kw = sh["k"]
        pt, pl, pb, pr = sh["pad"]
        oh = out_size(sh["h"], kh, sh["s"][0], sh["d"], pt, pb)
        ow = out_size(sh["w"], kw, sh["s"][1], 1, pl, pr)
        in_zp, out_zp = ZPS[i % len(ZPS)]
        mode = MODES[i % len(MODES)]
        pc = i % 4 != 3
        act = ACTS[i % len(ACTS)]
        bias = in_zp != 0 or i % 2 == 0
        i += 1
        prog.conv_case(rng, f"kxk {sh} zp{in_zp},{out_zp} {mode} pc{int(pc)} act{act} b{int(bias)}",
                       sh["n"], sh["h"], sh["w"], sh["c"], sh["oc"], kh, kw, sh["s"][0], sh["s"][1], sh["d"],
                       pt, pl, oh, ow, in_zp, out_zp, mode, pc, act, bias)
    # saturation: inputs and weights at the ends of the range, every output clamped
    for mode in ("tflite", "onnx"):
        prog.conv_case(rng, f"saturate 1x1 {mode}", 1, 3, 4, 64, 33, 1, 1, 1, 1, 1, 0, 0, 3, 4, -128, 0, mode,
                       extreme=True, fn="hhbc_conv2d_1x1_i8_c908")
        prog.conv_case(rng, f"saturate 3x3 {mode}", 1, 5, 5, 8, 17, 3, 3, 1, 1, 1, 1, 1, 5, 5, 127, -5, mode,
                       extreme=True)
    # every activation range on one shape, each requantization flavour
    for a, act in enumerate(ACTS):
        for mode in MODES:
            prog.conv_case(rng, f"act{a} {mode}", 1, 4, 5, 24, 40, 3, 3, 1, 1, 1, 1, 1, 4, 5, -128, -128, mode,
                           act=act)
    # depthwise: channel tails, strides, padding, dilation, kernels of 1, 9 and 15 taps
    dws = []
    for c in (1, 3, 7, 17, 33, 64, 100):
        for st in (1, 2):
            dws.append(dict(n=1, h=7, w=6, c=c, k=(3, 3), s=(st, st), d=(1, 1), pad=(1, 1, 1, 1)))
        dws.append(dict(n=1, h=8, w=7, c=c, k=(3, 3), s=(2, 2), d=(1, 1), pad=(0, 0, 1, 1)))
    dws += [dict(n=1, h=25, w=5, c=64, k=(3, 3), s=(1, 1), d=(1, 1), pad=(1, 1, 1, 1)),   # KWS
            dict(n=2, h=6, w=7, c=9, k=(3, 3), s=(1, 1), d=(1, 1), pad=(0, 0, 0, 0)),
            dict(n=1, h=9, w=8, c=5, k=(5, 3), s=(2, 1), d=(1, 2), pad=(2, 2, 1, 2)),
            dict(n=1, h=9, w=8, c=17, k=(3, 3), s=(1, 1), d=(2, 2), pad=(2, 2, 2, 2)),
            dict(n=1, h=2, w=2, c=8, k=(3, 3), s=(1, 1), d=(1, 1), pad=(1, 1, 1, 1)),
            dict(n=1, h=1, w=1, c=8, k=(3, 3), s=(2, 2), d=(1, 1), pad=(1, 1, 1, 1)),
            dict(n=1, h=5, w=4, c=12, k=(1, 1), s=(1, 1), d=(1, 1), pad=(0, 0, 0, 0)),
            # several bands of padded rows
            dict(n=2, h=30, w=40, c=8, k=(3, 3), s=(1, 1), d=(1, 1), pad=(1, 1, 1, 1)),
            dict(n=1, h=29, w=33, c=20, k=(3, 3), s=(2, 2), d=(1, 1), pad=(0, 0, 1, 1))]
    for sh in dws:
        kh, kw = sh["k"]
        pt, pl, pb, pr = sh["pad"]
        oh = out_size(sh["h"], kh, sh["s"][0], sh["d"][0], pt, pb)
        ow = out_size(sh["w"], kw, sh["s"][1], sh["d"][1], pl, pr)
        in_zp, out_zp = ZPS[i % len(ZPS)]
        mode = MODES[i % len(MODES)]
        pc = i % 4 != 3
        act = ACTS[i % len(ACTS)]
        bias = in_zp != 0 or i % 2 == 0
        i += 1
        prog.dw_case(rng, f"dw {sh} zp{in_zp},{out_zp} {mode} pc{int(pc)} act{act} b{int(bias)}",
                     sh["n"], sh["h"], sh["w"], sh["c"], kh, kw, sh["s"][0], sh["s"][1], sh["d"][0], sh["d"][1],
                     pt, pl, oh, ow, in_zp, out_zp, mode, pc, act, bias)
    for mode in ("tflite", "onnx"):
        prog.dw_case(rng, f"saturate dw {mode}", 1, 5, 5, 40, 3, 3, 1, 1, 1, 1, 1, 1, 5, 5, 127, 3, mode,
                     extreme=True)
    for a, act in enumerate(ACTS):
        for mode in MODES:
            prog.dw_case(rng, f"dw act{a} {mode}", 1, 4, 5, 24, 3, 3, 1, 1, 1, 1, 1, 1, 4, 5, -128, -128, mode,
                         act=act)
    # dense: tails in K and N, M rows, TFLite multiplier, TFLite FC double scale, ONNX
    j = 0
    for m in (1, 2, 5):
        for nn in (1, 3, 12, 33, 65):
            for kk in (1, 3, 32, 33, 64):
                in_zp, out_zp = ZPS[j % len(ZPS)]
                mode = ["tflite", "real", "onnx", "tflite_mixed"][j % 4]
                pc = j % 3 != 2
                act = ACTS[j % len(ACTS)]
                bias = in_zp != 0 or j % 2 == 0
                j += 1
                prog.dense_case(rng, f"dense m{m} n{nn} k{kk} zp{in_zp},{out_zp} {mode} pc{int(pc)} act{act}",
                                m, nn, kk, in_zp, out_zp, mode, pc, act, bias)
    return prog


@pytest.fixture(scope="module")
def kernel_exe(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("c908_i8")
    prog = build_cases()
    main = d / "main.c"
    main.write_text(prog.source())
    objs = []
    for src in (REF / "conv2d_i8.c", REF / "depthwise_conv2d_i8.c", REF / "dense_i8.c", C908 / "conv2d_i8.c",
                C908 / "depthwise_conv2d_i8.c", main):
        obj = d / f"{src.parent.name}_{src.stem}.o"
        res = zig_cc([*ZIG, "-I", str(INCLUDE), "-I", str(REF), "-I", str(C908), "-c", str(src), "-o", str(obj)])
        assert res.returncode == 0, f"{src.name}:\n{res.stderr}"
        objs.append(str(obj))
    exe = d / "c908_i8"
    res = zig_cc(["-target", "riscv64-linux-musl", "-mcpu=baseline_rv64+v+zfh+zvfh", *objs, "-o", str(exe), "-lm"])
    assert res.returncode == 0, res.stderr
    return exe


def test_c908_int8_kernels_match_ref_bit_exact(kernel_exe):
    res = subprocess.run([str(QEMU), "-cpu", "c908v", str(kernel_exe)], capture_output=True, text=True, timeout=600)
    fails = [ln for ln in res.stdout.splitlines() if ln.startswith("FAIL")]
    assert res.returncode == 0 and not fails, "\n".join(fails[:20]) + res.stderr[-2000:]
    assert "failures=0" in res.stdout
    assert res.stdout.count("PASS") > 200


# ---- the instruction itself -----------------------------------------------------------

FORMS = {   # name: (header macro, vv?, rs1/vs1 signed?, vs2 signed?)
    "th.vmaqa.vv": ("HHBC_C908_VMAQA_VV", True, True, True),
    "th.vmaqa.vx": ("HHBC_C908_VMAQA_VX", False, True, True),
    "th.vmaqau.vv": ("HHBC_C908_VMAQAU_VV", True, False, False),
    "th.vmaqau.vx": ("HHBC_C908_VMAQAU_VX", False, False, False),
    "th.vmaqasu.vv": ("HHBC_C908_VMAQASU_VV", True, True, False),
    "th.vmaqasu.vx": ("HHBC_C908_VMAQASU_VX", False, True, False),
    "th.vmaqaus.vx": ("HHBC_C908_VMAQAUS_VX", False, False, True),
}


def _text_words(obj: Path) -> list[int]:
    """The 32-bit instructions of an ELF64 object's .text sections (16-bit ones skipped)."""
    data = obj.read_bytes()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize) for i in range(shnum)]
    strtab_off = sections[shstrndx][4]
    words = []
    for name_off, _typ, flags, _addr, off, size in sections:
        name = data[strtab_off + name_off:data.index(b"\0", strtab_off + name_off)].decode()
        if not (flags & 0x4) or not name.startswith(".text"):   # SHF_EXECINSTR
            continue
        pos = off
        while pos + 2 <= off + size:
            half, = struct.unpack_from("<H", data, pos)
            if half & 3 == 3:
                words.append(struct.unpack_from("<I", data, pos)[0])
                pos += 4
            else:
                pos += 2
    return words


def xtheadvdot_words(obj: Path) -> list[int]:
    """XTheadVdot instructions: custom-0 opcode, funct3 110, funct6 1000xx / 1001xx."""
    return [w for w in _text_words(obj) if w & 0x7F == 0x0B and (w >> 12) & 7 == 6 and (w >> 29) == 0b100]


def test_insn_encodings_match_clang(tmp_path):
    """Every funct7 of the header assembles to the bytes of clang's own th.vmaqa* mnemonic."""
    lines_mn, lines_insn = [], []
    for name, (macro, vv, _, _) in FORMS.items():
        src1 = "v4" if vv else "a0"
        lines_mn.append(f'"{name} v8, {src1}, v16\\n"')
        lines_insn.append(f'".insn r 0x0b, 6, " HHBC_C908_XS({macro}) ", v8, {src1}, v16\\n"')
    for tag, body, mcpu in (("mn", lines_mn, "+xtheadvdot"), ("insn", lines_insn, "")):
        src = tmp_path / f"{tag}.c"
        src.write_text('#include "hhbc_c908_i8.h"\nvoid f(void);\nvoid f(void) { __asm__ volatile(\n'
                       + "\n".join(body) + ");\n}\n")
        res = zig_cc(["-target", "riscv64-linux-musl", f"-mcpu=baseline_rv64+v{mcpu}", "-O2", "-I", str(INCLUDE),
                      "-I", str(C908), "-c", str(src), "-o", str(tmp_path / f"{tag}.o")])
        assert res.returncode == 0, res.stderr
    mn, insn = xtheadvdot_words(tmp_path / "mn.o"), xtheadvdot_words(tmp_path / "insn.o")
    assert len(mn) == len(FORMS) and mn == insn, ([hex(w) for w in mn], [hex(w) for w in insn])


def test_insn_forms_compute_what_the_spec_says(tmp_path):
    """Each form on QEMU c908v at e32/m1 vs a numpy model of its signedness."""
    rng = np.random.default_rng(5)
    a = rng.integers(0, 256, size=16, dtype=np.uint8)      # vs1 / the vx scalar's 4 bytes
    b = rng.integers(0, 256, size=16, dtype=np.uint8)      # vs2
    a[:4] = [0x80, 0x7F, 0xFF, 0x01]
    b[:4] = [0x80, 0x80, 0xFF, 0x7F]
    acc0 = rng.integers(-1000, 1000, size=4).astype(np.int32)
    body = []
    for k, (name, (macro, vv, _, _)) in enumerate(FORMS.items()):
        src1 = '"%[s]"' if vv else '"%[x]"'
        body.append(f"""
    {{
        vint32m1_t acc = __riscv_vle32_v_i32m1(acc0, 4), s = __riscv_vle32_v_i32m1((const int32_t *)a, 4);
        vint32m1_t v2 = __riscv_vle32_v_i32m1((const int32_t *)b, 4);
        __asm__ volatile("vsetivli zero, 4, e32, m1, ta, ma\\n\\t"   /* vtype is unset after a call */
                         ".insn r 0x0b, 6, " HHBC_C908_XS({macro}) ", %[d], " {src1} ", %[v]"
                         : [d] "+vr"(acc) : [s] "vr"(s), [x] "r"(xs), [v] "vr"(v2));
        __riscv_vse32_v_i32m1(out, acc, 4);
        printf("{name} %d %d %d %d\\n", out[0], out[1], out[2], out[3]);
    }}""")
    src = tmp_path / "forms.c"
    src.write_text("#include <stdio.h>\n#include <string.h>\n#include <riscv_vector.h>\n#include \"hhbc_c908_i8.h\"\n"
                   f"static const uint8_t a[16] __attribute__((aligned(4))) = {ilist(a)};\n"
                   f"static const uint8_t b[16] __attribute__((aligned(4))) = {ilist(b)};\n"
                   f"static const int32_t acc0[4] = {ilist(acc0)};\n"
                   "int main(void)\n{\n    int32_t out[4];\n    long xs;\n    int32_t x32;\n"
                   "    memcpy(&x32, a, 4);\n    xs = x32;\n"
                   + "".join(body) + "\n    return 0;\n}\n")
    exe = tmp_path / "forms"
    res = zig_cc([*ZIG, "-I", str(INCLUDE), "-I", str(C908), str(src), "-o", str(exe)])
    assert res.returncode == 0, res.stderr
    run = subprocess.run([str(QEMU), "-cpu", "c908v", str(exe)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    got = {ln.split()[0]: [int(v) for v in ln.split()[1:]] for ln in run.stdout.splitlines()}
    for name, (_, vv, s1_signed, s2_signed) in FORMS.items():
        s1 = (a.view(np.int8) if s1_signed else a).astype(np.int64).reshape(4, 4)
        if not vv:
            s1 = np.tile(s1[0], (4, 1))      # the scalar's 4 bytes for every lane
        s2 = (b.view(np.int8) if s2_signed else b).astype(np.int64).reshape(4, 4)
        want = (acc0.astype(np.int64) + (s1 * s2).sum(axis=1)).astype(np.int32)
        assert got[name] == list(want), (name, got[name], list(want))


# ---- the registry: only cores with the extension get the instruction --------------------

def test_registry_gives_xtheadvdot_only_to_c908():
    from hhbc.targets import TARGETS
    have = {t.name for t in TARGETS.values() if "xtheadvdot" in t.vector_extensions}
    assert have == {"c908"}
    for t in TARGETS.values():
        assert ("c908" in t.kernel_variants) == ("xtheadvdot" in t.vector_extensions), t.name


@pytest.mark.parametrize("target,expect", [("rvv", False), ("c908", True)])
def test_model_binary_has_xtheadvdot_only_on_c908(tmp_path, target, expect):
    """Compile an int8 convolution for each target and scan its linked binary's code for
    XTheadVdot encodings: the generic rvv binary must run on any RVV 1.0 core (xuantie-qemu
    executes th.vmaqa on every cpu, so running it proves nothing); c908's must use them."""
    tf = pytest.importorskip("tensorflow")

    model = tf.keras.Sequential([tf.keras.Input((6, 6, 8), batch_size=1),
                                 tf.keras.layers.Conv2D(16, 1, activation="relu")])

    def rep():
        r = np.random.default_rng(0)
        for _ in range(4):
            yield [r.standard_normal((1, 6, 6, 8)).astype(np.float32)]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = rep
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    path = tmp_path / "conv.tflite"
    path.write_bytes(conv.convert())
    out = tmp_path / target
    res = subprocess.run([sys.executable, "-m", "hhbc", "compile", str(path), "--target", target, "-o", str(out),
                          "--build", "-q"], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    manifest = (out / "manifest.json").read_text()
    assert ("_c908" in manifest) == expect
    elf = out / "model"
    assert elf.exists()
    assert bool(xtheadvdot_words(elf)) == expect
