"""The vector pooling, elementwise and data-movement kernels of both ISAs against the
reference kernels, under QEMU: `c906` (RVV 0.7.1, kernels/c906/) on `c906fdv`; `rvv` (RVV 1.0
intrinsics, kernels/rvv/) on `c908v` and `rv64,x-v=true` at VLEN 128, 256 and 512 (the same
binary runs on every cpu).

One C program per kernel and variant holds every case (f32 and f16): inputs come from a fixed
LCG, the reference kernel (kernels/ref, float32) and the vector kernel run on the same tensors,
and the program prints, per case, the largest |vector - ref| and the largest |ref|. float16
cases feed the half inputs (widened) to the float32 reference and compare within 1e-2 of
max |ref|; float32 cases within 1e-5 of max |ref| (exact where the kernel computes exactly as
ref). Outputs are pre-filled with NaN and followed by a guard zone that must stay untouched.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from c_harness import ACTS, INCLUDE, QEMU, REF, ROOT, VECTOR_KERNEL_MARKS, act_c, fl, ilist, numel, tensor

# variant -> (kernel folder, zig flags, QEMU cpus)
VARIANTS = {
    "c906": (ROOT / "hhbc" / "kernels" / "c906", ["-target", "riscv64-linux-musl", "-mcpu=baseline_rv64+zfh"],
             ["c906fdv"]),
    "rvv": (ROOT / "hhbc" / "kernels" / "rvv", ["-target", "riscv64-linux-musl", "-mcpu=baseline_rv64+v+zfh+zvfh"],
            ["c908v", "rv64,x-v=true,vlen=128", "rv64,x-v=true,vlen=256", "rv64,x-v=true,vlen=512"]),
}
KERNEL_FLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"]


pytestmark = VECTOR_KERNEL_MARKS



@pytest.fixture(params=list(VARIANTS))
def variant(request) -> str:
    return request.param


F32_TOL = 1e-5
F16_TOL = 1e-2

PRELUDE = r"""
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "hhbc_kernels.h"

#define GUARD 64
static uint32_t rng_state = 12345u;
static float frand(float lo, float hi)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return lo + (hi - lo) * (float)(rng_state >> 8) * (1.0f / 16777216.0f);
}
static void fill32(float *x, int32_t n, float lo, float hi)
{
    for (int32_t i = 0; i < n; i++) x[i] = frand(lo, hi);
}
static void fill16(_Float16 *h, float *f, int32_t n, float lo, float hi)
{
    for (int32_t i = 0; i < n; i++) { h[i] = (_Float16)frand(lo, hi); f[i] = (float)h[i]; }
}
static void prep32(float *x, int32_t n)
{
    for (int32_t i = 0; i < n; i++) x[i] = NAN;
    for (int32_t i = n; i < n + GUARD; i++) x[i] = 1234.5f;
}
static void prep16(_Float16 *x, int32_t n)
{
    for (int32_t i = 0; i < n; i++) x[i] = (_Float16)NAN;
    for (int32_t i = n; i < n + GUARD; i++) x[i] = (_Float16)1234.5f;
}
static double err1(double got, double ref)
{
    if (isnan(ref)) return isnan(got) ? 0.0 : INFINITY;
    if (isinf(ref)) return got == ref ? 0.0 : INFINITY;
    if (isnan(got) || isinf(got)) return INFINITY;
    return fabs(got - ref);
}
static void report32(const char *name, const float *got, const float *ref, int32_t n)
{
    double e = 0.0, m = 0.0;
    int guard_ok = 1;
    for (int32_t i = 0; i < n; i++) {
        const double d = err1(got[i], ref[i]);
        if (!(d <= e)) e = d;
        if (isfinite(ref[i]) && fabs(ref[i]) > m) m = fabs(ref[i]);
    }
    for (int32_t i = n; i < n + GUARD; i++) guard_ok &= got[i] == 1234.5f;
    printf("CASE %s err=%.9g max=%.9g guard=%d\n", name, e, m, guard_ok);
}
/* largest elementwise relative error (reported as err, with max = 1) */
static void report32rel(const char *name, const float *got, const float *ref, int32_t n)
{
    double e = 0.0;
    int guard_ok = 1;
    for (int32_t i = 0; i < n; i++) {
        const double d = ref[i] != 0.0f ? err1(got[i], ref[i]) / fabs(ref[i]) : err1(got[i], ref[i]);
        if (!(d <= e)) e = d;
    }
    for (int32_t i = n; i < n + GUARD; i++) guard_ok &= got[i] == 1234.5f;
    printf("CASE %s err=%.9g max=1 guard=%d\n", name, e, guard_ok);
}
static void report16(const char *name, const _Float16 *got, const float *ref, int32_t n)
{
    double e = 0.0, m = 0.0;
    int guard_ok = 1;
    for (int32_t i = 0; i < n; i++) {
        double r = ref[i];
        if (isinf(r) || fabs(r) > 65504.0) r = (double)(float)(_Float16)ref[i];
        const double d = err1((double)got[i], r);
        if (!(d <= e)) e = d;
        if (isfinite(ref[i]) && fabs(ref[i]) > m) m = fabs(ref[i]);
    }
    for (int32_t i = n; i < n + GUARD; i++) guard_ok &= got[i] == (_Float16)1234.5f;
    printf("CASE %s err=%.9g max=%.9g guard=%d\n", name, e, m, guard_ok);
}
"""



class Program:
    """The cases of one kernel (f32 and f16) in one C program, run once under QEMU."""

    def __init__(self, variant: str, tmp_path: Path, name: str, ref_sources: list[str], vec_sources: list[str],
                 decls: str = ""):
        self.dir = tmp_path
        self.name = name
        self.ref_sources = [REF / s for s in ref_sources]
        self.variant = variant
        self.kernel_dir, self.zig, self.cpus = VARIANTS[variant]
        self.vec_sources = [self.kernel_dir / s for s in vec_sources]
        self.decls = decls
        self.cases: list[str] = []
        self.tols: dict[str, float] = {}

    def case(self, label: str, body: str, f16: bool = False, tol: float | None = None):
        label = re.sub(r"[^A-Za-z0-9_.,=x:+-]", "_", label) + ("_f16" if f16 else "_f32")
        assert label not in self.tols, label
        self.tols[label] = tol if tol is not None else (F16_TOL if f16 else F32_TOL)
        idx = len(self.cases)
        self.cases.append(f'static void case_{idx}(void)\n{{\n    const char *name = "{label}";\n'
                          + "\n".join("    " + ln for ln in body.strip().splitlines())
                          + "\n}\n")

    def run(self) -> dict[str, tuple[float, float]]:
        objs = []
        for src in self.vec_sources + self.ref_sources:   # kernels: warning-free at -Werror
            obj = self.dir / (src.parent.name + "_" + src.stem + ".o")
            cmd = [sys.executable, "-m", "ziglang", "cc", *self.zig, *KERNEL_FLAGS, "-I", str(INCLUDE),
                   "-I", str(self.kernel_dir), "-c", str(src), "-o", str(obj)]
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
            assert res.returncode == 0, f"{src}:\n{res.stderr}"
            objs.append(obj)
        main = self.dir / f"main_{self.name}.c"
        # kernels are named hhbc_<op>_<dtype>_VEC in the cases: the variant under test
        code = (self.decls + "\n" + "\n".join(self.cases)).replace("_VEC", f"_{self.variant}")
        main.write_text(PRELUDE + code + "\nint main(void)\n{\n"
                        + "".join(f"    case_{i}();\n" for i in range(len(self.cases)))
                        + "    return 0;\n}\n")
        exe = self.dir / f"main_{self.name}"
        cmd = [sys.executable, "-m", "ziglang", "cc", *self.zig, "-std=c99", "-O1", "-Wall", "-Wextra",
               "-Wno-unused-variable", "-Wno-unused-parameter", "-I", str(INCLUDE), str(main),
               *map(str, objs), "-o", str(exe), "-lm"]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, f"build failed:\n{res.stderr[-6000:]}"
        failures = []
        for cpu in self.cpus:
            failures += self._run_on(exe, cpu)
        assert not failures, f"{len(failures)} case runs failed:\n" + "\n".join(failures)

    def _run_on(self, exe: Path, cpu: str) -> list[str]:
        res = subprocess.run([str(QEMU), "-cpu", cpu, str(exe)], capture_output=True, text=True,
                             timeout=600)
        assert res.returncode == 0, f"{self.name} on {cpu} failed (rc={res.returncode}):\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
        got = {}
        for m in re.finditer(r"^CASE (\S+) err=(\S+) max=(\S+) guard=(\d)$", res.stdout, re.M):
            got[m.group(1)] = (float(m.group(2)), float(m.group(3)), int(m.group(4)))
        failures = []
        for label, tol in self.tols.items():
            label_cpu = f"[{cpu}] {label}"
            if label not in got:
                failures.append(f"{label_cpu}: no result")
                continue
            err, mx, guard = got[label]
            if not guard:
                failures.append(f"{label_cpu}: wrote past the output")
            if not err <= tol * max(mx, 1e-3):
                failures.append(f"{label_cpu}: max |err| {err:.3g} > {tol:g} x max |ref| {mx:.3g}")
        return failures


# ----------------------------------------------------------------------------------
# unary-signature kernels: in -> out with a params struct
# ----------------------------------------------------------------------------------

def unary_case(prog: Program, label: str, fn: str, params_type: str, params: str, in_shape, out_shape,
               lo=-2.0, hi=2.0, f16=False, tol=None, ref_fn: str | None = None, extra: str = ""):
    """ref_fn(in32, out_ref, &p) against fn (the vector kernel, f32 or f16) on the same data; labels
    starting with rel_ report the largest elementwise relative error instead."""
    report = "report32rel" if label.startswith("rel_") else "report32"
    n_in, n_out = numel(in_shape), numel(out_shape)
    ref_fn = ref_fn or fn.replace("_f16_VEC", "_f32").replace("_f32_VEC", "_f32")
    if f16:
        body = f"""
static _Float16 x16[{n_in}], y16[{n_out} + GUARD];
static float x32[{n_in}], r32[{n_out}];
{extra}
fill16(x16, x32, {n_in}, {fl(lo)}, {fl(hi)});
prep16(y16, {n_out});
hhbc_tensor tx = {tensor("x32", in_shape)}, tr = {tensor("r32", out_shape)};
hhbc_tensor tx16 = {tensor("x16", in_shape)}, ty16 = {tensor("y16", out_shape)};
const {params_type} p = {params};
{ref_fn}(&tx, &tr, &p);
{fn}(&tx16, &ty16, &p);
report16(name, y16, r32, {n_out});
"""
    else:
        body = f"""
static float x32[{n_in}], y32[{n_out} + GUARD], r32[{n_out}];
{extra}
fill32(x32, {n_in}, {fl(lo)}, {fl(hi)});
prep32(y32, {n_out});
hhbc_tensor tx = {tensor("x32", in_shape)}, tr = {tensor("r32", out_shape)}, ty = {tensor("y32", out_shape)};
const {params_type} p = {params};
{ref_fn}(&tx, &tr, &p);
{fn}(&tx, &ty, &p);
{report}(name, y32, r32, {n_out});
"""
    prog.case(label, body, f16=f16, tol=tol)


def decl_unary(op: str, params_type: str) -> str:
    return "".join(f"void hhbc_{op}_{d}_VEC(const hhbc_tensor *in, const hhbc_tensor *out, "
                   f"const {params_type} *p);\n" for d in ("f32", "f16"))


# ----------------------------------------------------------------------------------
# pool2d
# ----------------------------------------------------------------------------------

def pool_out(n, k, s, d, pb, pa):
    return (n + pb + pa - d * (k - 1) - 1) // s + 1


POOL_CASES = [
    # (H, W, C, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, cip, out_hw or None)
    (25, 5, 32, 24, 5, 24, 5, 1, 1, 0, 0, 0, 0, 0, None),     # Alibaba KWS average pool (as the graph has it)
    (25, 5, 32, 24, 5, 1, 1, 1, 1, 0, 0, 0, 0, 0, None),
    (25, 5, 64, 24, 5, 24, 5, 1, 1, 0, 0, 0, 0, 0, None),     # DS-CNN
    (6, 10, 7, 3, 5, 1, 1, 1, 2, 0, 0, 0, 0, 0, None),        # dilated rows that continue one run
    (1, 9, 17, 1, 9, 1, 1, 1, 1, 0, 0, 0, 0, 1, None),        # one-row windows
    (7, 7, 33, 7, 7, 1, 1, 1, 1, 0, 0, 0, 0, 0, None),        # global
    (8, 8, 17, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 0, None),
    (9, 9, 7, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, None),
    (9, 9, 7, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, None),
    (6, 5, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, None),
    (6, 5, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, None),
    (10, 9, 33, 3, 3, 1, 2, 2, 2, 2, 1, 2, 2, 1, None),       # dilation
    (5, 5, 65, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, 0, None),        # ceil-mode style pad
    (3, 3, 7, 2, 2, 1, 1, 1, 1, 2, 2, 2, 2, 0, None),         # windows entirely in the padding
    (3, 3, 7, 2, 2, 1, 1, 1, 1, 2, 2, 2, 2, 1, None),
    (7, 6, 16, 3, 2, 2, 2, 1, 1, 0, 0, 0, 0, 0, (4, 3)),      # output larger than floor mode
    (4, 4, 100, 4, 4, 1, 1, 1, 1, 0, 0, 0, 0, 0, None),
]


def test_pool2d(tmp_path, variant):
    prog = Program(variant, tmp_path, "pool2d", ["pool2d.c"], ["pool2d.c"], decl_unary("pool2d", "hhbc_pool2d_params"))
    for kind in ("MAX", "AVG"):
        for (h, w, c, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, cip, ohw) in POOL_CASES:
            oh, ow = ohw or (pool_out(h, kh, sh, dh, pt, pb), pool_out(w, kw, sw, dw, pl, pr))
            for n in ((1, 2) if c == 7 else (1,)):
                params = (f"{{.kind = HHBC_POOL_{kind}, .kernel_h = {kh}, .kernel_w = {kw}, .stride_h = {sh}, "
                          f".stride_w = {sw}, .dilation_h = {dh}, .dilation_w = {dw}, .pad_top = {pt}, "
                          f".pad_left = {pl}, .pad_bottom = {pb}, .pad_right = {pr}, .count_include_pad = {cip}}}")
                label = f"{kind}_{n}x{h}x{w}x{c}_k{kh}x{kw}_s{sh}{sw}_d{dh}{dw}_p{pt}{pl}{pb}{pr}_cip{cip}"
                for f16 in (False, True):
                    unary_case(prog, label, f"hhbc_pool2d_{'f16' if f16 else 'f32'}_VEC", "hhbc_pool2d_params",
                               params, (n, h, w, c), (n, oh, ow, c), f16=f16,
                               tol=0.0 if (kind == "MAX") else None)
    prog.run()


# ----------------------------------------------------------------------------------
# unary
# ----------------------------------------------------------------------------------

SIZES = [1, 3, 7, 17, 33, 100, 1000]


def test_unary(tmp_path, variant):
    prog = Program(variant, tmp_path, "unary", ["unary.c"], ["unary.c"], decl_unary("unary", "hhbc_unary_params"))
    for f16 in (False, True):
        for act in ACTS:
            for size in SIZES:
                params = f"{{.op = HHBC_UN_ACT, .size = {size}, .act = {act_c(**act)}}}"
                label = f"ACT_{act['kind']}_{act.get('lo', '')}_{size}"
                unary_case(prog, label, f"hhbc_unary_{'f16' if f16 else 'f32'}_VEC", "hhbc_unary_params",
                           params, (size,), (size,), lo=-8.0, hi=8.0, f16=f16)
        for op, lo, hi in [("TANH", -5.0, 5.0), ("TANH", -0.7, 0.7), ("EXP", -20.0, 20.0), ("EXP", -87.0, 88.0),
                           ("SQRT", 0.0, 100.0), ("RSQRT", 0.01, 100.0), ("ABS", -3.0, 3.0), ("NEG", -3.0, 3.0)]:
            for size in (7, 33, 1000):
                for act in (dict(kind="NONE"), dict(kind="RELU"), dict(kind="SIGMOID")):
                    if op == "EXP" and act["kind"] != "NONE" and hi > 50:
                        continue
                    params = f"{{.op = HHBC_UN_{op}, .size = {size}, .act = {act_c(**act)}}}"
                    label = f"{op}_{lo}_{hi}_{act['kind']}_{size}"
                    unary_case(prog, label, f"hhbc_unary_{'f16' if f16 else 'f32'}_VEC", "hhbc_unary_params",
                               params, (size,), (size,), lo=lo, hi=hi, f16=f16,
                               tol=(2e-2 if f16 and op == "EXP" and hi > 50 else None))
    # the exp / tanh / sigmoid polynomials elementwise against libm (ref), in float32
    for op, act, lo, hi in [("EXP", "NONE", -87.0, 88.0), ("TANH", "NONE", -10.0, 10.0),
                            ("TANH", "NONE", -0.7, 0.7), ("ACT", "SIGMOID", -80.0, 80.0)]:
        params = f"{{.op = HHBC_UN_{op}, .size = 20000, .act = {act_c(act)}}}"
        unary_case(prog, f"rel_{op}_{act}_{lo}_{hi}", "hhbc_unary_f32_VEC", "hhbc_unary_params", params,
                   (20000,), (20000,), lo=lo, hi=hi, tol=1e-6)
    prog.run()


# ----------------------------------------------------------------------------------
# binary
# ----------------------------------------------------------------------------------

def contig_strides(shape):
    out, s = [], 1
    for d in reversed(shape):
        out.append(s)
        s *= d
    return out[::-1]


def bcast_strides(in_shape, out_shape):
    in_shape = (1,) * (len(out_shape) - len(in_shape)) + tuple(in_shape)
    st = contig_strides(in_shape)
    return [0 if d == 1 and o != 1 else s for d, o, s in zip(in_shape, out_shape, st)]


BINARY_SHAPES = [
    # (a shape, b shape, out shape)
    ((1,), (1,), (1,)),
    ((3,), (3,), (3,)),
    ((7,), (7,), (7,)),
    ((17,), (17,), (17,)),
    ((1, 5, 5, 33), (1, 5, 5, 33), (1, 5, 5, 33)),       # both dense
    ((1, 4, 4, 17), (1,), (1, 4, 4, 17)),                # b scalar
    ((1,), (1, 4, 4, 17), (1, 4, 4, 17)),                # a scalar
    ((1, 4, 5, 7), (7,), (1, 4, 5, 7)),                  # per-channel row
    ((33,), (1, 3, 2, 33), (1, 3, 2, 33)),               # per-channel row on the left
    ((2, 3, 1, 5), (1, 1, 4, 5), (2, 3, 4, 5)),          # general odometer
    ((2, 1, 9), (2, 17, 1), (2, 17, 9)),                 # strided (column) broadcast
    ((1, 1, 40), (3, 1, 1), (3, 1, 40)),
]


def binary_case(prog, label, op, a_shape, b_shape, out_shape, act, f16):
    na, nb, no = numel(a_shape), numel(b_shape), numel(out_shape)
    nd = len(out_shape)
    params = (f"{{.op = HHBC_BIN_{op}, .ndim = {nd}, .out_dim = {ilist(out_shape)}, "
              f".a_stride = {ilist(bcast_strides(a_shape, out_shape))}, "
              f".b_stride = {ilist(bcast_strides(b_shape, out_shape))}, .act = {act_c(**act)}}}")
    lo_b = 0.5 if op in ("DIV", "POW") else -2.0
    if f16:
        body = f"""
static _Float16 a16[{na}], b16[{nb}], y16[{no} + GUARD];
static float a32[{na}], b32[{nb}], r32[{no}];
fill16(a16, a32, {na}, {fl(0.1 if op == 'POW' else -2.0)}, 2.0f);
fill16(b16, b32, {nb}, {fl(lo_b)}, 2.0f);
prep16(y16, {no});
hhbc_tensor ta = {tensor("a32", a_shape)}, tb = {tensor("b32", b_shape)}, tr = {tensor("r32", out_shape)};
hhbc_tensor ta16 = {tensor("a16", a_shape)}, tb16 = {tensor("b16", b_shape)}, ty16 = {tensor("y16", out_shape)};
const hhbc_binary_params p = {params};
hhbc_binary_f32(&ta, &tb, &tr, &p);
hhbc_binary_f16_VEC(&ta16, &tb16, &ty16, &p);
report16(name, y16, r32, {no});
"""
    else:
        body = f"""
static float a32[{na}], b32[{nb}], y32[{no} + GUARD], r32[{no}];
fill32(a32, {na}, {fl(0.1 if op == 'POW' else -2.0)}, 2.0f);
fill32(b32, {nb}, {fl(lo_b)}, 2.0f);
prep32(y32, {no});
hhbc_tensor ta = {tensor("a32", a_shape)}, tb = {tensor("b32", b_shape)}, tr = {tensor("r32", out_shape)};
hhbc_tensor ty = {tensor("y32", out_shape)};
const hhbc_binary_params p = {params};
hhbc_binary_f32(&ta, &tb, &tr, &p);
hhbc_binary_f32_VEC(&ta, &tb, &ty, &p);
report32(name, y32, r32, {no});
"""
    prog.case(label, body, f16=f16)


def test_binary(tmp_path, variant):
    decls = "".join(f"void hhbc_binary_{d}_VEC(const hhbc_tensor *a, const hhbc_tensor *b, const hhbc_tensor *out, "
                    "const hhbc_binary_params *p);\n" for d in ("f32", "f16"))
    prog = Program(variant, tmp_path, "binary", ["binary.c"], ["binary.c"], decls)
    for f16 in (False, True):
        for i, (sa, sb, so) in enumerate(BINARY_SHAPES):
            for op in ("ADD", "SUB", "MUL", "DIV", "MAX", "MIN"):
                binary_case(prog, f"{op}_s{i}", op, sa, sb, so, dict(kind="NONE"), f16)
        for act in ACTS[1:]:
            for i in (3, 4, 5, 7, 9):
                binary_case(prog, f"ADD_{act['kind']}_{act.get('lo', '')}_s{i}", "ADD", *BINARY_SHAPES[i], act, f16)
    prog.run()


# ----------------------------------------------------------------------------------
# softmax, prelu, reduce, pad, concat, copy
# ----------------------------------------------------------------------------------

def test_softmax(tmp_path, variant):
    prog = Program(variant, tmp_path, "softmax", ["softmax.c"], ["softmax.c"], decl_unary("softmax", "hhbc_softmax_params"))
    for f16 in (False, True):
        for outer, axis, inner in [(1, 1, 1), (1, 3, 1), (2, 7, 1), (1, 12, 1), (3, 17, 1), (1, 33, 1),
                                   (2, 1000, 1), (1, 5, 3), (2, 7, 17), (1, 33, 40), (2, 3, 1)]:
            for log in ((0, 1) if inner == 1 else (0,)):   # log-softmax with inner > 1: ref
                params = f"{{.outer = {outer}, .axis_size = {axis}, .inner = {inner}, .log = {log}}}"
                shape = (outer, axis, inner)
                unary_case(prog, f"sm{log}_{outer}x{axis}x{inner}", f"hhbc_softmax_{'f16' if f16 else 'f32'}_VEC",
                           "hhbc_softmax_params", params, shape, shape, lo=-10.0, hi=10.0, f16=f16)
    prog.run()


def test_prelu(tmp_path, variant):
    prog = Program(variant, tmp_path, "prelu", ["prelu.c"], ["prelu.c"], decl_unary("prelu", "hhbc_prelu_params"))
    for f16 in (False, True):
        for outer, ch, inner in [(1, 1, 1), (4, 3, 1), (5, 7, 1), (3, 17, 1), (2, 33, 1), (1, 64, 1),
                                 (1, 3, 7), (2, 5, 17), (1, 2, 33)]:
            extra = f"static float slope[{ch}];\nfill32(slope, {ch}, -0.5f, 0.5f);"
            params = f"{{.slope = slope, .outer = {outer}, .channels = {ch}, .inner = {inner}}}"
            shape = (outer, ch, inner)
            unary_case(prog, f"prelu_{outer}x{ch}x{inner}", f"hhbc_prelu_{'f16' if f16 else 'f32'}_VEC",
                       "hhbc_prelu_params", params, shape, shape, f16=f16, extra=extra)
    prog.run()


def reduce_params(op, in_shape, axes):
    kept = [1 if i in axes else d for i, d in enumerate(in_shape)]
    st = contig_strides(kept)
    st = [0 if i in axes else s for i, s in enumerate(st)]
    count = numel([in_shape[a] for a in axes])
    return (f"{{.op = HHBC_RED_{op}, .ndim = {len(in_shape)}, .in_dim = {ilist(in_shape)}, "
            f".out_stride = {ilist(st)}, .out_size = {numel(kept)}, .reduce_count = {count}}}"), kept


def test_reduce(tmp_path, variant):
    prog = Program(variant, tmp_path, "reduce", ["reduce.c"], ["reduce.c"], decl_unary("reduce", "hhbc_reduce_params"))
    cases = [((1, 7, 7, 33), (1, 2)), ((1, 5, 5, 17), (1, 2)), ((2, 3, 3, 7), (1, 2)), ((1, 1, 1, 64), (1, 2)),
             ((2, 4, 100), (2,)), ((3, 17), (1,)), ((1, 5, 7), (1,)), ((2, 3, 4, 5), (1, 2)), ((2, 3, 4, 5), (0, 1)), ((6,), (0,)),
             ((4, 1, 3), (0, 1, 2)), ((1, 2, 3, 3), (3,))]
    for f16 in (False, True):
        for shape, axes in cases:
            for op in ("MEAN", "SUM", "MAX", "MIN"):
                params, kept = reduce_params(op, shape, axes)
                label = f"{op}_{'x'.join(map(str, shape))}_ax{''.join(map(str, axes))}"
                unary_case(prog, label, f"hhbc_reduce_{'f16' if f16 else 'f32'}_VEC", "hhbc_reduce_params",
                           params, shape, kept, f16=f16, tol=0.0 if op in ("MAX", "MIN") else None)
    prog.run()


def test_pad(tmp_path, variant):
    prog = Program(variant, tmp_path, "pad", ["pad.c"], ["pad.c"], decl_unary("pad", "hhbc_pad_params"))
    cases = [((1, 5, 5, 7), (0, 1, 1, 0), (0, 1, 1, 0)), ((1, 4, 3, 33), (0, 2, 0, 0), (0, 1, 3, 0)),
             ((1, 3, 3, 3), (0, 0, 0, 2), (0, 0, 0, 5)), ((17,), (3,), (4,)), ((2, 3, 1), (1, 0, 1), (0, 2, 0)),
             ((1, 49, 10, 1), (0, 4, 1, 0), (0, 5, 2, 0))]
    for f16 in (False, True):
        for mode in ("CONSTANT",):
            for in_shape, before, after in cases:
                out_shape = [d + b + a for d, b, a in zip(in_shape, before, after)]
                if mode == "REFLECT" and any(b >= d or a >= d for d, b, a in zip(in_shape, before, after)):
                    continue
                params = (f"{{.mode = HHBC_PAD_{mode}, .value = {fl(0.5)}, .ndim = {len(in_shape)}, "
                          f".in_dim = {ilist(in_shape)}, .out_dim = {ilist(out_shape)}, .before = {ilist(before)}}}")
                label = f"{mode}_{'x'.join(map(str, in_shape))}_{''.join(map(str, before))}_{''.join(map(str, after))}"
                unary_case(prog, label, f"hhbc_pad_{'f16' if f16 else 'f32'}_VEC", "hhbc_pad_params", params,
                           in_shape, out_shape, f16=f16, tol=0.0)
    prog.run()


def test_concat_copy(tmp_path, variant):
    decls = "".join(f"void hhbc_concat_{d}_VEC(const hhbc_tensor *const *in, const hhbc_tensor *out, "
                    "const hhbc_concat_params *p);\n"
                    f"void hhbc_copy_{d}_VEC(const hhbc_tensor *in, const hhbc_tensor *out);\n" for d in ("f32", "f16"))
    prog = Program(variant, tmp_path, "concat", ["concat.c", "copy.c"], ["concat.c", "copy.c"], decls)
    for f16 in (False, True):
        t = "f16" if f16 else "f32"
        for size in SIZES + [4096 + 5]:
            if f16:
                body = f"""
static _Float16 x16[{size}], y16[{size} + GUARD];
static float x32[{size}], r32[{size}];
fill16(x16, x32, {size}, -2.0f, 2.0f);
prep16(y16, {size});
hhbc_tensor tx = {tensor("x32", (size,))}, tr = {tensor("r32", (size,))};
hhbc_tensor tx16 = {tensor("x16", (size,))}, ty16 = {tensor("y16", (size,))};
hhbc_copy_f32(&tx, &tr);
hhbc_copy_f16_VEC(&tx16, &ty16);
report16(name, y16, r32, {size});
"""
            else:
                body = f"""
static float x32[{size}], y32[{size} + GUARD], r32[{size}];
fill32(x32, {size}, -2.0f, 2.0f);
prep32(y32, {size});
hhbc_tensor tx = {tensor("x32", (size,))}, tr = {tensor("r32", (size,))}, ty = {tensor("y32", (size,))};
hhbc_copy_f32(&tx, &tr);
hhbc_copy_f32_VEC(&tx, &ty);
report32(name, y32, r32, {size});
"""
            prog.case(f"copy_{size}", body, f16=f16, tol=0.0)
        for outer, inner, dims in [(1, 1, (1, 2)), (3, 1, (3, 7)), (2, 5, (1, 17, 4)), (4, 33, (2, 3)),
                                   (1, 8, (64, 64))]:
            k = len(dims)
            n_out = outer * inner * sum(dims)
            lines = [f"static const int32_t axis_dim[{k}] = {ilist(dims)};"]
            lines.append(f"static float r32[{n_out}];")
            lines.append(f"static {'_Float16' if f16 else 'float'} y[{n_out} + GUARD];")
            lines.append(f"prep{16 if f16 else 32}(y, {n_out});")
            for i, d in enumerate(dims):
                n = outer * d * inner
                lines.append(f"static float x{i}[{n}];")
                if f16:
                    lines.append(f"static _Float16 h{i}[{n}];")
                    lines.append(f"fill16(h{i}, x{i}, {n}, -2.0f, 2.0f);")
                    lines.append(f"hhbc_tensor th{i} = {tensor(f'h{i}', (n,))};")
                else:
                    lines.append(f"fill32(x{i}, {n}, -2.0f, 2.0f);")
                lines.append(f"hhbc_tensor tx{i} = {tensor(f'x{i}', (n,))};")
            lines.append(f"const hhbc_tensor *ins[{k}] = {{{', '.join(f'&tx{i}' for i in range(k))}}};")
            src = ", ".join(f"&t{'h' if f16 else 'x'}{i}" for i in range(k))
            lines.append(f"const hhbc_tensor *ins_k[{k}] = {{{src}}};")
            lines.append(f"hhbc_tensor tr = {tensor('r32', (n_out,))}, ty = {tensor('y', (n_out,))};")
            lines.append(f"const hhbc_concat_params p = {{.num_inputs = {k}, .outer = {outer}, .inner = {inner}, "
                         ".axis_dim = axis_dim};")
            lines.append("hhbc_concat_f32(ins, &tr, &p);")
            lines.append(f"hhbc_concat_{t}_VEC(ins_k, &ty, &p);")
            lines.append(f"report{16 if f16 else 32}(name, y, r32, {n_out});")
            prog.case(f"concat_{outer}_{inner}_{'_'.join(map(str, dims))}", "\n".join(lines), f16=f16, tol=0.0)
    prog.run()


def test_cast(tmp_path, variant):
    """float32 <-> float16 against the C conversions (round to nearest even), bit for bit."""
    decls = "".join(f"void hhbc_cast_{a}_{b}_VEC(const hhbc_tensor *in, const hhbc_tensor *out, "
                    "const hhbc_cast_params *p);\n" for a, b in (("f32", "f16"), ("f16", "f32")))
    prog = Program(variant, tmp_path, "cast", [], ["cast.c"], decls)
    for size in SIZES + [4099]:
        body = f"""
static float x32[{size}], r32[{size}], y32[{size} + GUARD];
static _Float16 x16[{size}], y16[{size} + GUARD];
fill32(x32, {size}, -70000.0f, 70000.0f);
x32[0] = 1.0e-6f;   /* subnormal half */
prep16(y16, {size});
for (int32_t i = 0; i < {size}; i++) r32[i] = (float)(_Float16)x32[i];
hhbc_tensor tx = {tensor("x32", (size,))}, ty16 = {tensor("y16", (size,))};
const hhbc_cast_params p = {{.size = {size}}};
hhbc_cast_f32_f16_VEC(&tx, &ty16, &p);
report16(name, y16, r32, {size});
"""
        prog.case(f"f32_f16_{size}", body, f16=True, tol=0.0)
        body = f"""
static float r32[{size}], y32[{size} + GUARD], tmp[{size}];
static _Float16 x16[{size}];
fill16(x16, tmp, {size}, -60000.0f, 60000.0f);
for (int32_t i = 0; i < {size}; i++) r32[i] = (float)x16[i];
prep32(y32, {size});
hhbc_tensor tx16 = {tensor("x16", (size,))}, ty = {tensor("y32", (size,))};
const hhbc_cast_params p = {{.size = {size}}};
hhbc_cast_f16_f32_VEC(&tx16, &ty, &p);
report32(name, y32, r32, {size});
"""
        prog.case(f"f16_f32_{size}", body, tol=0.0)
    prog.run()


@pytest.mark.parametrize("variant", ["rvv"])   # c906 leaves transposes to ref
def test_transpose(tmp_path, variant):
    """Every permutation shape the graphs make (NHWC <-> NCHW, 2-D, 3-D, 5-D), bit for bit."""
    prog = Program(variant, tmp_path, "transpose", ["transpose.c"], ["transpose.c"],
                   decl_unary("transpose", "hhbc_transpose_params"))
    cases = [((1, 5, 5, 33), (0, 3, 1, 2)), ((1, 33, 5, 5), (0, 2, 3, 1)), ((17, 7), (1, 0)), ((3, 100), (1, 0)),
             ((2, 3, 4), (2, 0, 1)), ((1, 7, 1, 9), (0, 3, 2, 1)), ((2, 3, 4, 5, 6), (4, 2, 0, 3, 1)), ((4, 4), (0, 1))]
    for f16 in (False, True):
        for shape, perm in cases:
            st = contig_strides(shape)
            out_shape = [shape[a] for a in perm]
            params = (f"{{.ndim = {len(shape)}, .out_dim = {ilist(out_shape)}, "
                      f".in_stride = {ilist([st[a] for a in perm])}}}")
            label = f"T_{'x'.join(map(str, shape))}_{''.join(map(str, perm))}"
            unary_case(prog, label, f"hhbc_transpose_{'f16' if f16 else 'f32'}_VEC", "hhbc_transpose_params",
                       params, shape, out_shape, f16=f16, tol=0.0)
        # broadcast_to lowers to a transpose with zero strides (a zero inner stride: vlse stride 0)
        for in_shape, out_shape in [((1, 1, 7), (3, 4, 7)), ((3, 1), (3, 8)), ((1, 5, 1), (2, 5, 6))]:
            params = (f"{{.ndim = {len(out_shape)}, .out_dim = {ilist(out_shape)}, "
                      f".in_stride = {ilist(bcast_strides(in_shape, out_shape))}}}")
            label = f"B_{'x'.join(map(str, in_shape))}_{'x'.join(map(str, out_shape))}"
            unary_case(prog, label, f"hhbc_transpose_{'f16' if f16 else 'f32'}_VEC", "hhbc_transpose_params",
                       params, in_shape, out_shape, f16=f16, tol=0.0)
    prog.run()
