"""A bounded fuzz run per model format (tests/fuzz/harness.py): every mutant of the seed models
must compile or fail with one `hhbc: error:` line and exit 2. Each format runs in a subprocess,
so that a signal (SIGSEGV, SIGFPE in TVM or numpy), a hang past libFuzzer's -timeout or memory
above -rss_limit_mb is reported as a failure of that format with the reproducer's path.

SMOKE_RUNS executions per format, with a fixed libFuzzer seed. CPU time measured per execution
in this smoke run (2026-12-05): onnx 110 ms, tflite 50 ms, pb 36 ms, prototxt 52 ms, caffemodel
415 ms (most of its mutants compile, and a compile of the fixed net costs 0.7 s); plus 8-14 s
per format for seed generation (TensorFlow for tflite and pb), imports and the seed runs. The
counts below add up to about 150 s of one core for the five formats. The long run is `make fuzz`
(docs/fuzzing.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SMOKE_RUNS = {"onnx": 150, "tflite": 400, "pb": 400, "prototxt": 300, "caffemodel": 80}
# two groups of about equal CPU cost (68 s, 80 s), one per xdist worker under `--dist loadgroup`
GROUP = {"onnx": "fuzz_a", "caffemodel": "fuzz_a", "tflite": "fuzz_b", "pb": "fuzz_b", "prototxt": "fuzz_b"}

pytest.importorskip("atheris")


def _failure_summary(work: Path) -> str:
    lines = []
    for txt in sorted((work / "failures").glob("*.txt")):
        head = txt.read_text().splitlines()[:2]
        lines.append(f"  {txt.with_suffix('')}: {head[1] if len(head) > 1 else head}")
    for artifact in sorted((work / "failures").glob("*")):
        if artifact.name.startswith(("crash-", "timeout-", "oom-", "leak-")):
            lines.append(f"  libFuzzer artifact: {artifact}")
    return "\n".join(lines) or "  (no reproducer saved)"


@pytest.mark.slow
@pytest.mark.parametrize("fmt", [pytest.param(f, marks=pytest.mark.xdist_group(GROUP[f])) for f in SMOKE_RUNS])
def test_fuzz_smoke(fmt, tmp_path):
    work = tmp_path / fmt
    cmd = [sys.executable, "-m", "tests.fuzz.harness", fmt, "--work", str(work),
           f"-runs={SMOKE_RUNS[fmt]}", "-seed=1", "-timeout=60", "-rss_limit_mb=4096", "-print_final_stats=0"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=900)
    report_path = work / "report.json"
    report = json.loads(report_path.read_text()) if report_path.is_file() else {}
    tail = "\n".join(proc.stderr.splitlines()[-15:])
    assert proc.returncode == 0 and report.get("failures") == 0, (
        f"fuzz[{fmt}]: exit {proc.returncode} ({'signal ' + str(-proc.returncode) if proc.returncode < 0 else 'code'}),"
        f" report {report}\nreproducers:\n{_failure_summary(work)}\nlast stderr lines:\n{tail}\n"
        f"rerun: {' '.join(cmd)}")
    assert report["executions"] >= SMOKE_RUNS[fmt] * 0.9, report   # libFuzzer ran what was asked
    assert report["successes"] > 0, f"no mutant of the {fmt} seeds compiled: the seeds are broken? {report}"
