"""Differential tests of the rvv (RVV 1.0, VLEN-agnostic) convolution and dense kernels
(hhbc/kernels/rvv/) against the float32 reference kernels (hhbc/kernels/ref/), under QEMU.

One C program per kernel holds every case (one QEMU run per cpu): it generates data with a
fixed LCG, packs the weights the way hhbc/codegen/packing.py does, runs ref and rvv kernels
and prints the worst error per case. float16 cases round inputs, weights to half first and
compare the f16 kernel with the float32 ref on that data. Outputs carry a guard zone that
must stay untouched. CPUs: c908v (target c908) and rv64 with VLEN 128 and 256 (target rvv).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from c_harness import INCLUDE, QEMU, REF, ROOT, VECTOR_KERNEL_MARKS

RVV = ROOT / "hhbc" / "kernels" / "rvv"
ZIG = ["-target", "riscv64-linux-musl", "-mcpu=baseline_rv64+v+zfh+zvfh",
       "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"]
CPUS = ["c908v", "rv64,x-v=true,vlen=128", "rv64,x-v=true,vlen=256", "rv64,x-v=true,vlen=512"]
F32_TOL = 3e-5   # sums of up to ~300 products; FMA vs mul+add rounding differs from ref
F16_TOL = 1e-2


pytestmark = VECTOR_KERNEL_MARKS

ACTS = [
    "{HHBC_ACT_NONE, 0.0f, 0.0f, 0.0f}",
    "{HHBC_ACT_RELU, 0.0f, 0.0f, 0.0f}",
    "{HHBC_ACT_CLIP, 0.0f, 6.0f, 0.0f}",
    "{HHBC_ACT_CLIP, -0.5f, 0.25f, 0.0f}",
    "{HHBC_ACT_LEAKY_RELU, 0.0f, 0.0f, 0.1f}",
    "{HHBC_ACT_HARDSWISH, 0.0f, 0.0f, 0.0f}",
    "{HHBC_ACT_SIGMOID, 0.0f, 0.0f, 0.0f}",
]

PRELUDE = r"""
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hhbc_kernels.h"

typedef void (*conv_fn)(const hhbc_tensor *, const hhbc_tensor *, const hhbc_conv2d_params *);
typedef void (*dense_fn)(const hhbc_tensor *, const hhbc_tensor *, const hhbc_dense_params *);

#define GUARD 64
static uint32_t rng_state = 12345u;
static float frand(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return -1.0f + 2.0f * (float)(rng_state >> 8) * (1.0f / 16777216.0f);
}
/* n floats in [-1, 1) (rounded to half when f16), and their half copy */
static float *gen(int32_t n, int f16, _Float16 **h)
{
    float *x = malloc(sizeof(float) * (size_t)(n + 1));
    *h = malloc(sizeof(_Float16) * (size_t)(n + 1));
    for (int32_t i = 0; i < n; i++) {
        x[i] = frand();
        if (f16) x[i] = (float)(_Float16)x[i];
        (*h)[i] = (_Float16)x[i];
    }
    return x;
}
static int failures = 0;
/* worst |got - ref| / (|ref| + 0.05 max(max|ref|, 1)): relative, with an absolute floor for
 * outputs near zero (cancellation, clipped ranges); guard zone check */
static void check(const char *label, const float *ref, const void *got, int f16, int32_t n, double tol)
{
    double mx = 0.0, worst = 0.0;
    for (int32_t i = 0; i < n; i++) mx = fabs(ref[i]) > mx ? fabs(ref[i]) : mx;
    if (mx < 1.0) mx = 1.0;
    for (int32_t i = 0; i < n; i++) {
        double g = f16 ? (double)((const _Float16 *)got)[i] : (double)((const float *)got)[i];
        double e = fabs(g - ref[i]) / (fabs(ref[i]) + 0.05 * mx);
        if (!(e <= worst)) worst = e;   /* NaN counts as worst */
    }
    const unsigned char *gb = (const unsigned char *)got + (size_t)n * (f16 ? 2 : 4);
    int guard_ok = 1;
    for (int i = 0; i < GUARD; i++) if (gb[i] != 0xA5) guard_ok = 0;
    int ok = guard_ok && worst <= tol;
    if (!ok) failures++;
    printf("%s %s err=%.3g guard=%d\n", ok ? "PASS" : "FAIL", label, worst, guard_ok);
}

/* conv2d / depthwise: ref weight [OC][KH][KW][ICg] (depthwise: [KH][KW][OC] both) */
static void conv_case(const char *label, conv_fn ref_fn, conv_fn fn, int depthwise, int f16,
                      int32_t n, int32_t h, int32_t w, int32_t c, int32_t oc, int32_t kh, int32_t kw,
                      int32_t sh, int32_t sw, int32_t dh, int32_t dw, int32_t pt, int32_t pl,
                      int32_t g, int32_t oh, int32_t ow, int bias, hhbc_act act)
{
    int32_t icg = c / g, ocg = oc / g;
    int32_t in_n = n * h * w * c, out_n = n * oh * ow * oc, w_n = depthwise ? kh * kw * oc : oc * kh * kw * icg;
    _Float16 *inh, *wh, *bh;
    float *in = gen(in_n, f16, &inh), *wt = gen(w_n, f16, &wh), *b = gen(oc, 0, &bh);
    float *pk = malloc(sizeof(float) * (size_t)w_n);
    _Float16 *pkh = malloc(sizeof(_Float16) * (size_t)w_n);
    if (depthwise) {
        memcpy(pk, wt, sizeof(float) * (size_t)w_n);
    } else {   /* conv_gkkio: [G][KH][KW][ICg][OCg] */
        for (int32_t o = 0; o < oc; o++)
            for (int32_t y = 0; y < kh; y++)
                for (int32_t x = 0; x < kw; x++)
                    for (int32_t i = 0; i < icg; i++) {
                        int32_t gg = o / ocg, oo = o % ocg;
                        pk[((((size_t)gg * kh + y) * kw + x) * icg + i) * ocg + oo] =
                            wt[(((size_t)o * kh + y) * kw + x) * icg + i];
                    }
    }
    for (int32_t i = 0; i < w_n; i++) pkh[i] = (_Float16)pk[i];
    float *ref = malloc(sizeof(float) * (size_t)out_n);
    unsigned char *got = malloc((size_t)out_n * 4 + GUARD);
    memset(got, 0xA5, (size_t)out_n * 4 + GUARD);
    hhbc_tensor ti = {in, {n, h, w, c}, 4}, tr = {ref, {n, oh, ow, oc}, 4};
    hhbc_conv2d_params p = {wt, bias ? b : NULL, kh, kw, sh, sw, dh, dw, pt, pl, g, act};
    ref_fn(&ti, &tr, &p);
    hhbc_tensor ti2 = {f16 ? (void *)inh : (void *)in, {n, h, w, c}, 4};
    hhbc_tensor to2 = {got, {n, oh, ow, oc}, 4};
    hhbc_conv2d_params p2 = p;
    p2.weight = f16 ? (const void *)pkh : (const void *)pk;
    fn(&ti2, &to2, &p2);
    check(label, ref, got, f16, out_n, f16 ? @F16_TOL@ : @F32_TOL@);
    free(in); free(inh); free(wt); free(wh); free(b); free(bh); free(pk); free(pkh); free(ref); free(got);
}

/* dense: ref weight [N][K]; packed dense_kn [K][N] */
static void dense_case(const char *label, dense_fn ref_fn, dense_fn fn, int f16,
                       int32_t m, int32_t nn, int32_t k, int bias, hhbc_act act)
{
    _Float16 *inh, *wh, *bh;
    float *in = gen(m * k, f16, &inh), *wt = gen(nn * k, f16, &wh), *b = gen(nn, 0, &bh);
    float *pk = malloc(sizeof(float) * (size_t)(nn * k));
    _Float16 *pkh = malloc(sizeof(_Float16) * (size_t)(nn * k));
    for (int32_t j = 0; j < nn; j++)
        for (int32_t i = 0; i < k; i++) pk[(size_t)i * nn + j] = wt[(size_t)j * k + i];
    for (int32_t i = 0; i < nn * k; i++) pkh[i] = (_Float16)pk[i];
    float *ref = malloc(sizeof(float) * (size_t)(m * nn));
    unsigned char *got = malloc((size_t)(m * nn) * 4 + GUARD);
    memset(got, 0xA5, (size_t)(m * nn) * 4 + GUARD);
    hhbc_tensor ti = {in, {m, k}, 2}, tr = {ref, {m, nn}, 2};
    hhbc_dense_params p = {wt, bias ? b : NULL, m, nn, k, act};
    ref_fn(&ti, &tr, &p);
    hhbc_tensor ti2 = {f16 ? (void *)inh : (void *)in, {m, k}, 2}, to2 = {got, {m, nn}, 2};
    hhbc_dense_params p2 = p;
    p2.weight = f16 ? (const void *)pkh : (const void *)pk;
    fn(&ti2, &to2, &p2);
    check(label, ref, got, f16, m * nn, f16 ? @F16_TOL@ : @F32_TOL@);
    free(in); free(inh); free(wt); free(wh); free(b); free(bh); free(pk); free(pkh); free(ref); free(got);
}
""".replace("@F16_TOL@", repr(F16_TOL)).replace("@F32_TOL@", repr(F32_TOL))


def out_size(n, k, s, d, pb, pa):
    return (n + pb + pa - d * (k - 1) - 1) // s + 1


def conv_cases(kind: str) -> list[str]:
    """C calls of every case of one kernel family: 'conv2d_1x1', 'conv2d', 'depthwise'."""
    calls = []
    shapes = []
    if kind == "conv2d_1x1":
        for c in (1, 3, 7, 17, 33):
            for oc in (1, 3, 7, 17, 33, 64):
                shapes.append(dict(n=1, h=3, w=5, c=c, oc=oc, k=(1, 1), s=(1, 1), d=(1, 1), pad=(0, 0, 0, 0), g=1))
        shapes.append(dict(n=2, h=5, w=5, c=32, oc=32, k=(1, 1), s=(1, 1), d=(1, 1), pad=(0, 0, 0, 0), g=1))
        shapes.append(dict(n=1, h=1, w=1, c=5, oc=100, k=(1, 1), s=(1, 1), d=(1, 1), pad=(0, 0, 0, 0), g=1))
    elif kind == "conv2d":
        # KWS first layer: 10x4 stride 2 on 49x10x1, SAME: top 4 left 1 -> 25x5
        shapes.append(dict(n=1, h=49, w=10, c=1, oc=32, k=(10, 4), s=(2, 2), d=(1, 1), pad=(4, 1, 5, 2), g=1))
        shapes.append(dict(n=1, h=49, w=10, c=1, oc=64, k=(10, 4), s=(2, 2), d=(1, 1), pad=(4, 1, 5, 2), g=1))
        for c in (1, 3, 7, 17, 33):
            for oc in (3, 17, 33):
                shapes.append(dict(n=1, h=7, w=9, c=c, oc=oc, k=(3, 3), s=(1, 1), d=(1, 1), pad=(1, 1, 1, 1), g=1))
            shapes.append(dict(n=1, h=8, w=9, c=c, oc=7, k=(3, 3), s=(2, 2), d=(1, 1), pad=(1, 1, 1, 1), g=1))
            shapes.append(dict(n=1, h=9, w=11, c=c, oc=5, k=(3, 2), s=(1, 2), d=(2, 1), pad=(2, 0, 2, 1), g=1))
        shapes.append(dict(n=2, h=6, w=7, c=6, oc=9, k=(3, 3), s=(1, 1), d=(2, 2), pad=(2, 2, 2, 2), g=3))
        shapes.append(dict(n=1, h=6, w=13, c=8, oc=4, k=(2, 3), s=(2, 1), d=(1, 2), pad=(0, 1, 1, 0), g=2))
        shapes.append(dict(n=1, h=5, w=6, c=34, oc=34, k=(1, 1), s=(2, 2), d=(1, 1), pad=(0, 0, 0, 0), g=1))
        shapes.append(dict(n=1, h=5, w=6, c=6, oc=12, k=(1, 1), s=(1, 1), d=(1, 1), pad=(0, 0, 0, 0), g=3))
        shapes.append(dict(n=1, h=4, w=4, c=3, oc=5, k=(5, 5), s=(1, 1), d=(1, 1), pad=(2, 2, 2, 2), g=1))
        shapes.append(dict(n=1, h=3, w=3, c=2, oc=3, k=(3, 3), s=(1, 1), d=(1, 1), pad=(0, 0, 0, 0), g=1))
        # band path (short kernel rows): batch 2; output rows entirely in the padding
        shapes.append(dict(n=2, h=6, w=7, c=2, oc=5, k=(3, 3), s=(1, 1), d=(1, 1), pad=(1, 1, 1, 1), g=1))
        shapes.append(dict(n=1, h=2, w=5, c=1, oc=9, k=(2, 2), s=(1, 1), d=(1, 1), pad=(3, 0, 3, 0), g=1))
        shapes.append(dict(n=1, h=5, w=4, c=3, oc=40, k=(3, 3), s=(1, 2), d=(2, 1), pad=(2, 3, 2, 3), g=1))
    else:   # depthwise
        for c in (1, 3, 7, 17, 33, 64, 100):
            for s in (1, 2):
                shapes.append(dict(n=1, h=7, w=6, c=c, oc=c, k=(3, 3), s=(s, s), d=(1, 1), pad=(1, 1, 1, 1), g=c))
            shapes.append(dict(n=1, h=8, w=7, c=c, oc=c, k=(3, 3), s=(2, 2), d=(1, 1), pad=(0, 0, 1, 1), g=c))
        shapes.append(dict(n=1, h=25, w=5, c=32, oc=32, k=(3, 3), s=(1, 1), d=(1, 1), pad=(1, 1, 1, 1), g=32))
        shapes.append(dict(n=2, h=6, w=7, c=9, oc=9, k=(3, 3), s=(1, 1), d=(1, 1), pad=(0, 0, 0, 0), g=9))
        shapes.append(dict(n=1, h=9, w=8, c=5, oc=5, k=(5, 3), s=(2, 1), d=(1, 2), pad=(2, 2, 1, 2), g=5))
        shapes.append(dict(n=1, h=9, w=8, c=17, oc=17, k=(3, 3), s=(1, 1), d=(2, 2), pad=(2, 2, 2, 2), g=17))
        shapes.append(dict(n=1, h=2, w=2, c=8, oc=8, k=(3, 3), s=(1, 1), d=(1, 1), pad=(1, 1, 1, 1), g=8))
        shapes.append(dict(n=1, h=1, w=1, c=8, oc=8, k=(3, 3), s=(2, 2), d=(1, 1), pad=(1, 1, 1, 1), g=8))
        shapes.append(dict(n=1, h=5, w=4, c=12, oc=12, k=(1, 1), s=(1, 1), d=(1, 1), pad=(0, 0, 0, 0), g=12))
    dw = kind == "depthwise"
    name = {"conv2d_1x1": "conv2d_1x1", "conv2d": "conv2d", "depthwise": "depthwise_conv2d"}[kind]
    ref = "hhbc_depthwise_conv2d_f32" if dw else "hhbc_conv2d_f32"
    i = 0
    for sh in shapes:
        kh, kw = sh["k"]
        pt, pl, pb, pr = sh["pad"]
        oh = out_size(sh["h"], kh, sh["s"][0], sh["d"][0], pt, pb)
        ow = out_size(sh["w"], kw, sh["s"][1], sh["d"][1], pl, pr)
        for f16 in (0, 1):
            act = ACTS[i % len(ACTS)]
            bias = int(i % 3 != 2)
            i += 1
            fn = f"hhbc_{name}_{'f16' if f16 else 'f32'}_rvv"
            label = (f"{fn}:n{sh['n']}h{sh['h']}w{sh['w']}c{sh['c']}oc{sh['oc']}k{kh}x{kw}s{sh['s']}"
                     f"d{sh['d']}p{sh['pad']}g{sh['g']}act{i % len(ACTS)}b{bias}").replace(" ", "")
            calls.append(
                f'conv_case("{label}", {ref}, {fn}, {int(dw)}, {f16}, {sh["n"]}, {sh["h"]}, {sh["w"]}, '
                f'{sh["c"]}, {sh["oc"]}, {kh}, {kw}, {sh["s"][0]}, {sh["s"][1]}, {sh["d"][0]}, {sh["d"][1]}, '
                f'{pt}, {pl}, {sh["g"]}, {oh}, {ow}, {bias}, (hhbc_act){act});')
    # every activation on one shape, both dtypes
    sh = shapes[-2] if kind != "conv2d_1x1" else shapes[-2]
    kh, kw = sh["k"]
    pt, pl, pb, pr = sh["pad"]
    oh = out_size(sh["h"], kh, sh["s"][0], sh["d"][0], pt, pb)
    ow = out_size(sh["w"], kw, sh["s"][1], sh["d"][1], pl, pr)
    for a, act in enumerate(ACTS):
        for f16 in (0, 1):
            fn = f"hhbc_{name}_{'f16' if f16 else 'f32'}_rvv"
            calls.append(
                f'conv_case("{fn}:act{a}", {ref}, {fn}, {int(dw)}, {f16}, {sh["n"]}, {sh["h"]}, {sh["w"]}, '
                f'{sh["c"]}, {sh["oc"]}, {kh}, {kw}, {sh["s"][0]}, {sh["s"][1]}, {sh["d"][0]}, {sh["d"][1]}, '
                f'{pt}, {pl}, {sh["g"]}, {oh}, {ow}, 1, (hhbc_act){act});')
    return calls


def dense_cases() -> list[str]:
    calls = []
    i = 0
    for m in (1, 2, 5):
        for n in (1, 3, 7, 12, 17, 33, 64, 100):
            for k in (1, 3, 32, 33):
                for f16 in (0, 1):
                    act = ACTS[i % len(ACTS)]
                    bias = int(i % 3 != 2)
                    i += 1
                    fn = f"hhbc_dense_{'f16' if f16 else 'f32'}_rvv"
                    calls.append(f'dense_case("{fn}:m{m}n{n}k{k}act{i % len(ACTS)}b{bias}", hhbc_dense_f32, '
                                 f'{fn}, {f16}, {m}, {n}, {k}, {bias}, (hhbc_act){act});')
    return calls


_BUILT: dict[str, Path] = {}


def build(tmp_dir: Path, kernel: str) -> Path:
    """Compile the one test program of a kernel family (cached per session)."""
    if kernel in _BUILT:
        return _BUILT[kernel]
    if kernel == "dense":
        calls, sources, decls = dense_cases(), [REF / "dense.c", RVV / "dense.c"], ["dense"]
    else:
        calls = conv_cases(kernel)
        src = {"conv2d_1x1": "conv2d_1x1.c", "conv2d": "conv2d.c", "depthwise": "depthwise_conv2d.c"}[kernel]
        ref = REF / ("depthwise_conv2d.c" if kernel == "depthwise" else "conv2d.c")
        sources = [ref, RVV / src]
        decls = [{"conv2d_1x1": "conv2d_1x1", "conv2d": "conv2d", "depthwise": "depthwise_conv2d"}[kernel]]
    proto = {"dense": "const hhbc_tensor *, const hhbc_tensor *, const hhbc_dense_params *"}
    lines = [PRELUDE]
    for d in decls:
        args = proto.get(d, "const hhbc_tensor *, const hhbc_tensor *, const hhbc_conv2d_params *")
        lines += [f"void hhbc_{d}_f32_rvv({args});", f"void hhbc_{d}_f16_rvv({args});"]
    lines.append("int main(void)\n{")
    lines += ["    " + c for c in calls]
    lines += ["    printf(\"failures=%d\\n\", failures);", "    return failures != 0;", "}"]
    main = tmp_dir / f"test_{kernel}.c"
    main.write_text("\n".join(lines) + "\n")
    exe = tmp_dir / f"test_{kernel}"
    objs = []
    for s in [*sources, main]:
        obj = tmp_dir / f"{s.parent.name}_{s.stem}_{kernel}.o"
        flags = ZIG if s.parent == RVV else [f for f in ZIG if f != "-Werror"] + ["-Wno-unused-parameter"]
        cmd = [sys.executable, "-m", "ziglang", "cc", *flags, "-I", str(INCLUDE), "-I", str(RVV),
               "-c", str(s), "-o", str(obj)]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, f"{s.name}:\n{res.stderr}"
        objs.append(str(obj))
    cmd = [sys.executable, "-m", "ziglang", "cc", "-target", "riscv64-linux-musl",
           "-mcpu=baseline_rv64+v+zfh+zvfh", *objs, "-o", str(exe), "-lm"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    _BUILT[kernel] = exe
    return exe


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("rvv_conv")


@pytest.mark.parametrize("cpu", CPUS)
@pytest.mark.parametrize("kernel", ["conv2d_1x1", "conv2d", "depthwise", "dense"])
def test_rvv_kernel(build_dir, kernel, cpu):
    exe = build(build_dir, kernel)
    res = subprocess.run([str(QEMU), "-cpu", cpu, str(exe)], capture_output=True, text=True, timeout=600)
    fails = [ln for ln in res.stdout.splitlines() if ln.startswith("FAIL")]
    assert res.returncode == 0 and not fails, (res.stdout[-4000:] + res.stderr[-2000:])
    assert "failures=0" in res.stdout
