"""The C906 (RVV 0.7.1, kernels/c906/) convolution, depthwise and dense kernels against the
reference kernels, under QEMU `c906fdv`.

One C program per kernel holds every case (f32 and f16): inputs, weights and biases come from
a fixed LCG, the weights are packed in C the way hhbc/codegen/packing.py packs them, the
reference kernel (kernels/ref, float32, reference weight layout) and the c906 kernel run on
the same data. float16 cases feed the half-rounded inputs and weights (widened) to the
float32 reference and must be within 1e-2 of max |ref|; float32 cases within 1e-5 of max |ref|.
Outputs are pre-filled with NaN and followed by a guard zone that must stay untouched.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path


from c_harness import ACTS, INCLUDE, QEMU, REF, ROOT, VECTOR_KERNEL_MARKS, act_c, tensor

C906 = ROOT / "hhbc" / "kernels" / "c906"
ZIG_C906 = ["-target", "riscv64-linux-musl", "-mcpu=baseline_rv64+zfh"]
KERNEL_FLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"]


pytestmark = VECTOR_KERNEL_MARKS

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
/* float32 values, and their half-rounded copies (h may be NULL: float32 case) */
static void fill(float *f, _Float16 *h, int32_t n, float lo, float hi)
{
    for (int32_t i = 0; i < n; i++) {
        const float v = frand(lo, hi);
        if (h) { h[i] = (_Float16)v; f[i] = (float)h[i]; } else { f[i] = v; }
    }
}
/* [OC][KH][KW][ICg] -> [G][KH][KW][ICg][OCg] (packing.conv_gkkio); esz 4 or 2 */
static void pack_conv(void *dst, const void *src, int32_t oc, int32_t kh, int32_t kw, int32_t icg,
                      int32_t g, int esz)
{
    const int32_t ocg = oc / g;
    for (int32_t o = 0; o < oc; o++)
        for (int32_t a = 0; a < kh; a++)
            for (int32_t b = 0; b < kw; b++)
                for (int32_t i = 0; i < icg; i++) {
                    const size_t s = (((size_t)o * kh + a) * kw + b) * icg + i;
                    const size_t d = (((((size_t)(o / ocg) * kh + a) * kw + b) * icg + i) * ocg) + o % ocg;
                    memcpy((char *)dst + d * esz, (const char *)src + s * esz, esz);
                }
}
static double err1(double got, double ref)
{
    if (isnan(got) || isinf(got)) return INFINITY;
    return fabs(got - ref);
}
static void report(const char *name, const void *got, int f16, const float *ref, int32_t n)
{
    double e = 0.0, m = 0.0;
    int guard_ok = 1;
    for (int32_t i = 0; i < n; i++) {
        const double g = f16 ? (double)((const _Float16 *)got)[i] : (double)((const float *)got)[i];
        const double d = err1(g, ref[i]);
        if (!(d <= e)) e = d;
        if (fabs(ref[i]) > m) m = fabs(ref[i]);
    }
    for (int32_t i = n; i < n + GUARD; i++)
        guard_ok &= f16 ? ((const _Float16 *)got)[i] == (_Float16)1234.5f : ((const float *)got)[i] == 1234.5f;
    printf("CASE %s err=%.9g max=%.9g guard=%d\n", name, e, m, guard_ok);
}
static void prep(void *y, int f16, int32_t n)
{
    for (int32_t i = 0; i < n + GUARD; i++) {
        const float v = i < n ? NAN : 1234.5f;
        if (f16) ((_Float16 *)y)[i] = (_Float16)v; else ((float *)y)[i] = v;
    }
}
"""

DECLS = "".join(
    f"void hhbc_{k}_{d}_c906(const hhbc_tensor *in, const hhbc_tensor *out, const {pt} *p);\n"
    for d in ("f32", "f16")
    for k, pt in (("conv2d_1x1", "hhbc_conv2d_params"), ("conv2d", "hhbc_conv2d_params"),
                  ("depthwise_conv2d", "hhbc_conv2d_params"), ("dense", "hhbc_dense_params")))



class Program:
    """The cases of one kernel (f32 and f16) in one C program, run once under QEMU."""

    def __init__(self, tmp_path: Path, name: str, ref_sources: list[str], c906_sources: list[str]):
        self.dir = tmp_path
        self.name = name
        self.sources = [C906 / s for s in c906_sources] + [REF / s for s in ref_sources]
        self.cases: list[str] = []
        self.tols: dict[str, float] = {}

    def case(self, label: str, body: str, f16: bool):
        label = re.sub(r"[^A-Za-z0-9_.,=x:+-]", "_", label) + ("_f16" if f16 else "_f32")
        assert label not in self.tols, label
        self.tols[label] = F16_TOL if f16 else F32_TOL
        idx = len(self.cases)
        self.cases.append(f'static void case_{idx}(void)\n{{\n    const char *name = "{label}";\n'
                          f"    const int f16 = {int(f16)};\n"
                          + "\n".join("    " + ln for ln in body.strip().splitlines()) + "\n}\n")

    def run(self):
        objs = []
        for src in self.sources:   # kernels: warning-free at -Werror
            obj = self.dir / (src.parent.name + "_" + src.stem + ".o")
            cmd = [sys.executable, "-m", "ziglang", "cc", *ZIG_C906, *KERNEL_FLAGS, "-I", str(INCLUDE),
                   "-I", str(C906), "-c", str(src), "-o", str(obj)]
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
            assert res.returncode == 0, f"{src}:\n{res.stderr}"
            objs.append(obj)
        main = self.dir / f"main_{self.name}.c"
        main.write_text(PRELUDE + DECLS + "\n" + "\n".join(self.cases) + "\nint main(void)\n{\n"
                        + "".join(f"    case_{i}();\n" for i in range(len(self.cases)))
                        + "    return 0;\n}\n")
        exe = self.dir / f"main_{self.name}"
        cmd = [sys.executable, "-m", "ziglang", "cc", *ZIG_C906, "-std=c99", "-O1", "-Wall", "-Wextra",
               "-Wno-unused-variable", "-Wno-unused-parameter", "-Wno-unused-but-set-variable",
               "-I", str(INCLUDE), str(main), *map(str, objs), "-o", str(exe), "-lm"]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, f"build failed:\n{res.stderr[-6000:]}"
        res = subprocess.run([str(QEMU), "-cpu", "c906fdv", str(exe)], capture_output=True, text=True,
                             timeout=600)
        assert res.returncode == 0, (f"{self.name} failed (rc={res.returncode}):\n"
                                     f"{res.stdout[-3000:]}\n{res.stderr[-3000:]}")
        got = {m.group(1): (float(m.group(2)), float(m.group(3)), int(m.group(4)))
               for m in re.finditer(r"^CASE (\S+) err=(\S+) max=(\S+) guard=(\d)$", res.stdout, re.M)}
        failures = []
        for label, tol in self.tols.items():
            if label not in got:
                failures.append(f"{label}: no result")
                continue
            err, mx, guard = got[label]
            if not guard:
                failures.append(f"{label}: wrote past the output")
            if not err <= tol * max(mx, 1e-3):
                failures.append(f"{label}: max |err| {err:.3g} > {tol:g} x max |ref| {mx:.3g}")
        assert not failures, f"{len(failures)}/{len(self.tols)} cases failed:\n" + "\n".join(failures)
        return got


def out_size(n, k, s, d, pb, pa):
    return (n + pb + pa - ((k - 1) * d + 1)) // s + 1


def conv_case(prog: Program, fn: str, n, h, w, c, oc, kh, kw, sh=1, sw=1, dh=1, dw=1, pt=0, pl=0, pb=0, pr=0,
              groups=1, act=None, bias=True, f16=False, depthwise=False):
    act = act or dict(kind="NONE")
    oh, ow = out_size(h, kh, sh, dh, pt, pb), out_size(w, kw, sw, dw, pl, pr)
    icg = c // groups
    nw = kh * kw * oc if depthwise else oc * kh * kw * icg
    ni, no = n * h * w * c, n * oh * ow * oc
    label = (f"n{n}h{h}w{w}c{c}oc{oc}k{kh}x{kw}s{sh},{sw}d{dh},{dw}p{pt},{pl},{pb},{pr}g{groups}"
             f"{'b' if bias else 'nb'}_{act['kind']}{act.get('lo', '')}{act.get('hi', '')}")
    t = "_Float16" if f16 else "float"
    pack = ("memcpy(wk, wr, sizeof(wk));" if depthwise
            else f"pack_conv(wk, wr, {oc}, {kh}, {kw}, {icg}, {groups}, sizeof({t}));")
    ref = "hhbc_depthwise_conv2d_f32" if depthwise else "hhbc_conv2d_f32"
    body = f"""
static float x32[{ni}], w32[{nw}], b32[{oc}], r32[{no}];
static {t} xk[{ni}], wr[{nw}], wk[{nw}], y[{no} + GUARD];
fill(x32, f16 ? (_Float16 *)xk : NULL, {ni}, -1.0f, 1.0f);
fill(w32, f16 ? (_Float16 *)wr : NULL, {nw}, -0.5f, 0.5f);
fill(b32, NULL, {oc}, -0.5f, 0.5f);
if (!f16) {{ memcpy(xk, x32, sizeof(xk)); memcpy(wr, w32, sizeof(wr)); }}
{pack}
prep(y, f16, {no});
hhbc_tensor tx = {tensor("x32", (n, h, w, c))}, tr = {tensor("r32", (n, oh, ow, oc))};
hhbc_tensor tk = {tensor("xk", (n, h, w, c))}, ty = {tensor("y", (n, oh, ow, oc))};
hhbc_conv2d_params p = {{.weight = w32, .bias = {'b32' if bias else 'NULL'}, .kernel_h = {kh}, .kernel_w = {kw},
    .stride_h = {sh}, .stride_w = {sw}, .dilation_h = {dh}, .dilation_w = {dw}, .pad_top = {pt},
    .pad_left = {pl}, .groups = {groups}, .act = {act_c(**act)}}};
{ref}(&tx, &tr, &p);
p.weight = wk;
{fn}(&tk, &ty, &p);
report(name, y, f16, r32, {no});
"""
    prog.case(f"{fn.split('_c906')[0]}_{label}", body, f16)


def dense_case(prog: Program, m, k, n, act=None, bias=True, f16=False):
    act = act or dict(kind="NONE")
    t = "_Float16" if f16 else "float"
    fn = f"hhbc_dense_{'f16' if f16 else 'f32'}_c906"
    body = f"""
static float x32[{m * k}], w32[{n * k}], b32[{n}], r32[{m * n}];
static {t} xk[{m * k}], wr[{n * k}], wk[{n * k}], y[{m * n} + GUARD];
fill(x32, f16 ? (_Float16 *)xk : NULL, {m * k}, -1.0f, 1.0f);
fill(w32, f16 ? (_Float16 *)wr : NULL, {n * k}, -0.5f, 0.5f);
fill(b32, NULL, {n}, -0.5f, 0.5f);
if (!f16) {{ memcpy(xk, x32, sizeof(xk)); memcpy(wr, w32, sizeof(wr)); }}
for (int32_t a = 0; a < {n}; a++) for (int32_t b = 0; b < {k}; b++) wk[b * {n} + a] = wr[a * {k} + b];
prep(y, f16, {m * n});
hhbc_tensor tx = {tensor("x32", (m, k))}, tr = {tensor("r32", (m, n))};
hhbc_tensor tk = {tensor("xk", (m, k))}, ty = {tensor("y", (m, n))};
hhbc_dense_params p = {{.weight = w32, .bias = {'b32' if bias else 'NULL'}, .m = {m}, .n = {n}, .k = {k},
    .act = {act_c(**act)}}};
hhbc_dense_f32(&tx, &tr, &p);
p.weight = wk;
{fn}(&tk, &ty, &p);
report(name, y, f16, r32, {m * n});
"""
    prog.case(f"dense_m{m}k{k}n{n}{'b' if bias else 'nb'}_{act['kind']}{act.get('lo', '')}{act.get('hi', '')}",
              body, f16)


CHANNELS = [1, 3, 7, 17, 33]


def test_conv2d_1x1(tmp_path):
    prog = Program(tmp_path, "conv2d_1x1", ["conv2d.c"], ["conv2d_1x1.c"])
    for f16 in (False, True):
        fn = f"hhbc_conv2d_1x1_{'f16' if f16 else 'f32'}_c906"
        for i, (c, oc) in enumerate([(ci, co) for ci in CHANNELS for co in CHANNELS] + [(32, 32), (64, 64),
                                                                                         (32, 65)]):
            conv_case(prog, fn, 1, 5, 5 if i % 2 else 4, c, oc, 1, 1, act=ACTS[i % len(ACTS)], bias=i % 3 != 2,
                      f16=f16)
        for a in ACTS:   # every act on 3 pixels x 2 strips + tails
            conv_case(prog, fn, 2, 2, 4, 17, 40, 1, 1, act=a, f16=f16)
    prog.run()


CONV_SHAPES = [
    # n, h, w, c, oc, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, groups
    (1, 49, 10, 1, 32, 10, 4, 2, 2, 1, 1, 4, 1, 5, 1, 1),    # KWS first layer (SAME)
    (1, 7, 7, 3, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),
    (1, 8, 9, 7, 17, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1),
    (1, 6, 6, 17, 33, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1),
    (2, 5, 7, 1, 33, 3, 2, 1, 2, 1, 1, 1, 0, 1, 1, 1),
    (1, 6, 8, 33, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),
    (1, 9, 9, 3, 7, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1),        # dilation
    (1, 9, 10, 4, 6, 3, 3, 2, 1, 2, 3, 1, 3, 0, 2, 1),       # dilation, uneven strides/pads
    (1, 6, 6, 6, 34, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2),       # groups
    (1, 5, 7, 9, 33, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 3),       # groups, tails
    (1, 5, 5, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 8),        # groups = channels
    (1, 6, 5, 7, 17, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1),       # 1x1 stride 2
    (1, 4, 4, 3, 7, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1),        # kernel larger than the interior
    (1, 3, 12, 5, 64, 1, 5, 1, 1, 1, 1, 0, 2, 0, 2, 1),      # two strips
    # tiles down the columns (more border columns than border rows)
    (1, 12, 4, 6, 10, 3, 3, 1, 1, 2, 1, 2, 1, 2, 1, 2),      # groups, dilation_h
    (1, 10, 5, 3, 7, 3, 3, 2, 1, 1, 2, 1, 2, 1, 2, 1),       # dilation_w (one run per kw)
    (2, 20, 6, 2, 33, 7, 4, 2, 2, 1, 1, 3, 1, 3, 2, 1),
]


def test_conv2d(tmp_path):
    prog = Program(tmp_path, "conv2d", ["conv2d.c"], ["conv2d.c"])
    for f16 in (False, True):
        fn = f"hhbc_conv2d_{'f16' if f16 else 'f32'}_c906"
        for i, s in enumerate(CONV_SHAPES):
            n, h, w, c, oc, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, g = s
            conv_case(prog, fn, n, h, w, c, oc, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, g,
                      act=ACTS[(i + 1) % len(ACTS)], bias=i % 4 != 3, f16=f16)
        for a in ACTS:
            conv_case(prog, fn, 1, 6, 7, 3, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, act=a, f16=f16)
    prog.run()


DW_SHAPES = [
    # n, h, w, c, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr
    (1, 25, 5, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),            # KWS
    (1, 7, 6, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),
    (1, 7, 7, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1),
    (2, 6, 5, 7, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0),
    (1, 8, 8, 17, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1),
    (1, 6, 7, 33, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2),             # dilation
    (1, 9, 8, 64, 5, 5, 1, 2, 1, 1, 2, 2, 2, 2),
    (1, 5, 6, 65, 2, 3, 1, 1, 1, 1, 0, 1, 1, 1),
    (1, 3, 3, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),              # all border
]


def test_depthwise_conv2d(tmp_path):
    prog = Program(tmp_path, "depthwise_conv2d", ["depthwise_conv2d.c"], ["depthwise_conv2d.c"])
    for f16 in (False, True):
        fn = f"hhbc_depthwise_conv2d_{'f16' if f16 else 'f32'}_c906"
        for i, s in enumerate(DW_SHAPES):
            n, h, w, c, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr = s
            conv_case(prog, fn, n, h, w, c, c, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, c,
                      act=ACTS[(i + 1) % len(ACTS)], bias=i % 4 != 3, f16=f16, depthwise=True)
        for a in ACTS:
            conv_case(prog, fn, 1, 5, 4, 40, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 40, act=a, f16=f16, depthwise=True)
    prog.run()


def test_dense(tmp_path):
    prog = Program(tmp_path, "dense", ["dense.c"], ["dense.c"])
    for f16 in (False, True):
        i = 0
        for m in (1, 2, 3, 4, 7):
            for k, n in ((1, 12), (3, 1), (17, 33), (32, 12), (33, 64), (7, 65)):
                dense_case(prog, m, k, n, act=ACTS[i % len(ACTS)], bias=i % 3 != 2, f16=f16)
                i += 1
        for a in ACTS:
            dense_case(prog, 4, 9, 40, act=a, f16=f16)
    prog.run()
