"""Differential tests of the weight-only int8 kernels (hhbc/kernels/ref/*_w8.c): float32
activations, int8 weights with one float32 scale per output channel. Each is compared with a
float64 numpy reference that uses the dequantized weights (scale * q), through the same
driver as the float kernels (test_ref_kernels.py): ASan/UBSan, NaN-filled outputs."""

from __future__ import annotations

import re

import numpy as np
import pytest
from c_harness import REF, build_riscv64_zig, build_strict_host, needs_cc, needs_zig
from test_ref_kernels import (ACTS, CONV_CASES, DW_CASES, Driver, act_c, act_name, act_np, conv2d_ref,
                              conv_out, f32, uniform)

KERNELS = ["conv2d_w8", "depthwise_conv2d_w8", "dense_w8"]


def int8_weights(rng, shape, channels_axis: int):
    """Symmetric int8 weights over the whole range and a positive scale per output channel."""
    q = rng.integers(-127, 128, size=shape).astype(np.int32)
    scale = f32(rng.uniform(0.001, 0.03, size=shape[channels_axis]))
    return q, scale


def dequantized(q, scale, channels_axis: int) -> np.ndarray:
    shape = [1] * q.ndim
    shape[channels_axis] = scale.size
    return q.astype(np.float64) * scale.astype(np.float64).reshape(shape)


def widen_body(count: int) -> str:
    """C statements turning the int32-loaded weights `w` into the int8 array `wq`."""
    return (f"int8_t *wq = (int8_t *)malloc({count});\n"
            f"for (int32_t i = 0; i < {count}; i++) wq[i] = (int8_t)w[i];\n")


def conv_body(function: str, count: int, kernel, st, dl, pads, groups: int, has_bias: bool, act) -> str:
    """C statements calling a conv-shaped weight-only kernel on t_x -> t_out."""
    return widen_body(count) + f"""
hhbc_conv2d_w8_params p = {{.weight = wq, .w_scale = s, .bias = {'b' if has_bias else 'NULL'},
    .kernel_h = {kernel[0]}, .kernel_w = {kernel[1]}, .stride_h = {st[0]}, .stride_w = {st[1]},
    .dilation_h = {dl[0]}, .dilation_w = {dl[1]}, .pad_top = {pads[0]}, .pad_left = {pads[1]},
    .groups = {groups}, .act = {act_c(**act)}}};
{function}(&t_x, &t_out, &p);
free(wq);
"""


@needs_cc
def test_conv2d_w8(tmp_path):
    rng = np.random.default_rng(201)
    drv = Driver(tmp_path, "conv2d_w8")
    for i, (n, h, w, c, oc, kh, kw, st, dl, pads, groups, has_bias, act) in enumerate(CONV_CASES):
        oh = conv_out(h, kh, st[0], dl[0], pads[0], pads[2])
        ow = conv_out(w, kw, st[1], dl[1], pads[1], pads[3])
        x = uniform(rng, (n, h, w, c))
        q, scale = int8_weights(rng, (oc, kh, kw, c // groups), 0)
        b = uniform(rng, (oc,)) if has_bias else None
        exp = act_np(conv2d_ref(x, dequantized(q, scale, 0), b, st, dl, pads, groups, (oh, ow)), **act)
        inputs = dict(x=x, w=q, s=scale)
        if has_bias:
            inputs["b"] = b
        body = conv_body("hhbc_conv2d_w8", q.size, (kh, kw), st, dl, pads, groups, has_bias, act)
        label = (f"case{i} x{(n, h, w, c)} w{q.shape} s{st} d{dl} pads{pads} g{groups} "
                 f"bias={has_bias} {act_name(act)}")
        drv.case(label, body, (n, oh, ow, oc), exp, inputs)
    drv.run()


@needs_cc
def test_depthwise_conv2d_w8(tmp_path):
    rng = np.random.default_rng(202)
    drv = Driver(tmp_path, "depthwise_conv2d_w8")
    for i, (n, h, w, c, mult, kh, kw, st, dl, pads, has_bias, act, gfield) in enumerate(DW_CASES):
        oc = c * mult
        oh = conv_out(h, kh, st[0], dl[0], pads[0], pads[2])
        ow = conv_out(w, kw, st[1], dl[1], pads[1], pads[3])
        x = uniform(rng, (n, h, w, c))
        q, scale = int8_weights(rng, (kh, kw, oc), 2)
        b = uniform(rng, (oc,)) if has_bias else None
        w_conv = dequantized(q, scale, 2).transpose(2, 0, 1)[..., None]   # [OC][KH][KW][1]
        exp = act_np(conv2d_ref(x, w_conv, b, st, dl, pads, c, (oh, ow)), **act)
        inputs = dict(x=x, w=q, s=scale)
        if has_bias:
            inputs["b"] = b
        body = conv_body("hhbc_depthwise_conv2d_w8", q.size, (kh, kw), st, dl, pads, gfield, has_bias, act)
        label = (f"case{i} x{(n, h, w, c)} mult{mult} k{(kh, kw)} s{st} d{dl} pads{pads} "
                 f"bias={has_bias} {act_name(act)}")
        drv.case(label, body, (n, oh, ow, oc), exp, inputs)
    drv.run()


@needs_cc
def test_dense_w8(tmp_path):
    rng = np.random.default_rng(203)
    drv = Driver(tmp_path, "dense_w8")
    shapes = [(3, 17, 5), (1, 64, 10), (4, 1, 3), (6, 33, 7), (2, 8, 16), (5, 12, 1), (3, 40, 9)]
    for i, act in enumerate(ACTS):
        m, k, nn = shapes[i]
        has_bias = i != 1
        x = uniform(rng, (m, k), -2, 2)
        q, scale = int8_weights(rng, (nn, k), 0)
        b = uniform(rng, (nn,)) if has_bias else None
        ref = x.astype(np.float64) @ dequantized(q, scale, 0).T + (b if has_bias else 0.0)
        inputs = dict(x=x if i != 3 else x.reshape(1, m, k), w=q, s=scale)   # leading dims flattened
        if has_bias:
            inputs["b"] = b
        body = widen_body(q.size) + f"""
hhbc_dense_w8_params p = {{.weight = wq, .w_scale = s, .bias = {'b' if has_bias else 'NULL'},
    .m = {m}, .n = {nn}, .k = {k}, .act = {act_c(**act)}}};
hhbc_dense_w8(&t_x, &t_out, &p);
free(wq);
"""
        drv.case(f"case{i} M{m} K{k} N{nn} bias={has_bias} {act_name(act)}", body, (m, nn),
                 act_np(ref, **act), inputs)
    drv.run()


def w8_sources():
    return [REF / f"{k}.c" for k in KERNELS]


@needs_cc
def test_w8_kernels_build_strict_host(tmp_path):
    assert build_strict_host(tmp_path, w8_sources()) == sorted(KERNELS)


@needs_zig
def test_w8_kernels_build_riscv64_zig(tmp_path):
    assert build_riscv64_zig(tmp_path, w8_sources()) == sorted(KERNELS)


def test_w8_file_hygiene():
    """Same rules as the float kernels: own header, no heap, no I/O, no file-scope state."""
    for path in w8_sources():
        text = path.read_text()
        # its own function, or an instance of the float loop nest (#define HHBC_KERNEL + <op>_body.h)
        assert re.search(rf"^(void hhbc_{path.stem}\(|#define HHBC_KERNEL hhbc_{path.stem}$)", text, re.M), path.name
        includes = re.findall(r'^\s*#\s*include\s*([<"][^>"]+[>"])', text, re.M)
        body = {f'"{path.stem[:-3]}_body.h"'}
        assert {'"hhbc_kernels_w8.h"', '"hhbc_act.h"'} <= set(includes) <= {'"hhbc_kernels_w8.h"', '"hhbc_act.h"', *body}, \
            (path.name, includes)
        code = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        for banned in ("malloc", "calloc", "realloc", "free(", "printf", "FILE", "alloca"):
            assert banned not in code, (path.name, banned)
        for m in re.finditer(r"^static\s+(?!inline\b)(?!.*\()", code, re.M):   # static inline helpers are fine
            pytest.fail(f"{path.name}: file-scope static data: {m.group(0)!r}")
