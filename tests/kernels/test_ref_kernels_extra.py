"""Differential tests of the reference kernels added for the Caffe frontend:
deconv2d (transposed convolution), strided_slice and lrn (across channels).

Same harness as test_ref_kernels.py (one driver per kernel, ASan/UBSan when the host
has them, outputs pre-filled with NaN), against independent float64 numpy references.
"""

from __future__ import annotations

import math

import numpy as np
from c_harness import ilist, needs_cc
from test_ref_kernels import ACTS, Driver, act_c, act_name, act_np, contig_strides, fl, uniform


def deconv2d_ref(x, w, b, stride, dil, pad_tl, groups, out_hw):
    """x NHWC, w [OC][KH][KW][C/groups]: every input pixel scatters into the output."""
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)
    n, h, wd, c = x.shape
    oc, kh_n, kw_n, icg = w.shape
    ocg = oc // groups
    oh, ow = out_hw
    pt, pl = pad_tl
    out = np.zeros((n, oh, ow, oc))
    for ih in range(h):
        for iw in range(wd):
            for kh in range(kh_n):
                for kw in range(kw_n):
                    y, xx = ih * stride[0] - pt + kh * dil[0], iw * stride[1] - pl + kw * dil[1]
                    if not (0 <= y < oh and 0 <= xx < ow):
                        continue
                    for g in range(groups):
                        out[:, y, xx, g * ocg:(g + 1) * ocg] += np.einsum(
                            "nc,oc->no", x[:, ih, iw, g * icg:(g + 1) * icg], w[g * ocg:(g + 1) * ocg, kh, kw, :])
    if b is not None:
        out += np.asarray(b, np.float64)
    return out


DECONV_CASES = [
    # N, H, W, C, OC, KH, KW, stride, dilation, pad (top, left), extra (bottom, right), groups, bias, act
    (1, 3, 4, 2, 3, 3, 3, (2, 2), (1, 1), (1, 1), (0, 0), 1, True, ACTS[0]),
    (2, 4, 3, 4, 6, 4, 4, (2, 2), (1, 1), (1, 1), (0, 0), 2, False, ACTS[1]),
    (1, 3, 3, 3, 3, 3, 2, (3, 2), (1, 1), (0, 1), (0, 0), 3, True, ACTS[4]),
    (1, 4, 5, 4, 4, 3, 3, (2, 2), (2, 2), (1, 1), (0, 0), 2, True, ACTS[6]),
    (1, 2, 2, 5, 2, 2, 2, (2, 2), (1, 1), (0, 0), (1, 1), 1, True, ACTS[2]),   # output padding
    (1, 5, 4, 3, 2, 1, 1, (1, 1), (1, 1), (0, 0), (0, 0), 1, True, ACTS[5]),   # 1x1: a conv
    (1, 3, 3, 2, 4, 5, 3, (1, 3), (1, 2), (2, 1), (0, 0), 1, False, ACTS[3]),
]


@needs_cc
def test_deconv2d(tmp_path):
    rng = np.random.default_rng(201)
    drv = Driver(tmp_path, "deconv2d")
    for i, (n, h, w, c, oc, kh, kw, st, dl, pad, extra, groups, has_bias, act) in enumerate(DECONV_CASES):
        oh = (h - 1) * st[0] - 2 * pad[0] + dl[0] * (kh - 1) + 1 + extra[0]
        ow = (w - 1) * st[1] - 2 * pad[1] + dl[1] * (kw - 1) + 1 + extra[1]
        x = uniform(rng, (n, h, w, c))
        wt = uniform(rng, (oc, kh, kw, c // groups))
        b = uniform(rng, (oc,)) if has_bias else None
        exp = act_np(deconv2d_ref(x, wt, b, st, dl, pad, groups, (oh, ow)), **act)
        inputs = dict(x=x, w=wt)
        if has_bias:
            inputs["b"] = b
        body = f"""
hhbc_deconv2d_params p = {{.weight = w, .bias = {'b' if has_bias else 'NULL'},
    .kernel_h = {kh}, .kernel_w = {kw}, .stride_h = {st[0]}, .stride_w = {st[1]},
    .dilation_h = {dl[0]}, .dilation_w = {dl[1]}, .pad_top = {pad[0]}, .pad_left = {pad[1]},
    .groups = {groups}, .act = {act_c(**act)}}};
hhbc_deconv2d_f32(&t_x, &t_out, &p);
"""
        label = (f"case{i} x{(n, h, w, c)} w{wt.shape} s{st} d{dl} pad{pad} extra{extra} g{groups} "
                 f"bias={has_bias} {act_name(act)}")
        drv.case(label, body, (n, oh, ow, oc), exp, inputs)
    drv.run()


@needs_cc
def test_strided_slice(tmp_path):
    rng = np.random.default_rng(202)
    drv = Driver(tmp_path, "strided_slice")
    cases = [  # shape, python slices per axis
        ((10,), (slice(2, 7),)),
        ((10,), (slice(1, 10, 3),)),
        ((10,), (slice(8, 0, -2),)),
        ((4, 6), (slice(1, 3), slice(None))),
        ((4, 6), (slice(None), slice(2, 5))),
        ((1, 5, 6, 3), (slice(None), slice(1, 4), slice(3, 6), slice(None))),   # crop H, W
        ((1, 4, 4, 6), (slice(None), slice(None), slice(None), slice(1, 4))),    # NHWC channel slice
        ((2, 3, 4, 5), (slice(1, 2), slice(None, None, 2), slice(3, 0, -1), slice(1, 5, 3))),
        ((2, 2, 2, 2, 2, 3), (slice(None), slice(1, 2), slice(None), slice(0, 1), slice(None), slice(2, 3))),
    ]
    for i, (shape, slices) in enumerate(cases):
        x = uniform(rng, shape)
        exp = x[slices]
        strides = contig_strides(shape)
        starts = [range(*s.indices(d)).start for s, d in zip(slices, shape)]
        steps = [s.step or 1 for s in slices]
        offset = sum(a * b for a, b in zip(starts, strides))
        body = f"""
hhbc_strided_slice_params p = {{.ndim = {len(shape)}, .out_dim = {ilist(exp.shape)},
    .in_stride = {ilist(st * sp for st, sp in zip(strides, steps))}, .offset = {offset}}};
hhbc_strided_slice_f32(&t_x, &t_out, &p);
"""
        drv.case(f"case{i} x{shape} {slices}", body, exp.shape, exp, dict(x=x), rtol=0, atol=0)
    drv.run()


def lrn_ref(x, outer, channels, inner, size, pre_pad, alpha_over_size, k, beta):
    v = np.asarray(x, np.float64).reshape(outer, channels, inner)
    out = np.empty_like(v)
    for c in range(channels):
        lo, hi = max(0, c - pre_pad), min(channels, c - pre_pad + size)
        out[:, c] = v[:, c] * (k + alpha_over_size * (v[:, lo:hi] ** 2).sum(axis=1)) ** -beta
    return out.reshape(np.shape(x))


@needs_cc
def test_lrn(tmp_path):
    rng = np.random.default_rng(203)
    drv = Driver(tmp_path, "lrn")
    cases = [  # shape, (outer, channels, inner), size, pre_pad, alpha, k, beta
        ((1, 4, 5, 8), (20, 8, 1), 5, 2, 1e-2, 1.0, 0.75),          # NHWC, AlexNet-like
        ((2, 3, 3, 6), (18, 6, 1), 3, 1, 0.5, 2.0, 0.6),
        ((1, 7, 2, 3), (1, 7, 6), 5, 2, 1.5, 1.0, 0.75),           # NCHW view
        ((1, 2, 2, 3), (4, 3, 1), 7, 3, 1.0, 1.0, 0.9),            # window wider than the channels
        ((1, 3, 3, 6), (9, 6, 1), 4, 1, 0.3, 1.5, 0.5),            # even size
        ((1, 1, 1, 5), (1, 5, 1), 1, 0, 2.0, 1.0, 1.0),            # size 1
    ]
    for i, (shape, (outer, channels, inner), size, pre_pad, alpha, k, beta) in enumerate(cases):
        assert math.prod(shape) == outer * channels * inner
        x = uniform(rng, shape, -3, 3)
        aos = float(np.float32(alpha) / np.float32(size))
        exp = lrn_ref(x, outer, channels, inner, size, pre_pad, np.float32(aos), np.float32(k), np.float32(beta))
        body = f"""
hhbc_lrn_params p = {{.outer = {outer}, .channels = {channels}, .inner = {inner}, .size = {size},
    .pre_pad = {pre_pad}, .alpha_over_size = {fl(aos)}, .k = {fl(k)}, .beta = {fl(beta)}}};
hhbc_lrn_f32(&t_x, &t_out, &p);
"""
        drv.case(f"case{i} x{shape} view{(outer, channels, inner)} size{size} pre{pre_pad} "
                 f"alpha{alpha} k{k} beta{beta}", body, shape, exp, dict(x=x))
    drv.run()
