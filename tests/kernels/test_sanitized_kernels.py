"""Reference kernels under AddressSanitizer and UBSan where the other kernel tests do not reach.

The int8 softmax over a long, flat row: the sum of exps reaches 2^28 (512 equal elements) and
the output exponent of RoundingDivideByPOT passes 31, a shift C leaves undefined in gemmlowp's
32-bit form (TFLite's reference kernel has it too; on riscv64 it gave 127 for every element).
hhbc_fp_rdbpot now gives the quotient (0) for exponents past 31: each output is then the real
softmax in steps of 1/256 (zero point -128), within one step. Built with -fsanitize=address,undefined
-fno-sanitize-recover=all: the old shift aborted here with "shift exponent 32 is too large".
"""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from c_harness import HOST_CC, INCLUDE, REF, RUN_ENV, STRICT_FLAGS, ilist, needs_cc, sanitizer_flags

from hhbc.quantize.fixedpoint import softmax_params

pytestmark = needs_cc

# (label, outer, axis, inner, input scale, kind): rows around and far past 512 elements, along
# the last axis (inner 1) and along a middle axis (inner > 1)
SOFTMAX_CASES = [
    ("flat511", 2, 511, 1, 0.05, "flat"),
    ("flat512", 2, 512, 1, 0.05, "flat"),
    ("flat1000", 2, 1000, 1, 0.05, "flat"),
    ("flat4100", 1, 4100, 1, 0.05, "flat"),
    ("flat_cols600", 1, 600, 5, 0.05, "flat"),
    ("near_flat2000", 1, 2000, 1, 0.004, "rand"),   # every difference small: a flat softmax
    ("rand3000", 2, 3000, 1, 0.1, "rand"),
]


def _input(rng, shape, kind):
    if kind == "flat":
        return np.full(shape, int(rng.integers(-128, 128)), np.int8)
    return rng.integers(-128, 128, shape).astype(np.int8)


def _softmax_program(cases) -> str:
    decls, calls = [], []
    for k, (label, x, p) in enumerate(cases):
        outer, axis, inner = x.shape
        decls.append(f"static const int8_t x{k}[{x.size}] = {ilist(x.reshape(-1))};")
        decls.append(f"static int8_t y{k}[{x.size}];")
        calls.append(f"""    {{
        const hhbc_tensor in = {{(void *)x{k}, {ilist(x.shape)}, 3}}, out = {{y{k}, {ilist(x.shape)}, 3}};
        const hhbc_softmax_i8_params p = {{.outer = {outer}, .axis_size = {axis}, .inner = {inner},
            .input_multiplier = {p.input_multiplier}, .input_left_shift = {p.input_left_shift},
            .diff_min = {p.diff_min}}};
        hhbc_softmax_i8(&in, &out, &p);
        printf("{label}");
        for (size_t i = 0; i < sizeof y{k}; i++) printf(" %d", y{k}[i]);
        printf("\\n");
    }}""")
    return ('#include <stdio.h>\n#include "hhbc_kernels_i8.h"\n\n' + "\n".join(decls)
            + "\n\nint main(void)\n{\n" + "\n".join(calls) + "\n    return 0;\n}\n")


def test_softmax_i8_long_rows_are_defined_and_right(tmp_path):
    flags = sanitizer_flags()
    if not flags:
        pytest.skip("the host C compiler cannot build and run with -fsanitize=address,undefined")
    rng = np.random.default_rng(13)
    cases = []
    for label, outer, axis, inner, scale, kind in SOFTMAX_CASES:
        cases.append((label, _input(rng, (outer, axis, inner), kind), softmax_params(scale)))
    src = tmp_path / "softmax_long.c"
    src.write_text(_softmax_program(cases))
    exe = tmp_path / "softmax_long"
    build = subprocess.run([HOST_CC, *STRICT_FLAGS, *flags, "-I", str(INCLUDE), str(src),
                            str(REF / "softmax_i8.c"), "-o", str(exe), "-lm"],
                           capture_output=True, text=True, timeout=120)
    assert build.returncode == 0, build.stderr
    run = subprocess.run([str(exe)], capture_output=True, text=True, env=RUN_ENV, timeout=120)
    assert run.returncode == 0 and not run.stderr, run.stderr
    lines = run.stdout.splitlines()
    assert len(lines) == len(cases)
    for (label, x, _), line in zip(cases, lines):
        name, *values = line.split()
        assert name == label
        got = np.array(values, np.int32).reshape(x.shape)
        scale = next(c[4] for c in SOFTMAX_CASES if c[0] == label)
        z = x.astype(np.float64) * np.float64(np.float32(scale))
        e = np.exp(z - z.max(axis=1, keepdims=True))
        want = np.clip(np.round(256 * e / e.sum(axis=1, keepdims=True)) - 128, -128, 127)
        err = int(np.max(np.abs(got - want)))
        print(f"softmax_i8 {label} {list(x.shape)}: max error {err} step(s) of 1/256, "
              f"outputs {sorted(set(got.reshape(-1).tolist()))[:6]}")
        assert err <= 1, (label, err)
        if label.startswith("flat") and x.shape[1] >= 512:
            assert np.all(got == -128), label   # 1/n of 256 is at most one half: rounds to 0
