"""Coverage-guided fuzzing of `hhbc compile`, one harness per model format (atheris/libFuzzer).

    python -m tests.fuzz.harness FORMAT [--work DIR] [--long] [libFuzzer flags] [CORPUS_DIR...]
    python -m tests.fuzz.harness onnx -runs=2000
    python -m tests.fuzz.harness tflite -max_total_time=600 --work build/fuzz/tflite

Each execution writes the mutated bytes to a model file and calls the CLI's own entry point,
`hhbc.cli.main(["compile", MODEL, "--target", "host", "-o", OUT, "-q"])`, in this process,
with the working directory and TMPDIR in a sandbox. Its outcome is one of:

  success      main() returned 0;
  clean error  main() returned 2 and stderr is exactly one line starting `hhbc: error:`;
  failure      anything else: another exit code, more stderr, an exception escaping main(),
               a file left in the sandbox or beside the model (a write outside -o); and, caught
               by libFuzzer, a signal, a hang past -timeout (60 s) or RSS above -rss_limit_mb.

Failures are saved under WORK/failures/ (the input, and a .txt with the outcome and the
traceback tail), at most MAX_PER_SIGNATURE per distinct cause; fuzzing goes on. libFuzzer's
own crash artifacts (signal, timeout, oom) land there too. The counts are written to
WORK/report.json after every execution and printed as a table when libFuzzer exits (on a
C-level exit hook: atheris.Fuzz() never returns). The exit code is 1 if any failure was seen.

The Caffe harnesses hold one half fixed: `prototxt` mutates the .prototxt of seeds.caffe_net()
and compiles it with that net's .caffemodel beside it; `caffemodel` mutates the .caffemodel
and compiles the fixed .prototxt.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

from . import seeds as seedgen

DEFAULT_FLAGS = {"-timeout": "60", "-rss_limit_mb": "4096", "-max_len": "1048576"}
MAX_PER_SIGNATURE = 2
COLUMNS = ("executions", "successes", "clean_errors", "failures")


# ------------------------------------------------------------------------------------ outcome
def classify(rc, stderr: str, exc: BaseException | None, stray: list[str]) -> tuple[str, str]:
    """(success | clean_error | failure, why) for one execution of main()."""
    if exc is not None:
        first = str(exc).splitlines()[0] if str(exc) else ""
        return "failure", f"exception escaped main(): {type(exc).__name__}: {first}"
    if stray:
        return "failure", f"wrote outside -o: {', '.join(stray[:5])}"
    lines = stderr.splitlines()
    if rc == 0:
        return "success", ""
    if rc == 2 and len(lines) == 1 and lines[0].startswith("hhbc: error:"):
        return "clean_error", ""
    return "failure", f"exit {rc} with {len(lines)} stderr line(s): {lines[:1]}"


class _CaptureFd:
    """Capture a file descriptor (C-level writes too: TVM logs, warnings) into a file; the
    Python stream of that descriptor (sys.stdout / sys.stderr) writes to it directly for the
    block, also where something (pytest) had replaced that stream."""

    def __init__(self, fd: int, path: Path):
        self.fd, self.path = fd, path
        self.attr = {1: "stdout", 2: "stderr"}[fd]

    def __enter__(self):
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        self.saved = os.dup(self.fd)
        self.file = open(self.path, "w+b")
        os.dup2(self.file.fileno(), self.fd)
        self.stream = getattr(sys, self.attr)
        setattr(sys, self.attr, open(self.fd, "w", closefd=False, encoding="utf-8", errors="replace"))
        return self

    def __exit__(self, *exc):
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        getattr(sys, self.attr).close()
        setattr(sys, self.attr, self.stream)
        os.dup2(self.saved, self.fd)
        os.close(self.saved)
        self.file.seek(0)
        self.text = self.file.read().decode("utf-8", "replace")
        self.file.close()
        return False


# ------------------------------------------------------------------------------------ harness
class Harness:
    def __init__(self, fmt: str, work: Path):
        if fmt not in seedgen.FORMATS:
            raise SystemExit(f"unknown format {fmt!r}: one of {', '.join(seedgen.FORMATS)}")
        self.fmt, self.work = fmt, work
        self.sandbox = work / "sandbox"
        self.input_dir = work / "input"
        self.failures = work / "failures"
        self.report_path = work / "report.json"
        for d in (self.sandbox, self.input_dir, self.failures):
            d.mkdir(parents=True, exist_ok=True)
        self.counts = dict.fromkeys(COLUMNS, 0)
        self.signatures: dict[str, int] = {}
        self.started = time.monotonic()
        # the model file the mutated bytes go to, and the path given to the CLI
        if fmt == "prototxt":
            self.model = self.input_dir / "model.prototxt"
            self.compiled = self.model
        elif fmt == "caffemodel":
            self.model = self.input_dir / "model.caffemodel"
            self.compiled = self.input_dir / "model.prototxt"
        else:
            self.model = self.input_dir / f"model{seedgen.SUFFIX[fmt]}"
            self.compiled = self.model
        if fmt in ("prototxt", "caffemodel"):
            fixed_proto, fixed_model = seedgen.write_caffe_pair(work / "fixed")
            # the fixed half of the pair, beside the mutated one
            fixed = fixed_model if fmt == "prototxt" else fixed_proto
            self.fixed_half = (self.input_dir / f"model{fixed.suffix}", fixed.read_bytes())
            shutil.copy(fixed, self.failures / f"FIXED{fixed.suffix}")
        else:
            self.fixed_half = None
        self.expected_inputs = {self.model.name} | ({self.fixed_half[0].name} if self.fixed_half else set())

    # one execution -----------------------------------------------------------------------
    def run_one(self, data: bytes) -> str:
        from hhbc.cli import main

        if not self.counts["executions"]:
            self.started = time.monotonic()      # the rate counts executions, not the set-up
            self.cpu_started = time.process_time()
        self._reset_dirs()
        self.model.write_bytes(data)
        if self.fixed_half:
            self.fixed_half[0].write_bytes(self.fixed_half[1])
        out = self.sandbox / "out"
        argv = ["compile", str(self.compiled), "--target", "host", "-o", str(out), "-q"]
        rc, exc, tb = None, None, ""
        cwd = os.getcwd()
        old_tmp = os.environ.get("TMPDIR"), tempfile.tempdir
        os.environ["TMPDIR"] = str(self.sandbox)
        tempfile.tempdir = str(self.sandbox)
        os.chdir(self.sandbox)
        try:
            with _CaptureFd(2, self.work / "stderr.txt") as err, _CaptureFd(1, self.work / "stdout.txt"), \
                    warnings.catch_warnings():
                warnings.simplefilter("default")       # as a fresh `hhbc` process shows them
                try:
                    rc = main(argv)
                except KeyboardInterrupt:
                    raise
                except BaseException as e:             # noqa: BLE001 -- an escape IS the finding
                    exc, tb = e, traceback.format_exc()
        finally:
            os.chdir(cwd)
            tempfile.tempdir = old_tmp[1]
            if old_tmp[0] is None:
                os.environ.pop("TMPDIR", None)
            else:
                os.environ["TMPDIR"] = old_tmp[0]
        stray = sorted(p.name for p in self.sandbox.iterdir() if p.name != "out")
        stray += sorted(f"{self.input_dir.name}/{p.name}" for p in self.input_dir.iterdir()
                        if p.name not in self.expected_inputs)
        outcome, why = classify(rc, err.text, exc, stray)
        self.counts["executions"] += 1
        self.counts[{"success": "successes", "clean_error": "clean_errors", "failure": "failures"}[outcome]] += 1
        if outcome == "failure":
            self._save_failure(data, why, err.text, tb)
        self._write_report()
        return outcome

    def _reset_dirs(self) -> None:
        for d in (self.sandbox, self.input_dir):
            for p in d.iterdir():
                if p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink(missing_ok=True)

    def _save_failure(self, data: bytes, why: str, stderr: str, tb: str) -> None:
        last_frame = ""
        for line in tb.splitlines():
            if line.strip().startswith("File "):
                last_frame = line.strip()
        signature = f"{why.split(':')[0]}|{why if not tb else tb.strip().splitlines()[-1][:120]}|{last_frame}"
        seen = self.signatures.get(signature, 0)
        self.signatures[signature] = seen + 1
        if seen >= MAX_PER_SIGNATURE:
            return
        digest = hashlib.sha1(data).hexdigest()[:12]
        path = self.failures / f"failure-{digest}{self.model.suffix}"
        path.write_bytes(data)
        tail = "\n".join(tb.strip().splitlines()[-25:])
        path.with_suffix(path.suffix + ".txt").write_text(
            f"format: {self.fmt}\noutcome: failure: {why}\n"
            f"command: hhbc compile {self.compiled.name} --target host -o OUT -q"
            f"{' (with FIXED' + self.fixed_half[0].suffix + ' beside it)' if self.fixed_half else ''}\n"
            f"\nstderr:\n{stderr[-3000:]}\ntraceback (tail):\n{tail}\n")
        print(f"fuzz[{self.fmt}]: FAILURE ({why}) -> {path}", file=sys.stderr, flush=True)

    def _write_report(self) -> None:
        report = {"format": self.fmt, **self.counts,
                  "seconds": round(time.monotonic() - self.started, 2),
                  "cpu_seconds": round(time.process_time() - self.cpu_started, 2),
                  "distinct_failures": len(self.signatures), "failures_dir": str(self.failures)}
        tmp = self.report_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(report, indent=1))
        os.replace(tmp, self.report_path)

    def table(self) -> str:
        secs = time.monotonic() - self.started
        rate = self.counts["executions"] / secs if secs > 0 else 0.0
        head = "| format | executions | successes | clean errors | failures | exec/s |"
        row = (f"| {self.fmt} | {self.counts['executions']} | {self.counts['successes']} | "
               f"{self.counts['clean_errors']} | {self.counts['failures']} | {rate:.2f} |")
        return f"{head}\n|---|---|---|---|---|---|\n{row}"


def format_table(reports: list[dict]) -> str:
    lines = ["| format | executions | successes | clean errors | failures | exec/s |",
             "|---|---|---|---|---|---|"]
    for r in reports:
        rate = r["executions"] / r["seconds"] if r.get("seconds") else 0.0
        lines.append(f"| {r['format']} | {r['executions']} | {r['successes']} | {r['clean_errors']} | "
                     f"{r['failures']} | {rate:.2f} |")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------ main
def _instrumented_import() -> None:
    """Import every hhbc module under atheris' instrumentation (coverage for the guidance)."""
    import importlib
    import pkgutil

    import atheris

    with atheris.instrument_imports(include=["hhbc"]):
        import hhbc
        for info in pkgutil.walk_packages(hhbc.__path__, "hhbc."):
            if info.name == "hhbc.__main__":    # runs the CLI on import
                continue
            try:
                importlib.import_module(info.name)
            except Exception:           # a module needing an optional framework: not fuzzed here
                pass


def _generate_seeds(fmt: str, corpus: Path, long_run: bool, log: Path) -> None:
    """Seeds in a child process: TensorFlow, which builds some of them, stays out of this one."""
    import subprocess

    cmd = [sys.executable, "-m", "tests.fuzz.seeds", fmt, str(corpus)] + (["--long"] if long_run else [])
    with open(log, "w") as out:
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=seedgen.ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"fuzz[{fmt}]: generating the seeds failed (exit {proc.returncode}), see {log}")


def _split_args(argv: list[str]) -> tuple[str, Path | None, bool, list[str]]:
    if not argv or argv[0].startswith("-"):
        raise SystemExit(__doc__)
    fmt, rest = argv[0], argv[1:]
    work, long_run, fuzzer = None, False, []
    i = 0
    while i < len(rest):
        a = rest[i]
        if a == "--work":
            work, i = Path(rest[i + 1]), i + 2
            continue
        if a.startswith("--work="):
            work = Path(a.split("=", 1)[1])
        elif a == "--long":
            long_run = True
        else:
            fuzzer.append(a)
        i += 1
    return fmt, work, long_run, fuzzer


def main(argv: list[str] | None = None) -> None:
    import atheris

    argv = list(sys.argv[1:] if argv is None else argv)
    fmt, work, long_run, fuzzer = _split_args(argv)
    work = (work or Path(tempfile.mkdtemp(prefix=f"hhbc-fuzz-{fmt}-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    harness = Harness(fmt, work)

    corpora = [a for a in fuzzer if not a.startswith("-")]
    flags = [a for a in fuzzer if a.startswith("-")]
    if not corpora:
        corpus = work / "corpus"
        corpora = [str(corpus)]
    corpus = Path(corpora[0])
    if not corpus.exists() or corpus.is_dir() and not any(corpus.iterdir()):   # a file: replay it
        _generate_seeds(fmt, corpus, long_run, work / "seeds.log")
    given = {f.split("=", 1)[0] for f in flags}
    flags += [f"{k}={v}" for k, v in DEFAULT_FLAGS.items() if k not in given]
    if "-artifact_prefix" not in given:
        flags.append(f"-artifact_prefix={harness.failures}/")

    _instrumented_import()

    @ctypes.CFUNCTYPE(None, ctypes.c_void_p)
    def at_exit(_):
        print(harness.table(), flush=True)
        print(f"fuzz[{fmt}]: report {harness.report_path}; failures in {harness.failures}", flush=True)
        if harness.counts["failures"]:
            sys.stderr.flush()
            os._exit(1)

    ctypes.CDLL("libc.so.6").__cxa_atexit(at_exit, None, None)
    main._keep = at_exit             # the callback must outlive this frame

    def test_one_input(data: bytes) -> None:
        harness.run_one(data)

    # atheris.Mutate is a stub until Fuzz() swaps in libFuzzer's: look it up on every call
    def byte_mutate(data: bytes, max_size: int) -> bytes:
        return atheris.Mutate(data, max_size)

    if fmt == "tflite":
        from .tflite_mutator import TfliteMutator
        mutator = TfliteMutator(byte_mutate)
    else:
        from .proto_mutator import ProtoMutator
        mutator = ProtoMutator(fmt, byte_mutate)

    atheris.Setup([sys.argv[0], *flags, *corpora], test_one_input, custom_mutator=mutator)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
