"""Bit-exact tests of the rvv int8 elementwise kernels against the reference int8 kernels, under QEMU:
mul_i8 (rvv/mul_i8.c), requantize_i8 (rvv/requantize_i8.c), quantize_i8 and dequantize_i8
(rvv/quantize_i8.c).

One C program holds every case (one QEMU run per cpu); Python draws the data (numpy, fixed seed).
The program runs the ref and rvv kernels on the same inputs and compares the outputs byte for byte
(float outputs too), with a guard zone behind each output that must stay untouched.
Cases: sizes 1, 3, 7, 17, 33, 100 (and longer rows over several strips); zero points -128 and 127;
every clamp; MUL broadcasting with innermost strides 0 and 1 on either side; multipliers that make
rounding ties (1 << 30 with right shifts; x.5 quotients for the float paths) and saturation (left
shifts, huge and non-finite floats, NaN); the TFLite and ONNX flavours of requantize and quantize.
CPUs: c908v and rv64 with VLEN 128, 256 and 512.
"""

from __future__ import annotations


import numpy as np
import pytest
from c_harness import VECTOR_KERNEL_MARKS
from rvv_case_program import CPUS, build_case_program, run_case_program

from hhbc.quantize.fixedpoint import quantize_multiplier

SIZES = (1, 3, 7, 17, 33, 100)
CLAMPS = [(-128, 127), (-5, 127), (-20, 60), (3, 9)]

pytestmark = VECTOR_KERNEL_MARKS

PRELUDE = r"""
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "hhbc_kernels_i8.h"

void hhbc_mul_i8_rvv(const hhbc_tensor *, const hhbc_tensor *, const hhbc_tensor *, const hhbc_mul_i8_params *);
void hhbc_requantize_i8_rvv(const hhbc_tensor *, const hhbc_tensor *, const hhbc_requantize_i8_params *);
void hhbc_quantize_i8_rvv(const hhbc_tensor *, const hhbc_tensor *, const hhbc_affine_i8_params *);
void hhbc_dequantize_i8_rvv(const hhbc_tensor *, const hhbc_tensor *, const hhbc_affine_i8_params *);

#define GUARD 64
static int failures = 0;
static float gotf[1 << 14];    /* float-aligned byte buffers */
static float wantf[1 << 14];
#define got ((int8_t *)gotf)
#define want ((int8_t *)wantf)

/* nbytes of output compared byte for byte; the GUARD bytes behind must keep 0xA5 */
static void check(const char *label, int32_t nbytes)
{
    int32_t bad = -1, nbad = 0;
    for (int32_t i = 0; i < nbytes; i++)
        if (got[i] != want[i]) { if (bad < 0) bad = i; nbad++; }
    int guard_ok = 1;
    for (int32_t i = 0; i < GUARD; i++) if ((uint8_t)got[nbytes + i] != 0xA5) guard_ok = 0;
    if (bad >= 0 || !guard_ok) {
        failures++;
        printf("FAIL %s mismatches=%d first=%d (got %d want %d) guard=%d\n", label, (int)nbad, (int)bad,
               bad >= 0 ? got[bad] : 0, bad >= 0 ? want[bad] : 0, guard_ok);
    } else {
        printf("PASS %s n=%d\n", label, (int)nbytes);
    }
}

static void prepare(int32_t nbytes)
{
    memset(got, 0xA5, (size_t)nbytes + GUARD);
    memset(want, 0, (size_t)nbytes);
}
"""


def ints(v) -> str:
    return "{" + ", ".join(str(int(x)) for x in v) + "}"


class Program:
    def __init__(self):
        self.decls: list[str] = []
        self.calls: list[str] = []

    def arr(self, ctype: str, a) -> str:
        a = np.asarray(a).reshape(-1)
        if a.size == 0:
            a = np.zeros(1, dtype=np.int64)
        name = f"d{len(self.decls) + 1}"
        self.decls.append(f"static const {ctype} {name}[{a.size}] __attribute__((aligned(16))) = "
                          f"{{{', '.join(str(int(v)) for v in a)}}};")
        return name

    def floats(self, a) -> str:
        """float32 values (NaN and infinities too) as their bit patterns"""
        bits = np.asarray(a, dtype=np.float32).reshape(-1).view(np.uint32)
        return self.arr("uint32_t", bits)


def fhex(x: float) -> str:
    return float(np.float32(x)).hex() + "f"


def mul_case(prog: Program, rng, label, out_shape, a_shape, b_shape, zps, mult, shift, clamp):
    nd = len(out_shape)

    def strides(shape):
        shape = (1,) * (nd - len(shape)) + tuple(shape)
        st, acc = [0] * nd, 1
        for d in range(nd - 1, -1, -1):
            st[d] = 0 if shape[d] == 1 and out_shape[d] != 1 else acc
            acc *= shape[d]
        return st

    xa = prog.arr("int8_t", rng.integers(-128, 128, a_shape))
    xb = prog.arr("int8_t", rng.integers(-128, 128, b_shape))
    n = int(np.prod(out_shape))
    assert n + 64 < (1 << 16)
    prog.calls.append(f"""{{
        hhbc_tensor ta = {{(void *){xa}, {ints(a_shape)}, {len(a_shape)}}}, tb = {{(void *){xb}, {ints(b_shape)}, {len(b_shape)}}};
        hhbc_tensor tr = {{want, {ints(out_shape)}, {nd}}}, tg = {{got, {ints(out_shape)}, {nd}}};
        hhbc_mul_i8_params p = {{.shape = {{.ndim = {nd}, .out_dim = {ints(out_shape)}, .a_stride = {ints(strides(a_shape))},
            .b_stride = {ints(strides(b_shape))}}}, .a_zp = {zps[0]}, .b_zp = {zps[1]}, .output_zp = {zps[2]},
            .output_multiplier = {mult}, .output_shift = {shift}, .act_min = {clamp[0]}, .act_max = {clamp[1]}}};
        prepare({n});
        hhbc_mul_i8(&ta, &tb, &tr, &p);
        hhbc_mul_i8_rvv(&ta, &tb, &tg, &p);
        check("{label}", {n});
    }}""")


def requant_case(prog: Program, label, x, izp, ozp, mult, shift, clamp, onnx=False, in_scale=1.0, out_scale=1.0):
    n = len(x)
    xa = prog.arr("int8_t", x)
    prog.calls.append(f"""{{
        hhbc_tensor ti = {{(void *){xa}, {{{n}}}, 1}};
        hhbc_tensor tr = {{want, {{{n}}}, 1}}, tg = {{got, {{{n}}}, 1}};
        hhbc_requantize_i8_params p = {{.rq = {{.input_zp = {izp}, .output_zp = {ozp}, .multiplier = {mult},
            .shift = {shift}}}, .act_min = {clamp[0]}, .act_max = {clamp[1]}, .onnx = {int(onnx)},
            .input_scale = {fhex(in_scale)}, .output_scale = {fhex(out_scale)}}};
        prepare({n});
        hhbc_requantize_i8(&ti, &tr, &p);
        hhbc_requantize_i8_rvv(&ti, &tg, &p);
        check("{label}", {n});
    }}""")


def affine_case(prog: Program, label, kind, x, scale, zp, onnx=False):
    n = len(x)
    xa = prog.floats(x) if kind == "quantize" else prog.arr("int8_t", x)
    nbytes = n if kind == "quantize" else 4 * n
    prog.calls.append(f"""{{
        hhbc_tensor ti = {{(void *){xa}, {{{n}}}, 1}};
        hhbc_tensor tr = {{want, {{{n}}}, 1}}, tg = {{got, {{{n}}}, 1}};
        hhbc_affine_i8_params p = {{.scale = {fhex(scale)}, .zero_point = {zp}, .onnx = {int(onnx)}}};
        prepare({nbytes});
        hhbc_{kind}_i8(&ti, &tr, &p);
        hhbc_{kind}_i8_rvv(&ti, &tg, &p);
        check("{label}", {nbytes});
    }}""")


def mul_cases(prog: Program, rng):
    j = 0
    for c in SIZES:
        for k, (a_shape, b_shape) in enumerate((((1, 2, 3, c), (1, 2, 3, c)),   # both stride 1
                                                 ((1, 2, 3, c), (c,)),           # b per channel
                                                 ((1, 2, 3, c), (1,)),           # b scalar: stride 0
                                                 ((1, 2, 3, 1), (1, 2, 3, c)),   # a stride 0 per row
                                                 ((1, 2, 1, 1), (1, 1, 3, 1)))):  # both stride 0 (c = 1 rows)
            for special in ("", "ties", "sat"):
                j += 1
                if special == "ties":    # 0.5 * 2^shift: every odd product is a tie of srdhm or rdbpot
                    mult, shift = 1 << 30, int(rng.integers(-6, 1))
                elif special == "sat":   # left shifts: saturation (and the wrapping shl of the reference)
                    mult, shift = int(rng.integers(1 << 30, (1 << 31) - 1)), int(rng.integers(1, 18))
                else:
                    mult, shift = quantize_multiplier(float(rng.uniform(0.05, 0.3)) * float(rng.uniform(0.02, 0.3))
                                                      / float(rng.uniform(0.01, 0.2)))
                zps = [(-128, 127, int(rng.integers(-128, 128)))[(j + t) % 3] for t in range(3)]
                out_shape = tuple(max(x, y) for x, y in zip((1,) * (4 - len(a_shape)) + a_shape,
                                                            (1,) * (4 - len(b_shape)) + b_shape))
                mul_case(prog, rng, f"mul_c{c}_{k}_{special or 'rand'}_{j}", out_shape, a_shape, b_shape, zps,
                         mult, shift, CLAMPS[j % 4])
    mul_case(prog, rng, "mul_rank2_long", (5, 300), (5, 300), (1, 300), (3, -7, 11), *quantize_multiplier(0.0123),
             (-128, 127))
    mul_case(prog, rng, "mul_a_bcast", (2, 3, 4, 9), (2, 1, 4, 1), (2, 3, 4, 9), (0, 5, -3),
             *quantize_multiplier(1.7), (-20, 60))
    # rows merged over outer axes along which both operands continue (or stay constant), and not
    for k, (a_shape, b_shape) in enumerate((((2, 3, 4, 9), (1, 3, 4, 9)), ((2, 3, 4, 9), (2, 1, 4, 9)),
                                            ((2, 1, 1, 1), (2, 3, 4, 5)), ((1, 1, 4, 1), (2, 3, 4, 5)),
                                            ((2, 1, 4, 5), (2, 1, 4, 5)), ((3, 1, 1, 7), (1, 5, 2, 1)))):
        out_shape = tuple(max(x, y) for x, y in zip(a_shape, b_shape))
        mul_case(prog, rng, f"mul_merge_{k}", out_shape, a_shape, b_shape, (-128, 127, 4), 1 << 30, -3 - k,
                 CLAMPS[k % 4])


def requant_cases(prog: Program, rng):
    j = 0
    for n in (*SIZES, 1000):
        for mode in ("rand", "ties", "up", "onnx", "onnx_ties"):
            j += 1
            x = rng.integers(-128, 128, n)
            x[: min(n, 2)] = (-128, 127)[: min(n, 2)]
            izp, ozp = (-128, 127, int(rng.integers(-128, 128)))[j % 3], (127, -128, 0)[j % 3]
            mult, shift, in_s, out_s = 0, 0, 1.0, 1.0
            if mode == "rand":
                mult, shift = quantize_multiplier(float(rng.uniform(0.05, 0.95)))
            elif mode == "ties":
                mult, shift = 1 << 30, int(rng.integers(-5, 1))
            elif mode == "up":   # real multiplier > 1: left shift, saturating outputs
                mult, shift = quantize_multiplier(float(rng.uniform(1.5, 300.0)))
            elif mode == "onnx":
                in_s, out_s = float(rng.uniform(0.01, 0.2)), float(rng.uniform(0.01, 0.2))
            else:                # exact halves after the division: ties to even
                in_s, out_s = 0.125, 0.25
            requant_case(prog, f"requant_{mode}_n{n}_{j}", x, izp, ozp, mult, shift, CLAMPS[j % 4],
                         onnx=mode.startswith("onnx"), in_scale=in_s, out_scale=out_s)


def affine_cases(prog: Program, rng):
    j = 0
    specials = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 1e30, -1e30, 3.4e38, -3.4e38], dtype=np.float32)
    for n in (*SIZES, 1000):
        for onnx in (False, True):
            for zp in (-128, 127, int(rng.integers(-128, 128))):
                j += 1
                scale = float(rng.uniform(0.005, 0.2))
                x = rng.uniform(-200, 200, n).astype(np.float32) * np.float32(scale)
                affine_case(prog, f"quant_{'onnx' if onnx else 'tfl'}_n{n}_zp{zp}_{j}", "quantize", x, scale, zp, onnx)
                # ties: (k + 1/2) * scale with a power-of-two scale, the quotient exact; specials in front
                t = ((rng.integers(-300, 300, n) + 0.5) * 0.0625).astype(np.float32)
                t[: min(n, specials.size)] = specials[: min(n, specials.size)]
                affine_case(prog, f"quant_ties_{'onnx' if onnx else 'tfl'}_n{n}_zp{zp}_{j}", "quantize", t, 0.0625,
                            zp, onnx)
            j += 1
            affine_case(prog, f"dequant_n{n}_{j}", "dequantize", rng.integers(-128, 128, n),
                        float(rng.uniform(1e-4, 0.5)), (-128, 127, 0, int(rng.integers(-128, 128)))[j % 4])
    affine_case(prog, "dequant_all_values", "dequantize", np.arange(-128, 128), 0.0372, 127)
    affine_case(prog, "dequant_all_values_zp_min", "dequantize", np.arange(-128, 128), 3.1e-3, -128)


def all_cases() -> Program:
    rng = np.random.default_rng(20261205)
    prog = Program()
    mul_cases(prog, rng)
    requant_cases(prog, rng)
    affine_cases(prog, rng)
    return prog


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("rvv_i8_eltwise")


@pytest.mark.parametrize("cpu", CPUS)
def test_rvv_int8_eltwise_kernels(build_dir, cpu):
    prog = all_cases()
    exe, cases = build_case_program(build_dir, "test_rvv_i8_eltwise", PRELUDE, prog.decls, prog.calls,
                                    ["mul_i8.c", "requantize_i8.c", "quantize_i8.c", "dequantize_i8.c"],
                                    ["mul_i8.c", "requantize_i8.c", "quantize_i8.c"])
    run_case_program(exe, cases, cpu)
