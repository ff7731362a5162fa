"""Every input under tests/fuzz/regressions/<format>/ once crashed `hhbc compile` (a traceback, a
signal, a hang, a stray file). Each must now compile or fail with one `hhbc: error:` line and
exit 2, writing nothing outside -o: the harness's own execution (harness.Harness.run_one: the
CLI's main() in this process, cwd and TMPDIR in a sandbox, stderr captured at the file
descriptor, Python warnings shown as a fresh process shows them), with a 120 s alarm for hangs.
A signal kills the xdist worker, which pytest reports against this test.

Caffe inputs are one half of a pair, as the harness fuzzed them: a .prototxt is compiled with
the fixed net's .caffemodel beside it (seeds.caffe_net()), a .caffemodel with the fixed
.prototxt, unless the regression folder holds the other half under the same stem."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from .harness import Harness
from .seeds import FORMATS, SUFFIX

HERE = Path(__file__).resolve().parent
CASES = sorted(p for fmt in FORMATS for p in (HERE / "regressions" / fmt).glob(f"*{SUFFIX[fmt]}"))
HANG_SECONDS = 120


def _alarm(signum, frame):
    raise TimeoutError(f"hhbc compile ran for more than {HANG_SECONDS} s")


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.name}" for p in CASES])
def test_regression_input_gives_a_clean_outcome(path, tmp_path):
    fmt = path.parent.name
    harness = Harness(fmt, tmp_path)
    if harness.fixed_half is not None:
        partner = path.with_suffix(harness.fixed_half[0].suffix)
        if partner.is_file():
            harness.fixed_half = (harness.fixed_half[0], partner.read_bytes())
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(HANG_SECONDS)
    try:
        outcome = harness.run_one(path.read_bytes())
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    if outcome == "failure":
        details = "\n".join(p.read_text() for p in sorted(harness.failures.glob("*.txt")))
        pytest.fail(f"{path}:\n{details}")
