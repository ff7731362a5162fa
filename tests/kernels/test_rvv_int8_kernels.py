"""Bit-exact tests of the rvv int8 kernels (hhbc/kernels/rvv/*_i8.c) and their requantization
helpers (hhbc_rvv_i8.h) against the reference int8 kernels and hhbc_fixedpoint.h, under QEMU.

One C program holds every case (one QEMU run per cpu). Python draws the data (numpy, fixed seed)
and packs the constants with the real packers of hhbc/codegen/packing_i8.py (weights layout, input
zero point folded into the bias); the program runs ref and rvv kernels on them and compares the
outputs byte for byte, with a guard zone behind each output that must stay untouched.
Kernels: conv2d (k x k and 1x1), depthwise, dense, pool2d, add/sub (broadcasting).
Cases: channel counts 1, 3, 7, 17, 33, 65; strides 1 and 2; padding; dilation; per-channel and
per-tensor weights; input zero points at the extremes; every fused activation range; the ONNX float
flavour; dense's double real_scale; multipliers and shifts that make rounding ties and saturation.
CPUs: c908v and rv64 with VLEN 128, 256 and 512.
"""

from __future__ import annotations


import numpy as np
import pytest
from c_harness import VECTOR_KERNEL_MARKS
from rvv_case_program import CHECK_C, CPUS, OUT_BYTES, build_case_program, run_case_program

from hhbc.codegen.packing_i8 import as_i16_bytes, conv_i8_kkio, conv_i8_wsum, depthwise_i8_wsum, fold_zero_point
from hhbc.quantize.fixedpoint import add_params



pytestmark = VECTOR_KERNEL_MARKS

# fused activation clamps in the output's quantized domain: none, ReLU-like, ReLU6-like, narrow
CLAMPS = [(-128, 127), (-5, 127), (-20, 60), (3, 9)]

PRELUDE = r"""
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "hhbc_kernels_i8.h"
#include "hhbc_fixedpoint.h"
#include "hhbc_rvv_i8.h"

void hhbc_conv2d_i8_rvv(const hhbc_tensor *, const hhbc_tensor *, const hhbc_conv2d_i8_params *);
void hhbc_depthwise_conv2d_i8_rvv(const hhbc_tensor *, const hhbc_tensor *, const hhbc_conv2d_i8_params *);
void hhbc_dense_i8_rvv(const hhbc_tensor *, const hhbc_tensor *, const hhbc_dense_i8_params *);
void hhbc_pool2d_i8_rvv(const hhbc_tensor *, const hhbc_tensor *, const hhbc_pool2d_i8_params *);
void hhbc_add_i8_rvv(const hhbc_tensor *, const hhbc_tensor *, const hhbc_tensor *, const hhbc_add_i8_params *);

""" + CHECK_C + r"""
/* the vector requantization against hhbc_fp_mul_by_qm / hhbc_fp_requant_f32, lane by lane */
static void rq_case(const char *label, const int32_t *x, const int32_t *mult, const int32_t *shift,
                    const float *scale, int32_t n)
{
    int32_t out[512], ref[512];
    size_t vl;
    for (int32_t i = 0; i < n; i += (int32_t)vl) {
        vl = __riscv_vsetvl_e32m4((size_t)(n - i));
        vint32m4_t v = __riscv_vle32_v_i32m4(x + i, vl);
        vint32m4_t r = scale
            ? hhbc_rvv_requant_f32_vv_i32m4(v, __riscv_vle32_v_f32m4(scale + i, vl), 3, -128, 127, vl)
            : hhbc_rvv_mul_by_qm_vv_i32m4(v, __riscv_vle32_v_i32m4(mult + i, vl),
                                          __riscv_vle32_v_i32m4(shift + i, vl), vl);
        __riscv_vse32_v_i32m4(out + i, r, vl);
    }
    for (int32_t i = 0; i < n; i++)
        ref[i] = scale ? hhbc_fp_requant_f32(x[i], scale[i], 3, -128, 127)
                       : hhbc_fp_mul_by_qm(x[i], mult[i], shift[i]);
    /* per-tensor form: each lane alone, scalar multiplier and shift */
    int32_t out1[512];
    for (int32_t i = 0; i < n && !scale; i++) {
        vint32m1_t v = __riscv_vmv_v_x_i32m1(x[i], 1);
        __riscv_vse32_v_i32m1(out1 + i, hhbc_rvv_mul_by_qm_vx_i32m1(v, mult[i], shift[i], 1), 1);
    }
    int bad = 0;
    for (int32_t i = 0; i < n; i++) {
        if (out[i] != ref[i] || (!scale && out1[i] != ref[i])) {
            if (bad < 4)
                printf("  %s lane %d: x=%d m=%d s=%d got %d / %d want %d\n", label, (int)i, (int)x[i],
                       mult ? (int)mult[i] : 0, shift ? (int)shift[i] : 0, (int)out[i],
                       scale ? 0 : (int)out1[i], (int)ref[i]);
            bad++;
        }
    }
    if (bad) failures++;
    printf("%s %s n=%d bad=%d\n", bad ? "FAIL" : "PASS", label, (int)n, bad);
}
"""


def carr(name: str, ctype: str, a) -> str:
    a = np.asarray(a).reshape(-1)
    if a.size == 0:
        a = np.zeros(1)
    if ctype in ("float", "double"):
        vals = ", ".join((float(np.float32(v)).hex() + "f") if ctype == "float" else float(v).hex() for v in a)
    else:
        vals = ", ".join(str(int(v)) for v in a)
    return f"static const {ctype} {name}[{a.size}] __attribute__((aligned(16))) = {{{vals}}};"  # aligned as weights.c


class Program:
    def __init__(self):
        self.decls: list[str] = []
        self.calls: list[str] = []
        self.n = 0

    def arr(self, ctype: str, a) -> str:
        self.n += 1
        name = f"d{self.n}"
        self.decls.append(carr(name, ctype, a))
        return name


def quant_params(rng, oc: int, per_channel: bool, special: str):
    """multiplier, shift arrays (length oc or 1) drawn to hit ties/saturation as asked."""
    n = oc if per_channel else 1
    if special == "ties":   # 0.5 * 2^shift: srdhm and rdbpot ties on every odd sum
        mult = np.full(n, 1 << 30, dtype=np.int64)
        shift = rng.integers(-4, 1, n)
    elif special == "sat":  # large left shifts: wrapping shift and clamping
        mult = rng.integers(1 << 30, (1 << 31) - 1, n)
        shift = rng.integers(2, 9, n)
    else:
        mult = rng.integers(1 << 30, (1 << 31) - 1, n)
        shift = rng.integers(-11, -5, n)
    return mult, shift


def out_size(n, k, s, d, pb, pa):
    return (n + pb + pa - d * (k - 1) - 1) // s + 1


def conv_case(prog: Program, rng, label: str, kind: str, n, h, w, c, oc, k, s, d, pad, per_channel=True,
              zp=None, clamp=(-128, 127), special="", onnx=False, bias=True):
    kh, kw = k
    pt, pl, pb, pr = pad
    oh, ow = out_size(h, kh, s[0], d[0], pt, pb), out_size(w, kw, s[1], d[1], pl, pr)
    zp = int(rng.integers(-128, 128)) if zp is None else zp
    zp = zp if bias else 0   # no bias constant: the kernels take the node only when there is nothing to fold
    x = rng.integers(-128, 128, (n, h, w, c))
    if kind == "depthwise":
        wt = rng.integers(-127, 128, (kh, kw, oc))
        wsum, packed_w = depthwise_i8_wsum(wt), as_i16_bytes(wt)
    else:
        wt = rng.integers(-127, 128, (oc, kh, kw, c))
        wsum, packed_w = conv_i8_wsum(wt), as_i16_bytes(conv_i8_kkio(wt))
    b = rng.integers(-(1 << 14), 1 << 14, oc) if bias else None
    if bias and special == "sat":
        b = rng.integers(-(1 << 30), 1 << 30, oc)
    mult, shift = quant_params(rng, oc, per_channel, special)
    scale = rng.uniform(1e-4, 2e-2, oc if per_channel else 1).astype(np.float32) if onnx else None
    fb = fold_zero_point(b, wsum, zp) if bias else None
    out_n = n * oh * ow * oc
    assert out_n <= OUT_BYTES
    a = {key: prog.arr(t, v) for key, t, v in (
        ("x", "int8_t", x), ("w", "int8_t", wt), ("pw", "int8_t", packed_w), ("m", "int32_t", mult),
        ("s", "int32_t", shift))}
    bias_c = prog.arr("int32_t", b) if bias else "NULL"
    fbias_c = prog.arr("int32_t", fb) if bias else "NULL"
    scale_c = prog.arr("float", scale) if onnx else "NULL"
    fn = "hhbc_depthwise_conv2d_i8" if kind == "depthwise" else "hhbc_conv2d_i8"
    prog.calls.append(f"""{{
        hhbc_tensor ti = {{(void *){a['x']}, {{{n}, {h}, {w}, {c}}}, 4}};
        hhbc_tensor tr = {{want, {{{n}, {oh}, {ow}, {oc}}}, 4}}, tg = {{got, {{{n}, {oh}, {ow}, {oc}}}, 4}};
        hhbc_conv2d_i8_params p = {{.weight = {a['w']}, .bias = {bias_c}, .multiplier = {a['m']}, .shift = {a['s']},
            .per_channel = {int(per_channel)}, .kernel_h = {kh}, .kernel_w = {kw}, .stride_h = {s[0]}, .stride_w = {s[1]},
            .dilation_h = {d[0]}, .dilation_w = {d[1]}, .pad_top = {pt}, .pad_left = {pl}, .groups = 1,
            .input_zp = {zp}, .output_zp = {int(rng.integers(-128, 128))}, .act_min = {clamp[0]}, .act_max = {clamp[1]},
            .scale = {scale_c}}};
        prepare({out_n});
        {fn}(&ti, &tr, &p);
        p.weight = {a['pw']};
        p.bias = {fbias_c};
        {fn}_rvv(&ti, &tg, &p);
        check("{label}", {out_n});
    }}""")


def dense_case(prog: Program, rng, label, m, nn, k, per_channel=True, zp=None, clamp=(-128, 127), mode="qm",
               special="", bias=True):
    zp = int(rng.integers(-128, 128)) if zp is None else zp
    zp = zp if bias else 0   # no bias constant: the kernels take the node only when there is nothing to fold
    x = rng.integers(-128, 128, (m, k))
    wt = rng.integers(-127, 128, (nn, k))
    b = rng.integers(-(1 << 14), 1 << 14, nn) if bias else None
    mult, shift = quant_params(rng, nn, per_channel, special)
    cnt = nn if per_channel else 1
    real = rng.uniform(1e-4, 2e-2, cnt) if mode == "real" else None
    if mode == "real" and special == "ties":   # x.5 products: real_scale 1/2^k
        real = 2.0 ** -rng.integers(1, 5, cnt)
    scale = rng.uniform(1e-4, 2e-2, cnt).astype(np.float32) if mode == "onnx" else None
    fb = fold_zero_point(b, wt.astype(np.int64).sum(axis=1), zp) if bias else None
    a = {key: prog.arr(t, v) for key, t, v in (
        ("x", "int8_t", x), ("w", "int8_t", wt), ("pw", "int8_t", as_i16_bytes(wt.T)),
        ("m", "int32_t", mult), ("s", "int32_t", shift))}
    bias_c = prog.arr("int32_t", b) if bias else "NULL"
    fbias_c = prog.arr("int32_t", fb) if bias else "NULL"
    real_c = prog.arr("double", real) if real is not None else "NULL"
    scale_c = prog.arr("float", scale) if scale is not None else "NULL"
    prog.calls.append(f"""{{
        hhbc_tensor ti = {{(void *){a['x']}, {{{m}, {k}}}, 2}};
        hhbc_tensor tr = {{want, {{{m}, {nn}}}, 2}}, tg = {{got, {{{m}, {nn}}}, 2}};
        hhbc_dense_i8_params p = {{.weight = {a['w']}, .bias = {bias_c}, .multiplier = {a['m']}, .shift = {a['s']},
            .real_scale = {real_c}, .per_channel = {int(per_channel)}, .m = {m}, .n = {nn}, .k = {k},
            .input_zp = {zp}, .output_zp = {int(rng.integers(-128, 128))}, .act_min = {clamp[0]}, .act_max = {clamp[1]},
            .scale = {scale_c}}};
        prepare({m * nn});
        hhbc_dense_i8(&ti, &tr, &p);
        p.weight = {a['pw']};
        p.bias = {fbias_c};
        hhbc_dense_i8_rvv(&ti, &tg, &p);
        check("{label}", {m * nn});
    }}""")


def pool_case(prog: Program, rng, label, kind, n, h, w, c, k, s, pad, rounding="TFLITE", clamp=(-128, 127)):
    kh, kw = k
    pt, pl, pb, pr = pad
    oh, ow = out_size(h, kh, s[0], 1, pt, pb), out_size(w, kw, s[1], 1, pl, pr)
    x = rng.integers(-128, 128, (n, h, w, c))
    xa = prog.arr("int8_t", x)
    out_n = n * oh * ow * c
    scale = float(np.float32(rng.uniform(0.3, 1.5) / (kh * kw)))
    prog.calls.append(f"""{{
        hhbc_tensor ti = {{(void *){xa}, {{{n}, {h}, {w}, {c}}}, 4}};
        hhbc_tensor tr = {{want, {{{n}, {oh}, {ow}, {c}}}, 4}}, tg = {{got, {{{n}, {oh}, {ow}, {c}}}, 4}};
        hhbc_pool2d_i8_params p = {{.kind = HHBC_POOL_{kind}, .kernel_h = {kh}, .kernel_w = {kw}, .stride_h = {s[0]},
            .stride_w = {s[1]}, .pad_top = {pt}, .pad_left = {pl}, .act_min = {clamp[0]}, .act_max = {clamp[1]},
            .rounding = HHBC_POOL_{rounding}, .input_zp = {int(rng.integers(-128, 128))},
            .output_zp = {int(rng.integers(-128, 128))}, .scale = {float(scale).hex()}f}};
        prepare({out_n});
        hhbc_pool2d_i8(&ti, &tr, &p);
        hhbc_pool2d_i8_rvv(&ti, &tg, &p);
        check("{label}", {out_n});
    }}""")


def add_case(prog: Program, rng, label, out_shape, a_shape, b_shape, scales, clamp=(-128, 127), sub=False):
    """ADD / SUB with numpy broadcasting; multipliers and shifts from TFLite's own preparation."""
    ap = add_params(*scales)
    nd = len(out_shape)

    def strides(shape):
        shape = (1,) * (nd - len(shape)) + tuple(shape)
        st, acc = [0] * nd, 1
        for d in range(nd - 1, -1, -1):
            st[d] = 0 if shape[d] == 1 and out_shape[d] != 1 else acc
            acc *= shape[d]
        return st

    a = rng.integers(-128, 128, a_shape)
    b = rng.integers(-128, 128, b_shape)
    xa, xb = prog.arr("int8_t", a), prog.arr("int8_t", b)
    n = int(np.prod(out_shape))
    ints = lambda v: "{" + ", ".join(str(int(x)) for x in v) + "}"   # noqa: E731
    prog.calls.append(f"""{{
        hhbc_tensor ta = {{(void *){xa}, {ints(a_shape)}, {len(a_shape)}}}, tb = {{(void *){xb}, {ints(b_shape)}, {len(b_shape)}}};
        hhbc_tensor tr = {{want, {ints(out_shape)}, {nd}}}, tg = {{got, {ints(out_shape)}, {nd}}};
        hhbc_add_i8_params p = {{.shape = {{.ndim = {nd}, .out_dim = {ints(out_shape)}, .a_stride = {ints(strides(a_shape))},
            .b_stride = {ints(strides(b_shape))}}}, .left_shift = {ap.left_shift},
            .a_zp = {int(rng.integers(-128, 128))}, .a_multiplier = {ap.a_multiplier}, .a_shift = {ap.a_shift},
            .b_zp = {int(rng.integers(-128, 128))}, .b_multiplier = {ap.b_multiplier}, .b_shift = {ap.b_shift},
            .output_zp = {int(rng.integers(-128, 128))}, .output_multiplier = {ap.output_multiplier},
            .output_shift = {ap.output_shift}, .act_min = {clamp[0]}, .act_max = {clamp[1]}, .sub = {int(sub)}}};
        prepare({n});
        hhbc_add_i8(&ta, &tb, &tr, &p);
        hhbc_add_i8_rvv(&ta, &tb, &tg, &p);
        check("{label}", {n});
    }}""")


def rq_cases(prog: Program, rng):
    """the requantization helpers alone: ties of srdhm and rdbpot of both signs, extremes, saturation."""
    imin, imax = -(1 << 31), (1 << 31) - 1
    xs, ms, ss = [], [], []
    for x in (imin, imin + 1, imax, imax - 1, 0, 1, -1, 2, -2, 3, -3, 1 << 30, -(1 << 30)):
        for m, sh in (((1 << 30), 0), ((1 << 30), -1), ((1 << 30), -2), ((1 << 31) - 1, 0), ((1 << 31) - 1, -31),
                      ((1 << 30), 3), ((1 << 31) - 1, 30), (1518500250, -5), (0, 0)):
            xs.append(x)
            ms.append(m)
            ss.append(sh)
    # exact ties: x * m = (k + 1/2) * 2^31 (srdhm), and x = (k + 1/2) * 2^e (rdbpot), both signs
    for _ in range(40):
        e = int(rng.integers(1, 12))
        k = int(rng.integers(-5000, 5000))
        xs.append((2 * k + 1) << (e - 1))
        ms.append(1 << 30)
        ss.append(0)
        xs.append((2 * k + 1) << (e - 1))
        ms.append((1 << 31) - 1 if e > 20 else 1 << 30)
        ss.append(-e)
    for _ in range(80):
        xs.append(int(rng.integers(imin, imax, endpoint=True)))
        ms.append(int(rng.integers(1 << 30, 1 << 31)))
        ss.append(int(rng.integers(-31, 8)))
    n = len(xs)
    assert n <= 512
    xa, ma, sa = prog.arr("int32_t", xs), prog.arr("int32_t", ms), prog.arr("int32_t", ss)
    prog.calls.append(f'rq_case("requant_tflite", {xa}, {ma}, {sa}, NULL, {n});')
    # ONNX float flavour: halves of the rounding grid after the float multiply, range clamp
    acc = list(rng.integers(-200000, 200000, 120)) + [1, -1, 3, -3, 5, -5, 7, -7, imin, imax]
    sc = list(rng.uniform(1e-5, 1e-2, 120).astype(np.float32)) + [0.5] * 8 + [1e-3, 1e-3]
    prog.calls.append(f'rq_case("requant_onnx", {prog.arr("int32_t", acc)}, NULL, NULL, '
                      f'{prog.arr("float", sc)}, {len(acc)});')


def all_cases() -> Program:
    rng = np.random.default_rng(20261205)
    prog = Program()
    rq_cases(prog, rng)
    i = 0

    def nxt():
        nonlocal i
        i += 1
        return i

    # pointwise (1x1) and k x k convolution
    for c in (1, 3, 7, 17, 33, 65):
        for oc in (1, 3, 17, 33, 65):
            j = nxt()
            conv_case(prog, rng, f"conv1x1_c{c}_oc{oc}_{j}", "conv", 1, 3, 5, c, oc, (1, 1), (1, 1), (1, 1), (0, 0, 0, 0),
                      per_channel=j % 3 != 0, zp=(-128, 127, None)[j % 3], clamp=CLAMPS[j % 4],
                      special=("", "ties", "sat", "")[j % 4], onnx=j % 5 == 4)
    for c in (1, 3, 7, 17, 33):
        for oc in (3, 17, 33, 65):
            for s in (1, 2):
                j = nxt()
                conv_case(prog, rng, f"conv3x3_c{c}_oc{oc}_s{s}_{j}", "conv", 1, 7, 6, c, oc, (3, 3), (s, s), (1, 1),
                          (1, 1, 1, 1), per_channel=j % 4 != 0, zp=(127, -128, None)[j % 3], clamp=CLAMPS[j % 4],
                          special=("ties", "", "sat")[j % 3], onnx=j % 6 == 5, bias=j % 7 != 3)
    # the KWS first layer: 10x4 stride 2, SAME padding, 1 input channel; other windows and dilations
    conv_case(prog, rng, "conv_kws1", "conv", 1, 49, 10, 1, 64, (10, 4), (2, 2), (1, 1), (4, 1, 5, 2))
    conv_case(prog, rng, "conv_kws1_onnx", "conv", 1, 49, 10, 1, 64, (10, 4), (2, 2), (1, 1), (4, 1, 5, 2), onnx=True)
    conv_case(prog, rng, "conv_dil", "conv", 2, 9, 11, 3, 5, (3, 2), (1, 2), (2, 1), (2, 0, 2, 1), clamp=(-20, 60))
    conv_case(prog, rng, "conv_dilw", "conv", 1, 6, 13, 8, 4, (2, 3), (2, 1), (1, 2), (0, 1, 1, 0), special="ties")
    conv_case(prog, rng, "conv_5x5", "conv", 1, 4, 4, 3, 40, (5, 5), (1, 1), (1, 1), (2, 2, 2, 2), zp=-128)
    conv_case(prog, rng, "conv_allpad", "conv", 1, 2, 5, 1, 9, (2, 2), (1, 1), (1, 1), (3, 0, 3, 0), zp=127)
    conv_case(prog, rng, "conv_s2_1x1", "conv", 1, 5, 6, 34, 34, (1, 1), (2, 2), (1, 1), (0, 0, 0, 0))
    conv_case(prog, rng, "conv_batch", "conv", 2, 5, 5, 32, 32, (1, 1), (1, 1), (1, 1), (0, 0, 0, 0), special="sat")
    # padded spans over 3 * HHBC_RVV_I8_PATCH bytes: per-pixel border patches instead of a padded copy
    conv_case(prog, rng, "conv_patch_path", "conv", 1, 40, 40, 8, 3, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1), zp=-128)
    conv_case(prog, rng, "conv_patch_path_dil", "conv", 2, 30, 52, 9, 5, (3, 2), (2, 1), (2, 3), (2, 3, 2, 3),
              special="ties", clamp=(-5, 127))
    # depthwise
    for c in (1, 3, 7, 17, 33, 65, 100):
        for s in (1, 2):
            j = nxt()
            conv_case(prog, rng, f"dw3x3_c{c}_s{s}_{j}", "depthwise", 1, 7, 6, c, c, (3, 3), (s, s), (1, 1),
                      (1, 1, 1, 1), per_channel=j % 4 != 0, zp=(127, -128, None)[j % 3], clamp=CLAMPS[j % 4],
                      special=("ties", "", "sat")[j % 3], onnx=j % 5 == 4, bias=j % 7 != 3)
        j = nxt()
        conv_case(prog, rng, f"dw3x3_valid_c{c}_{j}", "depthwise", 1, 8, 7, c, c, (3, 3), (2, 2), (1, 1), (0, 0, 1, 1),
                  zp=(127, -128)[j % 2], special="ties")
    conv_case(prog, rng, "dw_kws", "depthwise", 1, 25, 5, 64, 64, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1))
    conv_case(prog, rng, "dw_batch", "depthwise", 2, 6, 7, 9, 9, (3, 3), (1, 1), (1, 1), (0, 0, 0, 0))
    conv_case(prog, rng, "dw_5x3_dil", "depthwise", 1, 9, 8, 5, 5, (5, 3), (2, 1), (1, 2), (2, 2, 1, 2), zp=-128)
    conv_case(prog, rng, "dw_dil2", "depthwise", 1, 9, 8, 17, 17, (3, 3), (1, 1), (2, 2), (2, 2, 2, 2), onnx=True)
    conv_case(prog, rng, "dw_tiny", "depthwise", 1, 1, 1, 8, 8, (3, 3), (2, 2), (1, 1), (1, 1, 1, 1), zp=127)
    # bands over HHBC_RVV_DW_BAND bytes (KH * band width * C > 16384): the per-pixel path
    conv_case(prog, rng, "dw_wide_general", "depthwise", 1, 4, 10, 600, 600, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1), zp=-128)
    conv_case(prog, rng, "dw_wide_general_s2", "depthwise", 1, 5, 12, 300, 300, (5, 5), (2, 2), (1, 1), (2, 2, 2, 2),
              onnx=True, clamp=(-20, 60))
    # dense
    for m in (1, 2, 4, 5):
        for nn in (1, 3, 7, 12, 17, 33, 65, 100):
            for k in (1, 3, 32, 33):
                j = nxt()
                dense_case(prog, rng, f"dense_m{m}_n{nn}_k{k}_{j}", m, nn, k, per_channel=j % 3 != 0,
                           zp=(127, -128, None)[j % 3], clamp=CLAMPS[j % 4], mode=("qm", "real", "onnx")[j % 3],
                           special=("ties", "", "sat", "ties", "")[j % 5], bias=j % 7 != 3)
    # pooling
    for c in (1, 3, 17, 33, 65, 130):
        for kind, rounding in (("MAX", "TFLITE"), ("AVG", "TFLITE"), ("AVG", "ONNX_WHOLE")):
            j = nxt()
            pool_case(prog, rng, f"pool_{kind}_{rounding}_c{c}_{j}", kind, 1, 6, 7, c, (3, 3), (2, 2), (1, 1, 1, 1),
                      rounding=rounding, clamp=CLAMPS[j % 4])
    pool_case(prog, rng, "pool_kws_avg", "AVG", 1, 25, 5, 64, (25, 5), (1, 1), (0, 0, 0, 0))
    pool_case(prog, rng, "pool_global_onnx", "AVG", 2, 4, 4, 17, (4, 4), (1, 1), (0, 0, 0, 0), rounding="ONNX_WHOLE")
    pool_case(prog, rng, "pool_max_s1", "MAX", 1, 5, 5, 7, (2, 2), (1, 1), (0, 0, 1, 1), clamp=(3, 9))
    # add / sub: same shapes, per-channel and scalar broadcast, innermost-stride-0 operands
    for c in (1, 3, 17, 33, 65):
        for k, (bshape, scales) in enumerate((((1, 4, 5, c), (0.05, 0.08, 0.1)), ((c,), (0.3, 0.02, 0.07)),
                                               ((1, 4, 5, 1), (0.01, 0.01, 0.005)), ((1,), (0.2, 0.1, 0.25)))):
            j = nxt()
            add_case(prog, rng, f"add_c{c}_{k}_{j}", (1, 4, 5, c), (1, 4, 5, c), bshape, scales,
                     clamp=CLAMPS[j % 4], sub=j % 3 == 2)
    add_case(prog, rng, "add_a_bcast", (2, 3, 4, 9), (2, 1, 4, 1), (2, 3, 4, 9), (0.04, 0.05, 0.02))
    add_case(prog, rng, "add_rank2", (7, 40), (7, 40), (1, 40), (0.1, 0.1, 0.1), sub=True)
    return prog


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("rvv_i8")


@pytest.mark.parametrize("cpu", CPUS)
def test_rvv_int8_kernels(build_dir, cpu):
    prog = all_cases()
    exe, cases = build_case_program(build_dir, "test_rvv_i8", PRELUDE, prog.decls, prog.calls,
                                    ["conv2d_i8.c", "depthwise_conv2d_i8.c", "dense_i8.c", "pool2d_i8.c", "add_i8.c"],
                                    ["conv2d_i8.c", "depthwise_conv2d_i8.c", "pool2d_i8.c", "add_i8.c"])
    run_case_program(exe, cases, cpu)


def test_fold_zero_point_wraps():
    """the fold is bias - zp * sum w modulo 2^32, as the int32 accumulators compute it."""
    b = np.array([(1 << 31) - 1, -(1 << 31), 5], dtype=np.int64)
    wsum = np.array([-1, 1, 0])
    got = fold_zero_point(b, wsum, 1)
    assert got.dtype == np.int32
    assert got.tolist() == [-(1 << 31), (1 << 31) - 1, 5]
    assert fold_zero_point(None, np.array([3]), -128).tolist() == [384]
