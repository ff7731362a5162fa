"""Bit-exact tests of the rvv int8 kernels mean, softmax, concat and pad (hhbc/kernels/rvv/
{mean,softmax,concat,pad}_i8.c) against the reference int8 kernels, under QEMU.

One C program holds every case (one QEMU run per cpu). Python draws the data (numpy, fixed seed)
and the parameters with hhbc.quantize.fixedpoint (mean_multiplier, softmax_params,
requant_multiplier) or by hand to hit rounding ties and saturation; the program runs the ref and
rvv kernels on the same input and compares the outputs byte for byte, with a guard zone behind
each output that must stay untouched.
Sizes 1, 3, 7, 17, 33, 100 along the vectorized axis; input zero points -128 and 127; inputs at
the int8 extremes; mean over kept-innermost and reduced-innermost axis sets; softmax along the
last axis and along inner axes (more than 64 rows side by side), flat rows whose output exponent
exceeds 31, scales whose diff_min excludes lanes; concat copies and requantized inputs; pad on
every axis, rows wholly in the padding.
CPUs: c908v and rv64 with VLEN 128, 256 and 512.
"""

from __future__ import annotations


import numpy as np
import pytest
from c_harness import VECTOR_KERNEL_MARKS
from rvv_case_program import CHECK_C, CPUS, OUT_BYTES, build_case_program, run_case_program

from hhbc.quantize.fixedpoint import mean_multiplier, requant_multiplier, softmax_params

SIZES = (1, 3, 7, 17, 33, 100)

pytestmark = VECTOR_KERNEL_MARKS

PRELUDE = r"""
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "hhbc_kernels_i8.h"

void hhbc_mean_i8_rvv(const hhbc_tensor *, const hhbc_tensor *, const hhbc_mean_i8_params *);
void hhbc_softmax_i8_rvv(const hhbc_tensor *, const hhbc_tensor *, const hhbc_softmax_i8_params *);
void hhbc_concat_i8_rvv(const hhbc_tensor *const *, const hhbc_tensor *, const hhbc_concat_i8_params *);
void hhbc_pad_i8_rvv(const hhbc_tensor *, const hhbc_tensor *, const hhbc_pad_i8_params *);

""" + CHECK_C


def carr(name: str, ctype: str, a) -> str:
    a = np.asarray(a).reshape(-1)
    if a.size == 0:
        a = np.zeros(1)
    return f"static const {ctype} {name}[{a.size}] = {{{', '.join(str(int(v)) for v in a)}}};"


def ilist(xs) -> str:
    return "{" + ", ".join(str(int(v)) for v in xs) + "}"


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


def data(rng, shape, kind: str):
    """int8 input: random, at the extremes, or flat (every element equal)."""
    if kind == "ext":
        return rng.choice(np.array([-128, -127, 126, 127]), shape)
    if kind == "flat":
        return np.full(shape, int(rng.integers(-128, 128)))
    return rng.integers(-128, 128, shape)


def unary_call(prog: Program, label: str, fn: str, ptype: str, x, in_shape, out_shape, params: str):
    out_n = int(np.prod(out_shape))
    assert out_n <= OUT_BYTES
    xa = prog.arr("int8_t", x)
    prog.calls.append(f"""{{
        hhbc_tensor ti = {{(void *){xa}, {ilist(in_shape)}, {len(in_shape)}}};
        hhbc_tensor tr = {{want, {ilist(out_shape)}, {len(out_shape)}}};
        hhbc_tensor tg = {{got, {ilist(out_shape)}, {len(out_shape)}}};
        {ptype} p = {params};
        prepare({out_n});
        {fn}(&ti, &tr, &p);
        {fn}_rvv(&ti, &tg, &p);
        check("{label}", {out_n});
    }}""")


def mean_case(prog: Program, rng, label: str, shape, axes, zp=None, kind="rand", special=""):
    x = data(rng, shape, kind)
    reduced = [1 if d in axes else 0 for d in range(len(shape))]
    count = int(np.prod([shape[d] for d in axes]))
    out_shape = [s for d, s in enumerate(shape) if d not in axes] or [1]
    zp = int(rng.integers(-128, 128)) if zp is None else zp
    if special == "ties":      # 0.5 * 2^shift: ties of srdhm and rdbpot
        m, s = 1 << 30, int(rng.integers(-3, 1))
    elif special == "sat":     # a left shift: wrapping and clamping
        m, s = int(rng.integers(1 << 30, (1 << 31) - 1)), int(rng.integers(1, 6))
    else:
        m, s = mean_multiplier(float(rng.uniform(0.01, 0.1)), float(rng.uniform(0.005, 0.1)), count)
    params = (f"{{.ndim = {len(shape)}, .in_dim = {ilist(shape)}, .reduced = {ilist(reduced)}, .count = {count}, "
              f".input_zp = {zp}, .output_zp = {int(rng.integers(-128, 128))}, .multiplier = {m}, .shift = {s}}}")
    unary_call(prog, label, "hhbc_mean_i8", "hhbc_mean_i8_params", x, shape, out_shape, params)


def softmax_case(prog: Program, rng, label: str, outer: int, axis: int, inner: int, scale: float, kind="rand"):
    shape = (outer, axis, inner)
    x = data(rng, shape, kind)
    sp = softmax_params(scale)
    params = (f"{{.outer = {outer}, .axis_size = {axis}, .inner = {inner}, .input_multiplier = {sp.input_multiplier}, "
              f".input_left_shift = {sp.input_left_shift}, .diff_min = {sp.diff_min}}}")
    unary_call(prog, label, "hhbc_softmax_i8", "hhbc_softmax_i8_params", x, shape, shape, params)


def pad_case(prog: Program, rng, label: str, shape, before, after, value=None, kind="rand"):
    x = data(rng, shape, kind)
    out_shape = [s + b + a for s, b, a in zip(shape, before, after)]
    value = int(rng.integers(-128, 128)) if value is None else value
    params = (f"{{.value = {value}, .ndim = {len(shape)}, .in_dim = {ilist(shape)}, .out_dim = {ilist(out_shape)}, "
              f".before = {ilist(before)}}}")
    unary_call(prog, label, "hhbc_pad_i8", "hhbc_pad_i8_params", x, shape, out_shape, params)


def concat_case(prog: Program, rng, label: str, shapes, axis: int, requant=None):
    """requant: None (plain copies) or, per input, "ties", "sat" or a (in_scale, out_scale) pair."""
    outer = int(np.prod(shapes[0][:axis]))
    inner = int(np.prod(shapes[0][axis + 1:]))
    out_shape = list(shapes[0])
    out_shape[axis] = sum(s[axis] for s in shapes)
    out_n = int(np.prod(out_shape))
    assert out_n <= OUT_BYTES
    names = [prog.arr("int8_t", data(rng, s, ("rand", "ext")[i % 2])) for i, s in enumerate(shapes)]
    dims = prog.arr("int32_t", [s[axis] for s in shapes])
    rq = "NULL"
    if requant is not None:
        rows = []
        for i, r in enumerate(requant):
            izp = (-128, 127, int(rng.integers(-128, 128)))[i % 3]
            if r == "ties":
                m, s = 1 << 30, int(rng.integers(-3, 1))
            elif r == "sat":
                m, s = int(rng.integers(1 << 30, (1 << 31) - 1)), int(rng.integers(1, 8))
            else:
                m, s = requant_multiplier(*r)
            rows.append(f"{{{izp}, {int(rng.integers(-128, 128))}, {m}, {s}}}")
        prog.n += 1
        rq = f"d{prog.n}"
        prog.decls.append(f"static const hhbc_requant_i8 {rq}[{len(rows)}] = {{{', '.join(rows)}}};")
    tens = ", ".join(f"{{(void *){nm}, {ilist(s)}, {len(s)}}}" for nm, s in zip(names, shapes))
    k = len(shapes)
    prog.calls.append(f"""{{
        hhbc_tensor ts[{k}] = {{{tens}}};
        const hhbc_tensor *tp[{k}] = {{{', '.join(f'&ts[{i}]' for i in range(k))}}};
        hhbc_tensor tr = {{want, {ilist(out_shape)}, {len(out_shape)}}};
        hhbc_tensor tg = {{got, {ilist(out_shape)}, {len(out_shape)}}};
        hhbc_concat_i8_params p = {{.num_inputs = {k}, .outer = {outer}, .inner = {inner}, .axis_dim = {dims},
            .requant = {rq}}};
        prepare({out_n});
        hhbc_concat_i8(tp, &tr, &p);
        hhbc_concat_i8_rvv(tp, &tg, &p);
        check("{label}", {out_n});
    }}""")


def all_cases() -> Program:
    rng = np.random.default_rng(20261205)
    prog = Program()
    j = 0
    # mean: NHWC over H, W (kept innermost block), over the last axis, over everything, mixed
    for c in SIZES:
        for zp in (-128, 127, None):
            j += 1
            mean_case(prog, rng, f"mean_hw_c{c}_{j}", (1, 5, 4, c), (1, 2), zp=zp,
                      kind=("rand", "ext")[j % 2], special=("", "ties", "sat")[j % 3])
            j += 1
            mean_case(prog, rng, f"mean_last_c{c}_{j}", (2, 3, c), (2,), zp=zp, special=("", "ties", "sat")[j % 3])
        j += 1
        mean_case(prog, rng, f"mean_all_c{c}_{j}", (2, c, 3), (0, 1, 2), zp=(-128, 127)[j % 2], kind="ext")
        j += 1
        mean_case(prog, rng, f"mean_mid_c{c}_{j}", (3, c, 5), (1,), special=("", "ties")[j % 2])
        j += 1
        mean_case(prog, rng, f"mean_mixed_c{c}_{j}", (2, 3, 4, c), (1, 3), zp=127)
        j += 1
        mean_case(prog, rng, f"mean_first_c{c}_{j}", (4, c), (0,), zp=-128, special="sat")
    mean_case(prog, rng, "mean_hw_big", (2, 7, 7, 100), (1, 2), kind="ext", zp=-128)
    mean_case(prog, rng, "mean_keep_all_axes1", (1, 1, 1, 33), (1, 2), zp=127)
    mean_case(prog, rng, "mean_rank1", (100,), (0,), zp=127)
    # softmax: along the last axis (inner 1) and along an inner axis; scales from tiny (every
    # difference counts) to large (diff_min excludes most lanes)
    for n in (*SIZES, 257):
        for k, scale in enumerate((0.004, 0.05, 0.3, 2.0)):
            j += 1
            softmax_case(prog, rng, f"softmax_row_n{n}_s{k}_{j}", 3, n, 1, scale, kind=("rand", "ext", "flat")[j % 3])
            j += 1
            softmax_case(prog, rng, f"softmax_cols_n{n}_s{k}_{j}", 2, n, (3, 17, 70)[j % 3], scale,
                         kind=("rand", "ext", "flat")[j % 3])
    # flat rows over >= 512 elements: sums >= 2^28, output exponents 32 .. 35 (the scalar path)
    softmax_case(prog, rng, "softmax_flat1000", 2, 1000, 1, 0.05, kind="flat")
    softmax_case(prog, rng, "softmax_flat4100", 1, 4100, 1, 0.05, kind="flat")
    softmax_case(prog, rng, "softmax_flat_cols", 1, 600, 5, 0.05, kind="flat")
    softmax_case(prog, rng, "softmax_near_flat1000", 1, 1000, 1, 0.004, kind="ext")
    # concat: plain copies and requantized inputs, along the first, middle and last axes
    for c in SIZES:
        j += 1
        concat_case(prog, rng, f"concat_last_c{c}_{j}", [(2, 3, c), (2, 3, 1), (2, 3, 2 * c)], 2)
        j += 1
        concat_case(prog, rng, f"concat_mid_c{c}_{j}", [(2, c, 5), (2, 3, 5)], 1)
        j += 1
        concat_case(prog, rng, f"concat_first_c{c}_{j}", [(c, 4), (1, 4)], 0)
        j += 1
        concat_case(prog, rng, f"concat_rq_c{c}_{j}", [(2, 3, c), (2, 3, 7), (2, 3, 1)], 2,
                    requant=[(0.05, 0.1), "ties", "sat"])
        j += 1
        concat_case(prog, rng, f"concat_rq_mid_c{c}_{j}", [(3, c, 2), (3, 1, 2)], 1,
                    requant=[(0.3, 0.02), (0.01, 0.011)])
    # pad: every axis, zero pads, rows wholly in the padding, the fill at the extremes
    for c in SIZES:
        for k, (before, after) in enumerate((((0, 1, 1, 0), (0, 1, 1, 0)), ((0, 0, 0, 3), (0, 0, 0, 5)),
                                            ((1, 2, 0, 1), (0, 0, 3, 2)), ((0, 0, 0, 0), (0, 0, 0, 0)))):
            j += 1
            pad_case(prog, rng, f"pad_c{c}_{k}_{j}", (1, 4, 3, c), before, after, value=(-128, 127, None)[j % 3],
                     kind=("rand", "ext")[j % 2])
        j += 1
        pad_case(prog, rng, f"pad_rank1_c{c}_{j}", (c,), (c % 5,), (7,))
        j += 1
        pad_case(prog, rng, f"pad_rank2_c{c}_{j}", (3, c), (2, 40), (1, 0), value=127)
    pad_case(prog, rng, "pad_wide", (1, 2, 2, 300), (0, 1, 1, 0), (0, 1, 1, 0), value=-128)
    return prog


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("rvv_i8_data")


@pytest.mark.parametrize("cpu", CPUS)
def test_rvv_int8_data_kernels(build_dir, cpu):
    prog = all_cases()
    exe, cases = build_case_program(build_dir, "test_rvv_i8_data", PRELUDE, prog.decls, prog.calls,
                                    ["mean_i8.c", "softmax_i8.c", "concat_i8.c", "pad_i8.c"],
                                    ["mean_i8.c", "softmax_i8.c", "concat_i8.c", "pad_i8.c"])
    run_case_program(exe, cases, cpu)
