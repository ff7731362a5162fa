"""The C906 (RVV 0.7.1, kernels/c906/*_i8.c) int8 kernels against the reference int8 kernels
(kernels/ref, themselves checked against TFLite by test_int8_kernels.py), byte for byte,
under QEMU `c906fdv`.

One C program per kernel holds every case: inputs, weights, biases and (multiplier, shift)
pairs come from a seeded numpy generator; the C906 constants are packed by the compiler's
own packers (hhbc/codegen/packing_c906.py, packing.py's layouts); the reference kernel
and the C906 kernel run on the same data and their outputs (followed by a guard zone that
must stay untouched) must be identical. Cases cover channel counts 1, 3, 7, 17, 33 (strip
tails), strides 1 and 2, padding, dilation, groups, per-channel and per-tensor weights,
zero points at -128 and 127, fused activation clamps, multipliers of exactly 2^30 with
small shifts (every rounding step hits ties, negative ones included), left shifts, and
multipliers that drive the results into saturation.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from c_harness import INCLUDE, QEMU, REF, ROOT, VECTOR_KERNEL_MARKS

from hhbc.codegen.packing_c906 import requant_block_arrays
from hhbc.quantize import fixedpoint as fp

C906 = ROOT / "hhbc" / "kernels" / "c906"
ZIG_C906 = ["-target", "riscv64-linux-musl", "-mcpu=baseline_rv64+zfh"]
KERNEL_FLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"]
GUARD = 64
CHANNELS = (1, 3, 7, 17, 33)


pytestmark = VECTOR_KERNEL_MARKS

PRELUDE = r"""
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "hhbc_kernels_i8.h"
#include "hhbc_c906_i8.h"

#define GUARD 64
static int8_t y_ref[65536], y_vec[65536 + GUARD];
static void prep(int32_t n)
{
    memset(y_ref, 0x11, sizeof y_ref);
    memset(y_vec, 0x5a, (size_t)n + GUARD);
}
static void report(const char *name, int32_t n)
{
    int32_t bad = 0, first = -1;
    for (int32_t i = 0; i < n; i++)
        if (y_ref[i] != y_vec[i]) { bad++; if (first < 0) first = i; }
    int guard_ok = 1;
    for (int32_t i = n; i < n + GUARD; i++) guard_ok &= y_vec[i] == 0x5a;
    if (first >= 0)
        printf("CASE %s n=%d bad=%d guard=%d first=%d ref=%d got=%d\n", name, n, bad, guard_ok, first,
               y_ref[first], y_vec[first]);
    else
        printf("CASE %s n=%d bad=0 guard=%d\n", name, n, guard_ok);
}
"""


def carr(ctype: str, name: str, a) -> str:
    vals = np.asarray(a).reshape(-1)
    if vals.size == 0:
        vals = np.zeros(1, np.int64)
    if ctype == "double":
        body = ", ".join(float(v).hex() for v in vals)
    elif ctype == "float":
        body = ", ".join(float(np.float32(v)).hex() + "f" for v in vals)
    else:
        body = ", ".join(str(int(v)) for v in vals)
    return f"static const {ctype} {name}[] = {{{body}}};\n"


def tensor(data: str, shape) -> str:
    return f"{{.data = (void *){data}, .dim = {{{', '.join(str(int(d)) for d in shape)}}}, .ndim = {len(shape)}}}"


class Program:
    """Every case of one kernel in one C program, run once under QEMU."""

    def __init__(self, tmp_path: Path, name: str, sources: list[Path]):
        self.dir, self.name, self.sources = tmp_path, name, sources
        self.cases: list[str] = []
        self.labels: list[str] = []

    def case(self, label: str, body: str):
        label = re.sub(r"[^A-Za-z0-9_.,=x:+-]", "_", label)
        assert label not in self.labels, label
        self.labels.append(label)
        self.cases.append(f'static void case_{len(self.cases)}(void)\n{{\n    const char *name = "{label}";\n'
                          + body + "}\n")

    def run(self) -> dict[str, str]:
        objs = []
        for src in self.sources:   # kernels: warning-free at -Werror
            obj = self.dir / (src.parent.name + "_" + src.stem + ".o")
            cmd = [sys.executable, "-m", "ziglang", "cc", *ZIG_C906, *KERNEL_FLAGS, "-I", str(INCLUDE),
                   "-I", str(C906), "-c", str(src), "-o", str(obj)]
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
            assert res.returncode == 0, res.stderr
            objs.append(obj)
        main = PRELUDE + "".join(self.cases) + "int main(void)\n{\n" + "".join(
            f"    case_{i}();\n" for i in range(len(self.cases))) + "    return 0;\n}\n"
        src = self.dir / f"{self.name}.c"
        src.write_text(main)
        exe = self.dir / self.name
        cmd = [sys.executable, "-m", "ziglang", "cc", *ZIG_C906, "-std=c99", "-O1", "-Wall", "-Wextra",
               "-Wno-overlength-strings", "-I", str(INCLUDE), "-I", str(C906), str(src), *map(str, objs),
               "-o", str(exe), "-lm"]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, res.stderr
        res = subprocess.run([str(QEMU), "-cpu", "c906fdv", str(exe)], capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, res.stderr + res.stdout
        lines = {}
        for ln in res.stdout.splitlines():
            if ln.startswith("CASE "):
                lines[ln.split()[1]] = ln
        assert set(lines) == set(self.labels), res.stdout
        return lines

    def check(self):
        lines = self.run()
        bad = [ln for ln in lines.values() if " bad=0 guard=1" not in ln]
        assert not bad, "\n".join(bad)


def rescale(rng, mode: str, count: int, k_taps: int):
    """(multiplier, shift) arrays of `count` entries.
    real: typical scales for an accumulator of k_taps MACs (outputs spread over int8);
    tie: multiplier 2^30 (x/2 exactly) and shifts 0..-3: srdhm and rdbpot both see ties;
    left: positive shifts (the wrapping left shift before srdhm);
    sat: scales that push most outputs past the clamp."""
    if mode == "real":
        reals = rng.uniform(0.3, 3.0, count) / (k_taps * 128.0) * 64
        m, s = fp.quantize_multipliers(reals)
        return np.asarray(m, np.int64), np.asarray(s, np.int64)
    if mode == "tie":
        return np.full(count, 1 << 30), rng.integers(-3, 1, count)
    if mode == "left":
        return rng.integers(1 << 30, 1 << 31, count), rng.integers(0, 3, count)
    assert mode == "sat"
    return rng.integers(1 << 30, 1 << 31, count), rng.integers(-2, 1, count)


def out_size(n, k, s, d, pb, pa):
    return (n + pb + pa - ((k - 1) * d + 1)) // s + 1


def conv_case(prog: Program, rng, depthwise: bool, n, h, w, c, oc, kh, kw, sh=1, sw=1, dh=1, dw=1,
              pt=0, pl=0, pb=0, pr=0, groups=1, per_channel=True, mode="real", in_zp=None, out_zp=None,
              act=(-128, 127), bias=True):
    oh, ow = out_size(h, kh, sh, dh, pt, pb), out_size(w, kw, sw, dw, pl, pr)
    in_zp = int(rng.integers(-128, 128)) if in_zp is None else in_zp
    out_zp = int(rng.integers(-20, 21)) if out_zp is None else out_zp
    x = rng.integers(-128, 128, (n, h, w, c))
    icg = c // groups
    if depthwise:
        wt = rng.integers(-127, 128, (kh, kw, oc))
        packed = wt
        sums = wt.reshape(-1, oc).sum(axis=0)
        k_taps = kh * kw
    else:
        wt = rng.integers(-127, 128, (oc, kh, kw, icg))
        ocg = oc // groups
        packed = wt.reshape(groups, ocg, kh, kw, icg).transpose(0, 2, 3, 4, 1)
        sums = wt.reshape(oc, -1).sum(axis=1)
        k_taps = kh * kw * icg
    b = rng.integers(-30000, 30000, oc) if bias else None
    m, s = rescale(rng, mode, oc if per_channel else 1, k_taps)
    rq = requant_block_arrays(m, s, b, in_zp, sums)
    nout = n * oh * ow * oc
    assert nout <= 65536
    fn = "depthwise_conv2d" if depthwise else "conv2d"
    body = (carr("int8_t", "x", x) + carr("int8_t", "w_ref", wt) + carr("int8_t", "w_pk", packed)
            + (carr("int32_t", "bias", b) if bias else "") + carr("int32_t", "mult", m) + carr("int32_t", "shift", s)
            + carr("int32_t", "rq", rq)
            + f"    const hhbc_tensor tin = {tensor('x', (n, h, w, c))};\n"
            + f"    const hhbc_tensor tref = {tensor('y_ref', (n, oh, ow, oc))};\n"
            + f"    const hhbc_tensor tvec = {tensor('y_vec', (n, oh, ow, oc))};\n"
            + f"    hhbc_conv2d_i8_params p = {{.weight = w_ref, .bias = {'bias' if bias else 'NULL'}, "
            + f".multiplier = mult, .shift = shift, .per_channel = {int(per_channel)}, .kernel_h = {kh}, "
            + f".kernel_w = {kw}, .stride_h = {sh}, .stride_w = {sw}, .dilation_h = {dh}, .dilation_w = {dw}, "
            + f".pad_top = {pt}, .pad_left = {pl}, .groups = {groups}, .input_zp = {in_zp}, "
            + f".output_zp = {out_zp}, .act_min = {act[0]}, .act_max = {act[1]}, .scale = NULL}};\n"
            + f"    prep({nout});\n    hhbc_{fn}_i8(&tin, &tref, &p);\n"
            + "    p.weight = w_pk;\n    p.multiplier = rq;\n"
            + f"    hhbc_{fn}_i8_c906(&tin, &tvec, &p);\n    report(name, {nout});\n")
    label = (f"{fn}_{n}x{h}x{w}x{c}_oc{oc}_k{kh}x{kw}_s{sh}x{sw}_d{dh}x{dw}_p{pt},{pl},{pb},{pr}_g{groups}"
             f"_pc{int(per_channel)}_{mode}_zp{in_zp},{out_zp}_a{act[0]},{act[1]}_b{int(bias)}")
    prog.case(label, body)


def test_conv2d_i8(tmp_path):
    rng = np.random.default_rng(906)
    prog = Program(tmp_path, "conv", [C906 / "conv2d_i8.c", REF / "conv2d_i8.c"])
    for oc in CHANNELS:   # pointwise, every strip tail, both tile tails (odd/even pixel counts)
        conv_case(prog, rng, False, 1, 3, 5, 8, oc, 1, 1)
        conv_case(prog, rng, False, 1, 2, 2, 3, oc, 1, 1, per_channel=False, mode="tie")
    for c in CHANNELS:
        conv_case(prog, rng, False, 1, 5, 4, c, 17, 3, 3, pt=1, pl=1, pb=1, pr=1)
    for mode in ("real", "tie", "left", "sat"):
        for pc in (True, False):
            conv_case(prog, rng, False, 1, 6, 5, 7, 33, 3, 3, 2, 2, pt=1, pl=1, pb=1, pr=1, per_channel=pc,
                      mode=mode)
    # KWS's first layer: 10x4 kernel, one input channel, stride 2, asymmetric padding
    conv_case(prog, rng, False, 1, 13, 6, 1, 64, 10, 4, 2, 2, pt=4, pl=1, pb=5, pr=1, act=(-128, 127))
    conv_case(prog, rng, False, 2, 7, 7, 3, 7, 3, 2, 1, 2, 2, 1, pt=2, pl=0, pb=1, pr=1)   # batch, dilation
    conv_case(prog, rng, False, 1, 4, 4, 6, 9, 3, 3, pt=1, pl=1, pb=1, pr=1, groups=3)   # groups
    conv_case(prog, rng, False, 1, 4, 4, 4, 34, 3, 3, pt=1, pl=1, pb=1, pr=1, groups=2, bias=False)
    # patches longer than the kernel's 2048-byte buffer: the tap-by-tap path
    conv_case(prog, rng, False, 1, 3, 4, 240, 5, 3, 3, pt=1, pl=1, pb=1, pr=0)
    conv_case(prog, rng, False, 1, 2, 2, 2100, 3, 1, 1, mode="tie")
    for zp in (-128, 127):   # zero points at the extremes, activations (ReLU, ReLU6-like, narrow)
        conv_case(prog, rng, False, 1, 5, 5, 5, 17, 3, 3, pt=1, pl=1, pb=1, pr=1, in_zp=zp, out_zp=-128 if zp < 0 else 127)
        conv_case(prog, rng, False, 1, 5, 5, 5, 17, 3, 3, 2, 2, pt=1, pl=1, pb=1, pr=1, in_zp=zp, act=(-128, 0))
        conv_case(prog, rng, False, 1, 5, 5, 5, 17, 1, 1, in_zp=zp, act=(-10, 90), mode="sat")
    prog.check()


def test_depthwise_conv2d_i8(tmp_path):
    rng = np.random.default_rng(907)
    prog = Program(tmp_path, "dw", [C906 / "depthwise_conv2d_i8.c", REF / "depthwise_conv2d_i8.c"])
    for c in CHANNELS:
        conv_case(prog, rng, True, 1, 5, 4, c, c, 3, 3, pt=1, pl=1, pb=1, pr=1)
        conv_case(prog, rng, True, 1, 6, 5, c, c, 3, 3, 2, 2, pt=1, pl=1, pb=0, pr=1, per_channel=False, mode="tie")
    for mode in ("real", "tie", "left", "sat"):
        conv_case(prog, rng, True, 1, 6, 6, 70, 70, 3, 3, 2, 1, pt=1, pl=1, pb=1, pr=1, mode=mode)
    conv_case(prog, rng, True, 2, 7, 6, 9, 9, 3, 3, 1, 1, 2, 2, pt=2, pl=2, pb=2, pr=2)   # batch, dilation
    conv_case(prog, rng, True, 1, 25, 5, 64, 64, 3, 3, pt=1, pl=1, pb=1, pr=1)           # KWS's shape
    conv_case(prog, rng, True, 1, 5, 5, 17, 17, 5, 2, 2, 2, pt=2, pl=0, pb=2, pr=1, bias=False)
    for zp in (-128, 127):
        conv_case(prog, rng, True, 1, 5, 5, 33, 33, 3, 3, pt=1, pl=1, pb=1, pr=1, in_zp=zp, out_zp=zp)
        conv_case(prog, rng, True, 1, 5, 5, 33, 33, 3, 3, pt=1, pl=1, pb=1, pr=1, in_zp=zp, act=(0, 127),
                  mode="sat")
    prog.check()


def dense_case(prog: Program, rng, m, k, n, flavour="qm", per_channel=True, bias=True, act=(-128, 127),
               in_zp=None, mode="real"):
    in_zp = int(rng.integers(-128, 128)) if in_zp is None else in_zp
    out_zp = int(rng.integers(-20, 21))
    x = rng.integers(-128, 128, (m, k))
    w = rng.integers(-127, 128, (n, k))
    b = rng.integers(-30000, 30000, n)
    cnt = n if per_channel else 1
    mult, shift = rescale(rng, mode, cnt, k)
    reals = rng.uniform(0.3, 3.0, cnt) / (k * 128.0) * 64
    if mode == "tie":   # exact halves for the double path as well
        reals = np.full(cnt, 0.5)
    body = (carr("int8_t", "x", x) + carr("int8_t", "w_ref", w) + carr("int8_t", "w_pk", w.T)
            + carr("int32_t", "bias", b) + carr("int32_t", "mult", mult) + carr("int32_t", "shift", shift)
            + carr("double", "real", reals) + carr("float", "fscale", reals)
            + f"    const hhbc_tensor tin = {tensor('x', (m, k))};\n"
            + f"    const hhbc_tensor tref = {tensor('y_ref', (m, n))};\n"
            + f"    const hhbc_tensor tvec = {tensor('y_vec', (m, n))};\n"
            + f"    hhbc_dense_i8_params p = {{.weight = w_ref, .bias = {'bias' if bias else 'NULL'}, "
            + ".multiplier = mult, .shift = shift, "
            + f".real_scale = {'real' if flavour == 'real' else 'NULL'}, .per_channel = {int(per_channel)}, "
            + f".m = {m}, .n = {n}, .k = {k}, .input_zp = {in_zp}, .output_zp = {out_zp}, "
            + f".act_min = {act[0]}, .act_max = {act[1]}, .scale = {'fscale' if flavour == 'onnx' else 'NULL'}}};\n"
            + "    (void)real; (void)fscale;\n"
            + f"    prep({m * n});\n    hhbc_dense_i8(&tin, &tref, &p);\n    p.weight = w_pk;\n"
            + f"    hhbc_dense_i8_c906(&tin, &tvec, &p);\n    report(name, {m * n});\n")
    prog.case(f"dense_{m}x{k}x{n}_{flavour}_pc{int(per_channel)}_b{int(bias)}_a{act[0]},{act[1]}_zp{in_zp}_{mode}",
              body)


def test_dense_i8(tmp_path):
    rng = np.random.default_rng(908)
    prog = Program(tmp_path, "dense", [C906 / "dense_i8.c", REF / "dense_i8.c"])
    for n in CHANNELS:
        for flavour in ("qm", "real", "onnx"):
            dense_case(prog, rng, 2, 19, n, flavour)
    dense_case(prog, rng, 1, 64, 12, "real", per_channel=False)   # KWS's classifier
    dense_case(prog, rng, 3, 70, 40, "qm", bias=False, act=(-128, 0))
    for mode in ("tie", "left", "sat"):
        dense_case(prog, rng, 2, 9, 33, "qm", mode=mode, in_zp=127)
        dense_case(prog, rng, 2, 9, 17, "real", mode=mode, in_zp=-128)
    prog.check()


def pool_case(prog: Program, rng, kind, n, h, w, c, kh, kw, sh, sw, pt=0, pl=0, pb=0, pr=0, act=(-128, 127),
              lo=-128, hi=127):
    oh, ow = out_size(h, kh, sh, 1, pt, pb), out_size(w, kw, sw, 1, pl, pr)
    x = rng.integers(lo, hi + 1, (n, h, w, c))
    nout = n * oh * ow * c
    body = (carr("int8_t", "x", x)
            + f"    const hhbc_tensor tin = {tensor('x', (n, h, w, c))};\n"
            + f"    const hhbc_tensor tref = {tensor('y_ref', (n, oh, ow, c))};\n"
            + f"    const hhbc_tensor tvec = {tensor('y_vec', (n, oh, ow, c))};\n"
            + f"    const hhbc_pool2d_i8_params p = {{.kind = HHBC_POOL_{kind.upper()}, .kernel_h = {kh}, "
            + f".kernel_w = {kw}, .stride_h = {sh}, .stride_w = {sw}, .pad_top = {pt}, .pad_left = {pl}, "
            + f".act_min = {act[0]}, .act_max = {act[1]}, .rounding = HHBC_POOL_TFLITE}};\n"
            + f"    prep({nout});\n    hhbc_pool2d_i8(&tin, &tref, &p);\n"
            + f"    hhbc_pool2d_i8_c906(&tin, &tvec, &p);\n    report(name, {nout});\n")
    prog.case(f"pool_{kind}_{n}x{h}x{w}x{c}_k{kh}x{kw}_s{sh}x{sw}_p{pt},{pl},{pb},{pr}_a{act[0]},{act[1]}_x{lo},{hi}",
              body)


def test_pool2d_i8(tmp_path):
    rng = np.random.default_rng(909)
    prog = Program(tmp_path, "pool", [C906 / "pool2d_i8.c", REF / "pool2d_i8.c"])
    for kind in ("max", "avg"):
        for c in CHANNELS:
            pool_case(prog, rng, kind, 1, 5, 6, c, 2, 2, 2, 2)
            pool_case(prog, rng, kind, 1, 5, 5, c, 3, 3, 1, 1, 1, 1, 1, 1)   # clipped windows
        pool_case(prog, rng, kind, 2, 7, 6, 70, 3, 2, 2, 1, 1, 0, 1, 1, act=(-20, 60))
        pool_case(prog, rng, kind, 1, 25, 5, 64, 25, 5, 1, 1)   # KWS's global average
        pool_case(prog, rng, kind, 1, 4, 4, 17, 2, 2, 2, 2, lo=-128, hi=-120)   # all negative: ties
        pool_case(prog, rng, kind, 1, 4, 4, 17, 2, 2, 2, 2, lo=120, hi=127)
        pool_case(prog, rng, kind, 1, 6, 6, 130, 3, 3, 3, 3)   # e8 strips: 64-lane tail
    prog.check()


def add_case(prog: Program, rng, a_shape, b_shape, sub=False, act=(-128, 127), scales=None):
    from hhbc.lower.from_relax import broadcast_strides

    out_shape = np.broadcast_shapes(a_shape, b_shape)
    sa, sb, so = scales if scales else rng.uniform(0.01, 0.2, 3)
    q = fp.add_params(float(sa), float(sb), float(so))
    a = rng.integers(-128, 128, a_shape)
    b = rng.integers(-128, 128, b_shape)
    a_zp, b_zp, o_zp = (int(v) for v in rng.integers(-128, 128, 3))
    nd = len(out_shape)
    nout = int(np.prod(out_shape))

    def ints(v):
        return "{" + ", ".join(str(int(t)) for t in v) + "}"
    body = (carr("int8_t", "a", a) + carr("int8_t", "b", b)
            + f"    const hhbc_tensor ta = {tensor('a', a_shape)};\n"
            + f"    const hhbc_tensor tb = {tensor('b', b_shape)};\n"
            + f"    const hhbc_tensor tref = {tensor('y_ref', out_shape)};\n"
            + f"    const hhbc_tensor tvec = {tensor('y_vec', out_shape)};\n"
            + f"    const hhbc_add_i8_params p = {{.shape = {{.ndim = {nd}, .out_dim = {ints(out_shape)}, "
            + f".a_stride = {ints(broadcast_strides(a_shape, out_shape))}, "
            + f".b_stride = {ints(broadcast_strides(b_shape, out_shape))}}}, .left_shift = {q.left_shift}, "
            + f".a_zp = {a_zp}, .a_multiplier = {q.a_multiplier}, .a_shift = {q.a_shift}, "
            + f".b_zp = {b_zp}, .b_multiplier = {q.b_multiplier}, .b_shift = {q.b_shift}, "
            + f".output_zp = {o_zp}, .output_multiplier = {q.output_multiplier}, .output_shift = {q.output_shift}, "
            + f".act_min = {act[0]}, .act_max = {act[1]}, .sub = {int(sub)}}};\n"
            + f"    prep({nout});\n    hhbc_add_i8(&ta, &tb, &tref, &p);\n"
            + f"    hhbc_add_i8_c906(&ta, &tb, &tvec, &p);\n    report(name, {nout});\n")
    prog.case(f"{'sub' if sub else 'add'}_{'x'.join(map(str, a_shape))}_{'x'.join(map(str, b_shape))}"
              f"_a{act[0]},{act[1]}_s{sa:.4f},{sb:.4f},{so:.4f}", body)


def test_add_i8(tmp_path):
    rng = np.random.default_rng(910)
    prog = Program(tmp_path, "add", [C906 / "add_i8.c", REF / "add_i8.c"])
    for c in CHANNELS:
        add_case(prog, rng, (1, 3, 2, c), (1, 3, 2, c))
        add_case(prog, rng, (1, 3, 2, c), (c,), sub=True)     # per-channel broadcast
        add_case(prog, rng, (2, 1, c), (1, 3, 1))             # both broadcast, stride-0 rows
    add_case(prog, rng, (4, 70), (4, 70), act=(0, 127))
    add_case(prog, rng, (4, 70), (4, 70), act=(-128, 5), sub=True)
    add_case(prog, rng, (3, 40), (3, 40), scales=(0.5, 0.5, 0.25))    # power-of-two ratios: ties
    add_case(prog, rng, (3, 40), (3, 40), scales=(0.1, 0.1, 0.001))   # saturating
    add_case(prog, rng, (3, 40), (3, 40), scales=(0.02, 0.5, 0.011))
    prog.check()
