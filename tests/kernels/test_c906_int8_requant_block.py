"""The C906 int8 requantization block (hhbc/codegen/packing_c906.py, layout in
kernels/c906/hhbc_c906_i8.h): three int32 words per output channel, the third a shift word
right | left << 5 | (right > 0) << 31 that the kernels use as vssra shift amount, rdbpot
sign fix and (>> 5) vsll shift amount at once.

The layout is checked in Python; the kernels run under QEMU `c906fdv` on blocks that mix
left shifts, right shifts and zero shifts across the channels of one layer (so the "any
left shift" path also meets channels that shift right), over the whole shift range
-31..31, against the reference kernels byte for byte (test_c906_int8_kernels.py's harness).
"""

from __future__ import annotations

import numpy as np
import pytest

from c_harness import REF, VECTOR_KERNEL_MARKS
from test_c906_int8_kernels import C906, Program, carr, out_size, tensor

from hhbc.codegen.packing_c906 import requant_block_arrays
from hhbc.errors import HhbcError


def test_block_layout():
    shift = np.array([-31, -5, -1, 0, 1, 7, 31])
    mult = np.arange(7) + (1 << 30)
    sums = np.array([10, -3, 0, 5, 1, 2, 3])
    rq = requant_block_arrays(mult, shift, np.arange(7) * 100, 4, sums)
    assert rq.dtype == np.int32 and rq.shape == (4 + 3 * 7,)
    assert list(rq[:4]) == [7, 1, 0, 0]
    assert list(rq[4:11]) == list(mult)
    assert list(rq[11:18]) == list(np.arange(7) * 100 - 4 * sums)
    sw = rq[18:].view(np.uint32).astype(np.int64)
    assert list(sw & 31) == [31, 5, 1, 0, 0, 0, 0]                  # vssra: the right shift
    assert list((sw >> 5) & 31) == [0, 0, 0, 0, 1, 7, 31]           # vsll: the left shift
    assert list(sw >> 31) == [1, 1, 1, 0, 0, 0, 0]                  # the rdbpot fix: right > 0
    assert not (sw & 0x7FFFFC00).any()
    # no left shift anywhere: the head says so (the kernels skip the vsll)
    assert requant_block_arrays(1 << 30, -3, None, 0, np.zeros(5))[1] == 0
    for bad in (32, -32):
        with pytest.raises(HhbcError, match="conv_x: requantization shift"):
            requant_block_arrays(1 << 30, [0, bad], None, 0, np.zeros(2), "conv_x")


def mixed_case(prog: Program, rng, depthwise: bool, h, w, c, oc, k, s, m, per_channel=True):
    """conv2d (depthwise) c -> oc channels, k x k kernel, stride 1, padding 1, with the
    given per-channel multipliers m and shifts s."""
    oh, ow = out_size(h, k, 1, 1, 1, 1), out_size(w, k, 1, 1, 1, 1)
    in_zp, out_zp = int(rng.integers(-128, 128)), int(rng.integers(-20, 21))
    x = rng.integers(-128, 128, (1, h, w, c))
    if depthwise:
        wt = rng.integers(-127, 128, (k, k, oc))
        packed, sums = wt, wt.reshape(-1, oc).sum(axis=0)
    else:
        wt = rng.integers(-127, 128, (oc, k, k, c))
        packed, sums = wt.transpose(1, 2, 3, 0)[None], wt.reshape(oc, -1).sum(axis=1)
    b = rng.integers(-30000, 30000, oc)
    rq = requant_block_arrays(m, s, b, in_zp, sums)
    nout = oh * ow * oc
    fn = "depthwise_conv2d" if depthwise else "conv2d"
    body = (carr("int8_t", "x", x) + carr("int8_t", "w_ref", wt) + carr("int8_t", "w_pk", packed)
            + carr("int32_t", "bias", b) + carr("int32_t", "mult", m) + carr("int32_t", "shift", s)
            + carr("int32_t", "rq", rq)
            + f"    const hhbc_tensor tin = {tensor('x', (1, h, w, c))};\n"
            + f"    const hhbc_tensor tref = {tensor('y_ref', (1, oh, ow, oc))};\n"
            + f"    const hhbc_tensor tvec = {tensor('y_vec', (1, oh, ow, oc))};\n"
            + "    hhbc_conv2d_i8_params p = {.weight = w_ref, .bias = bias, .multiplier = mult, .shift = shift, "
            + f".per_channel = {int(per_channel)}, .kernel_h = {k}, .kernel_w = {k}, .stride_h = 1, "
            + ".stride_w = 1, .dilation_h = 1, .dilation_w = 1, .pad_top = 1, .pad_left = 1, .groups = 1, "
            + f".input_zp = {in_zp}, .output_zp = {out_zp}, .act_min = -128, .act_max = 127, .scale = NULL}};\n"
            + f"    prep({nout});\n    hhbc_{fn}_i8(&tin, &tref, &p);\n"
            + "    p.weight = w_pk;\n    p.multiplier = rq;\n"
            + f"    hhbc_{fn}_i8_c906(&tin, &tvec, &p);\n    report(name, {nout});\n")
    prog.case(f"{fn}_{h}x{w}x{c}_oc{oc}_k{k}_shifts{int(np.min(s))},{int(np.max(s))}_pc{int(per_channel)}"
              f"_m{int(np.min(m))}", body)


def shift_sets(rng, oc: int):
    """(multipliers, shifts) per channel: the whole range -31..31 cycled over the channels;
    small shifts -3..2 mixed (ties: multiplier 2^30); and typical right shifts of a real
    layer with a few channels that shift left."""
    full = (np.arange(oc) * 8) % 63 - 31   # 63 channels: each shift once
    yield rng.integers(1 << 30, 1 << 31, oc), full
    yield np.full(oc, 1 << 30), rng.integers(-3, 3, oc)
    real = rng.integers(-12, -6, oc)
    real[:: 5] = rng.integers(0, 3, len(real[:: 5]))
    yield rng.integers(1 << 30, 1 << 31, oc), real


@pytest.mark.parametrize("depthwise", [False, True], ids=["conv2d", "depthwise"])
def test_mixed_shifts(tmp_path, depthwise):
    rng = np.random.default_rng(909 + depthwise)
    src = "depthwise_conv2d_i8.c" if depthwise else "conv2d_i8.c"
    prog = Program(tmp_path, "rq", [C906 / src, REF / src])
    for oc in (7, 33, 63):   # strip tails, two strips, the full shift range in one layer
        for m, s in shift_sets(rng, oc):
            mixed_case(prog, rng, depthwise, 4, 5, oc if depthwise else 5, oc, 3, s, m)
    # per tensor, one shift for every channel: left, none, right
    for s in (3, 0, -9):
        mixed_case(prog, rng, depthwise, 3, 4, 17 if depthwise else 3, 17, 3, [s], [(1 << 30) + 12345],
                   per_channel=False)
    prog.check()


for _mark in VECTOR_KERNEL_MARKS:   # QEMU and zig, or a skip naming the missing one
    test_mixed_shifts = _mark(test_mixed_shifts)
