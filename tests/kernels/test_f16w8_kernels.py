"""The float16_w_int8 kernels: float16 activations, int8 weights with a float32 scale per output
channel (hhbc_<op>_f16w8 in kernels/ref, hhbc_*_f16w8_rvv in kernels/rvv/conv2d_f16w8.c,
hhbc_*_f16w8_c906 in kernels/c906/conv2d_f16w8.c).

- The reference kernels against a float64 numpy model (half inputs, weights q * scale): the
  reference computes in float32 and rounds once to half, so it must be within one half ulp of
  the float64 result plus float32 summation error (1e-3 of max|expected|, ~2 half ulps).
- Each vector kernel against the reference kernel on the same data, under QEMU (rvv on c908v
  and rv64 at VLEN 128/256/512, c906 on c906fdv). The weights are packed by the kernel table
  row's own `pack`, and each case checks that the row's `supports` takes it. Both sum the same
  exact products (half x small integer) in float32 in the same order, then multiply by the
  scale and add the bias with two roundings: under NONE, RELU and CLIP the outputs must be
  equal bit for bit. LEAKY_RELU, HARDSWISH and SIGMOID evaluate the activation with the
  vector helpers (on the narrowed value for LEAKY_RELU on c906): within 2 half ulps of the
  reference's magnitude (1e-3 of max|ref|, and 1 ulp at the element).
Outputs are filled with NaN and followed by a guard zone that must stay untouched.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from c_harness import HOST_CC, INCLUDE, QEMU, REF, ROOT, RUN_ENV, cstr, needs_cc, needs_zig, sanitizer_flags
from test_ref_kernels import act_np, conv2d_ref, conv_out

from hhbc.codegen.kernel_table import TABLE
from hhbc.lower.graph import Node, Tensor

RVV = ROOT / "hhbc" / "kernels" / "rvv"
C906 = ROOT / "hhbc" / "kernels" / "c906"
GUARD = 64
GUARD_VALUE = np.float16(1234.5)

ACTS = [dict(kind="NONE"), dict(kind="RELU"), dict(kind="CLIP", lo=0.0, hi=6.0),
        dict(kind="CLIP", lo=-0.5, hi=0.25), dict(kind="LEAKY_RELU", alpha=0.1),
        dict(kind="HARDSWISH"), dict(kind="SIGMOID")]
EXACT_ACTS = ("NONE", "RELU", "CLIP")

# conv: (n, h, w, c, oc, kh, kw, stride, dilation, pads (t, l, b, r), act index, bias)
CONV_CASES = [
    (1, 25, 5, 64, 64, 1, 1, (1, 1), (1, 1), (0, 0, 0, 0), 1, True),      # the KWS pointwise layers
    (1, 5, 7, 17, 33, 1, 1, (1, 1), (1, 1), (0, 0, 0, 0), 0, True),
    (2, 3, 3, 3, 65, 1, 1, (1, 1), (1, 1), (0, 0, 0, 0), 2, False),
    (1, 1, 4, 7, 1, 1, 1, (1, 1), (1, 1), (0, 0, 0, 0), 3, True),
    (1, 2, 5, 600, 40, 1, 1, (1, 1), (1, 1), (0, 0, 0, 0), 1, True),      # K > one slab: chunks
    (1, 49, 10, 1, 64, 10, 4, (2, 2), (1, 1), (4, 1, 5, 1), 1, True),     # the KWS first layer
    (1, 6, 7, 7, 17, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 0, True),
    (1, 9, 8, 3, 33, 3, 3, (2, 2), (2, 2), (2, 2, 2, 2), 2, True),
    (1, 7, 9, 5, 7, 5, 3, (1, 2), (1, 2), (2, 0, 1, 3), 4, False),
    (1, 4, 4, 2, 3, 2, 2, (1, 1), (1, 1), (0, 0, 0, 0), 5, True),
    (1, 5, 5, 4, 9, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 6, True),
]
# depthwise, multiplier 1: (n, h, w, c, kh, kw, stride, dilation, pads, act index, bias)
DW_CASES = [
    (1, 25, 5, 64, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 1, True),          # the KWS depthwise layers
    (1, 7, 6, 17, 3, 3, (2, 2), (1, 1), (1, 1, 1, 1), 0, True),
    (2, 6, 6, 33, 5, 5, (1, 1), (2, 2), (4, 4, 4, 4), 2, False),
    (1, 5, 8, 65, 3, 1, (1, 2), (1, 1), (0, 1, 2, 0), 3, True),
    (1, 4, 4, 1, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 4, True),
    (1, 5, 5, 7, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 5, True),
    (1, 5, 5, 3, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 6, False),
]
# dense: (m, k, n, act index, bias)
DENSE_CASES = [(1, 64, 12, 0, True), (5, 33, 65, 1, True), (4, 7, 3, 2, False), (1, 5000, 7, 0, True),
               (2, 17, 9, 4, True), (1, 9, 33, 5, True), (3, 8, 5, 6, False)]

PRELUDE = r"""
#include <stdio.h>
#include <stdlib.h>
#include "hhbc_kernels_w8.h"

static void *hb_load(const char *path, size_t n)
{
    void *p = malloc(n ? n : 1);
    FILE *f = fopen(path, "rb");
    if (!p || !f || fread(p, 1, n, f) != n) { fprintf(stderr, "cannot read %s\n", path); exit(2); }
    fclose(f);
    return p;
}
static void hb_save(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n) { fprintf(stderr, "cannot write %s\n", path); exit(2); }
    fclose(f);
}
"""


def act_c(kind="NONE", lo=0.0, hi=0.0, alpha=0.0) -> str:
    fl = lambda v: float(np.float32(v)).hex() + "f"   # noqa: E731
    return f"{{.kind = HHBC_ACT_{kind}, .lo = {fl(lo)}, .hi = {fl(hi)}, .alpha = {fl(alpha)}}}"


def quantized(rng, shape, axis):
    """int8 weights over the whole range (both ends), a positive scale per output channel."""
    q = rng.integers(-127, 128, size=shape).astype(np.int8)
    q.flat[0], q.flat[-1] = 127, -127
    scale = rng.uniform(0.002, 0.02, size=shape[axis]).astype(np.float32)
    return q, scale


def dequantized(q, scale, axis):
    shape = [1] * q.ndim
    shape[axis] = -1
    return q.astype(np.float64) * scale.astype(np.float64).reshape(shape)


def half(rng, shape, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, size=shape).astype(np.float16)


class Case:
    """One kernel call: numpy data, the float64 expectation, the C params initializer."""

    def __init__(self, label, op, x, q, scale, bias, out_shape, params, act, expected):
        self.label, self.op, self.x, self.q, self.scale, self.bias = label, op, x, q, scale, bias
        self.out_shape, self.params, self.act, self.expected = tuple(out_shape), params, act, expected

    def node(self) -> Node:
        consts = {"weight": Tensor("w", self.q.shape, "int8", kind="const", data=self.q),
                  "w_scale": Tensor("s", self.scale.shape, "float32", kind="const", data=self.scale)}
        if self.bias is not None:
            consts["bias"] = Tensor("b", self.bias.shape, "float32", kind="const", data=self.bias)
        return Node(self.op, [Tensor("x", self.x.shape, "float16")], Tensor("y", self.out_shape, "float16"),
                    {**self.params, "act": self.act}, consts)


def conv_cases(rng) -> list[Case]:
    cases = []
    for n, h, w, c, oc, kh, kw, st, dl, pads, a, has_bias in CONV_CASES:
        oh, ow = conv_out(h, kh, st[0], dl[0], pads[0], pads[2]), conv_out(w, kw, st[1], dl[1], pads[1], pads[3])
        x = half(rng, (n, h, w, c))
        q, scale = quantized(rng, (oc, kh, kw, c), 0)
        b = rng.uniform(-0.5, 0.5, oc).astype(np.float32) if has_bias else None
        exp = act_np(conv2d_ref(x.astype(np.float64), dequantized(q, scale, 0), b, st, dl, pads, 1, (oh, ow)),
                     **ACTS[a])
        params = dict(kernel_h=kh, kernel_w=kw, stride_h=st[0], stride_w=st[1], dilation_h=dl[0],
                      dilation_w=dl[1], pad_top=pads[0], pad_left=pads[1], groups=1)
        cases.append(Case(f"conv x{x.shape} w{q.shape} s{st} d{dl} p{pads} {ACTS[a]['kind']} b={has_bias}",
                          "conv2d_w8", x, q, scale, b, (n, oh, ow, oc), params, ACTS[a], exp))
    return cases


def dw_cases(rng) -> list[Case]:
    cases = []
    for n, h, w, c, kh, kw, st, dl, pads, a, has_bias in DW_CASES:
        oh, ow = conv_out(h, kh, st[0], dl[0], pads[0], pads[2]), conv_out(w, kw, st[1], dl[1], pads[1], pads[3])
        x = half(rng, (n, h, w, c))
        q, scale = quantized(rng, (kh, kw, c), 2)
        b = rng.uniform(-0.5, 0.5, c).astype(np.float32) if has_bias else None
        wref = dequantized(q, scale, 2).transpose(2, 0, 1)[..., None]      # [C][KH][KW][1]
        exp = act_np(conv2d_ref(x.astype(np.float64), wref, b, st, dl, pads, c, (oh, ow)), **ACTS[a])
        params = dict(kernel_h=kh, kernel_w=kw, stride_h=st[0], stride_w=st[1], dilation_h=dl[0],
                      dilation_w=dl[1], pad_top=pads[0], pad_left=pads[1], groups=c)
        cases.append(Case(f"dw x{x.shape} k{kh}x{kw} s{st} d{dl} p{pads} {ACTS[a]['kind']} b={has_bias}",
                          "depthwise_conv2d_w8", x, q, scale, b, (n, oh, ow, c), params, ACTS[a], exp))
    return cases


def dense_cases(rng) -> list[Case]:
    cases = []
    for m, k, n, a, has_bias in DENSE_CASES:
        x = half(rng, (m, k))
        q, scale = quantized(rng, (n, k), 0)
        b = rng.uniform(-0.5, 0.5, n).astype(np.float32) if has_bias else None
        exp = x.astype(np.float64) @ dequantized(q, scale, 0).T + (0.0 if b is None else b.astype(np.float64))
        cases.append(Case(f"dense m{m} k{k} n{n} {ACTS[a]['kind']} b={has_bias}", "dense_w8", x, q, scale, b,
                          (m, n), dict(m=m, n=n, k=k), ACTS[a], act_np(exp, **ACTS[a])))
    return cases


def all_cases() -> list[Case]:
    rng = np.random.default_rng(1608)
    return conv_cases(rng) + dw_cases(rng) + dense_cases(rng)


def ref_only_cases() -> list[Case]:
    """Shapes no vector kernel takes (the compiler keeps them on ref): groups, depthwise
    channel multiplier 2."""
    rng = np.random.default_rng(1609)
    cases = []
    # grouped conv: x [1][6][5][8], 2 groups of 4 -> 6 output channels, 3x3, pad 1
    x = half(rng, (1, 6, 5, 8))
    q, scale = quantized(rng, (6, 3, 3, 4), 0)
    b = rng.uniform(-0.5, 0.5, 6).astype(np.float32)
    exp = act_np(conv2d_ref(x.astype(np.float64), dequantized(q, scale, 0), b, (1, 1), (1, 1), (1, 1, 1, 1), 2,
                            (6, 5)), **ACTS[1])
    cases.append(Case("conv groups=2", "conv2d_w8", x, q, scale, b, (1, 6, 5, 6),
                      dict(kernel_h=3, kernel_w=3, stride_h=1, stride_w=1, dilation_h=1, dilation_w=1, pad_top=1,
                           pad_left=1, groups=2), ACTS[1], exp))
    # depthwise, multiplier 2: 3 channels -> 6, weight [KH][KW][OC], channel oc reads oc // 2
    x = half(rng, (1, 5, 4, 3))
    q, scale = quantized(rng, (3, 3, 6), 2)
    wref = dequantized(q, scale, 2).transpose(2, 0, 1)[..., None]      # [OC][KH][KW][1]
    exp = conv2d_ref(x.astype(np.float64), wref, None, (1, 1), (1, 1), (1, 1, 1, 1), 3, (5, 4))
    cases.append(Case("dw multiplier 2", "depthwise_conv2d_w8", x, q, scale, None, (1, 5, 4, 6),
                      dict(kernel_h=3, kernel_w=3, stride_h=1, stride_w=1, dilation_h=1, dilation_w=1, pad_top=1,
                           pad_left=1, groups=3), ACTS[0], exp))
    return cases


def call_c(case: Case, fn: str, weight: np.ndarray, d: Path, idx: int, tag: str) -> str:
    """C statements: load the case's data (weights as given), call fn, save out + guard."""
    files = {"x": case.x, "w": weight, "s": case.scale}
    if case.bias is not None:
        files["b"] = case.bias
    for k, arr in files.items():
        np.ascontiguousarray(arr).tofile(d / f"c{idx}_{tag}_{k}.bin")
    n_out = int(np.prod(case.out_shape))
    init = np.concatenate([np.full(n_out, np.nan, np.float16), np.full(GUARD, GUARD_VALUE, np.float16)])
    init.tofile(d / f"c{idx}_init.bin")
    ld = "".join(f"void *{k} = hb_load({cstr(d / f'c{idx}_{tag}_{k}.bin')}, {np.asarray(a).nbytes});\n"
                 for k, a in files.items())
    xs, os_ = case.x.shape, case.out_shape
    dims = lambda s: "{" + ", ".join(map(str, s)) + "}"   # noqa: E731
    bias = "b" if case.bias is not None else "NULL"
    if case.op == "dense_w8":
        p = case.params
        params = (f"hhbc_dense_w8_params p = {{.weight = w, .w_scale = s, .bias = {bias}, .m = {p['m']}, "
                  f".n = {p['n']}, .k = {p['k']}, .act = {act_c(**case.act)}}};")
    else:
        p = case.params
        params = (f"hhbc_conv2d_w8_params p = {{.weight = w, .w_scale = s, .bias = {bias}, "
                  f".kernel_h = {p['kernel_h']}, .kernel_w = {p['kernel_w']}, .stride_h = {p['stride_h']}, "
                  f".stride_w = {p['stride_w']}, .dilation_h = {p['dilation_h']}, .dilation_w = {p['dilation_w']}, "
                  f".pad_top = {p['pad_top']}, .pad_left = {p['pad_left']}, .groups = {p['groups']}, "
                  f".act = {act_c(**case.act)}}};")
    out_path = d / f"c{idx}_{tag}.bin"
    return (f"{{ /* {case.label} */\n{ld}"
            f"_Float16 *y = hb_load({cstr(d / f'c{idx}_init.bin')}, {(n_out + GUARD) * 2});\n"
            f"hhbc_tensor tx = {{.data = x, .dim = {dims(xs)}, .ndim = {len(xs)}}};\n"
            f"hhbc_tensor ty = {{.data = y, .dim = {dims(os_)}, .ndim = {len(os_)}}};\n"
            f"{params}\n{fn}(&tx, &ty, &p);\n"
            f"hb_save({cstr(out_path)}, y, {(n_out + GUARD) * 2});\n"
            f"free(y); free(x); free(w); free(s);{' free(b);' if case.bias is not None else ''}\n}}\n")


def read_out(d: Path, idx: int, tag: str, case: Case) -> np.ndarray:
    raw = np.fromfile(d / f"c{idx}_{tag}.bin", np.float16)
    n_out = int(np.prod(case.out_shape))
    assert raw.size == n_out + GUARD
    assert np.array_equal(raw[n_out:].view(np.uint16), np.full(GUARD, GUARD_VALUE).view(np.uint16)), \
        f"{case.label} ({tag}): wrote past the output"
    return raw[:n_out].reshape(case.out_shape)


REF_FN = {"conv2d_w8": "hhbc_conv2d_f16w8", "depthwise_conv2d_w8": "hhbc_depthwise_conv2d_f16w8",
          "dense_w8": "hhbc_dense_f16w8"}
REF_SOURCES = [REF / "conv2d_f16w8.c", REF / "depthwise_conv2d_f16w8.c", REF / "dense_f16w8.c"]


def test_table_rows():
    """The f16w8 rows: one per op in ref, rvv and c906, reading and writing float16."""
    rows = [r for r in TABLE if r.function.endswith(("_f16w8", "_f16w8_rvv", "_f16w8_c906"))]
    got = sorted((r.variant, r.op, r.function) for r in rows)
    assert got == sorted([
        ("ref", "conv2d_w8", "hhbc_conv2d_f16w8"), ("ref", "depthwise_conv2d_w8", "hhbc_depthwise_conv2d_f16w8"),
        ("ref", "dense_w8", "hhbc_dense_f16w8"),
        *[(v, "conv2d_w8", f"hhbc_conv2d_1x1_f16w8_{v}") for v in ("rvv", "c906")],
        *[(v, "conv2d_w8", f"hhbc_conv2d_f16w8_{v}") for v in ("rvv", "c906")],
        *[(v, "depthwise_conv2d_w8", f"hhbc_depthwise_conv2d_f16w8_{v}") for v in ("rvv", "c906")],
        *[(v, "dense_w8", f"hhbc_dense_f16w8_{v}") for v in ("rvv", "c906")]])
    assert all(r.dtypes == ("float16", "float16") for r in rows)


@needs_cc
def test_ref_against_numpy(tmp_path):
    """hhbc_<op>_f16w8 (host cc, -Werror, strict flags, ASan/UBSan when available) against float64 numpy."""
    cases = all_cases() + ref_only_cases()
    for c in ref_only_cases():
        assert _row("rvv", c)[0] is None and _row("c906", c)[0] is None, c.label
    body = "".join(call_c(c, REF_FN[c.op], c.q, tmp_path, i, "ref") for i, c in enumerate(cases))
    main = tmp_path / "main.c"
    main.write_text(PRELUDE + "int main(void)\n{\n" + body + "return 0;\n}\n")
    exe = tmp_path / "main"
    cmd = [HOST_CC, "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-Wshadow", "-Wstrict-prototypes",
           *sanitizer_flags(), "-I", str(INCLUDE), "-I", str(REF), str(main), *map(str, REF_SOURCES),
           "-o", str(exe), "-lm"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-4000:]
    res = subprocess.run([str(exe)], capture_output=True, text=True, env=RUN_ENV, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    failures = []
    for i, c in enumerate(cases):
        got = read_out(tmp_path, i, "ref", c).astype(np.float64)
        peak = max(float(np.max(np.abs(c.expected))), 1e-3)
        err = float(np.max(np.abs(got - c.expected)))
        if not err <= 1e-3 * peak:
            failures.append(f"{c.label}: max |err| {err:.3g} > 1e-3 x {peak:.3g}")
    assert not failures, "\n".join(failures)


def _row(variant: str, case: Case):
    """The first row of `variant` that takes the case (the kernel the compiler would pick)."""
    node = case.node()
    for r in TABLE:
        if r.variant == variant and r.op == case.op and r.dtypes == ("float16", "float16") and r.supports(node):
            return r, node
    return None, node


def _vector_program(tmp_path: Path, variant: str):
    """One program per variant: every case through ref and through the vector kernel."""
    cases = all_cases()
    body, used = [], []
    for i, c in enumerate(cases):
        row, node = _row(variant, c)
        assert row is not None, f"{c.label}: no {variant} kernel takes it"
        packed = row.pack(node)["weight"] if row.pack else c.q
        assert packed.dtype == np.int8
        body.append(call_c(c, REF_FN[c.op], c.q, tmp_path, i, "ref"))
        body.append(call_c(c, row.function, packed, tmp_path, i, "vec"))
        used.append(row.function)
    decls = "".join(
        f"void {f}(const hhbc_tensor *in, const hhbc_tensor *out, const "
        f"{'hhbc_dense_w8_params' if 'dense' in f else 'hhbc_conv2d_w8_params'} *p);\n" for f in sorted(set(used)))
    main = tmp_path / "main.c"
    main.write_text(PRELUDE + decls + "int main(void)\n{\n" + "".join(body) + "return 0;\n}\n")
    if variant == "rvv":
        mcpu, vdir = "-mcpu=baseline_rv64+v+zfh+zvfh", RVV
    else:
        mcpu, vdir = "-mcpu=baseline_rv64+zfh", C906
    objs = []
    for src in [*REF_SOURCES, vdir / "conv2d_f16w8.c", main]:
        obj = tmp_path / f"{src.parent.name}_{src.stem}.o"
        flags = ["-std=c99", "-O2", "-Wall", "-Wextra"] + (["-Werror"] if src != main else [])
        cmd = [sys.executable, "-m", "ziglang", "cc", "-target", "riscv64-linux-musl", mcpu, *flags,
               "-I", str(INCLUDE), "-I", str(vdir), "-I", str(REF), "-c", str(src), "-o", str(obj)]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, f"{src.name}:\n{res.stderr[-4000:]}"
        objs.append(str(obj))
    exe = tmp_path / "main"
    res = subprocess.run([sys.executable, "-m", "ziglang", "cc", "-target", "riscv64-linux-musl", mcpu, *objs,
                          "-o", str(exe), "-lm"], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-4000:]
    return cases, used, exe


def _check_vector(tmp_path: Path, cases, used, exe: Path, cpu: str):
    for f in tmp_path.glob("c*_vec.bin"):
        f.unlink()
    res = subprocess.run([str(QEMU), "-cpu", cpu, str(exe)], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    failures = []
    for i, (c, fn) in enumerate(zip(cases, used)):
        ref = read_out(tmp_path, i, "ref", c)
        got = read_out(tmp_path, i, "vec", c)
        if c.act["kind"] in EXACT_ACTS:
            bad = int(np.count_nonzero(ref.view(np.uint16) != got.view(np.uint16)))
            if bad:
                failures.append(f"{fn} {c.label}: {bad} outputs differ from ref bit for bit")
        else:
            r64, g64 = ref.astype(np.float64), got.astype(np.float64)
            ulp = np.abs(np.spacing(ref.astype(np.float16))).astype(np.float64)
            peak = max(float(np.max(np.abs(r64))), 1e-3)
            err = np.abs(g64 - r64)
            if not (np.all(np.isfinite(g64)) and np.all(err <= np.maximum(1e-3 * peak, ulp))):
                failures.append(f"{fn} {c.label}: max |err| {float(np.max(err)):.3g} (peak {peak:.3g})")
    assert not failures, f"{cpu}:\n" + "\n".join(failures)


@pytest.fixture(scope="module")
def rvv_program(tmp_path_factory):
    d = tmp_path_factory.mktemp("f16w8_rvv")
    return (d, *_vector_program(d, "rvv"))


@pytest.fixture(scope="module")
def c906_program(tmp_path_factory):
    d = tmp_path_factory.mktemp("f16w8_c906")
    return (d, *_vector_program(d, "c906"))


VECTOR = [pytest.mark.qemu, needs_zig, pytest.mark.skipif(QEMU is None, reason="xuantie-qemu is not installed")]


@pytest.mark.parametrize("cpu", ["c908v", "rv64,x-v=true,vlen=128", "rv64,x-v=true,vlen=256",
                                 "rv64,x-v=true,vlen=512"])
@pytest.mark.qemu
@needs_zig
@pytest.mark.skipif(QEMU is None, reason="xuantie-qemu is not installed")
def test_rvv_against_ref(rvv_program, cpu):
    d, cases, used, exe = rvv_program
    _check_vector(d, cases, used, exe, cpu)


@pytest.mark.qemu
@needs_zig
@pytest.mark.skipif(QEMU is None, reason="xuantie-qemu is not installed")
def test_c906_against_ref(c906_program):
    d, cases, used, exe = c906_program
    _check_vector(d, cases, used, exe, "c906fdv")
