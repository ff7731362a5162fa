"""`hhbc doctor`: is this installation able to compile and run models for every target?

One line per item: `ok`, `missing` or `problem`, what was found, and for anything that does
not work the command that fixes it. Required pieces (TVM, the Python dependencies, make,
zig cc for each RISC-V family, the host cc, xuantie-qemu for each emulated core) decide the
exit code: 0 when all work, 1 otherwise. The frameworks `hhbc run` compares against are
optional: a missing one is a warning naming the formats `run` cannot compare.

Every probe of a compiler, emulator or framework runs in a child process with a timeout, so
a broken install (a crashing import, a hanging binary) is reported in one line and never
takes the doctor down. No model is compiled: a warm install answers in a few seconds.
"""

from __future__ import annotations

import concurrent.futures
import importlib.metadata
import importlib.util
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TextIO

from hhbc.errors import HhbcError
from hhbc.targets import RISCV_TRIPLE, TARGETS, Target

# A zig cc link of the test program finishes in about 0.2 s once zig has built musl for the
# -mcpu; a cold cache rebuilds musl (20-70 s), so a link still running after this is "cold".
WARM_LINK_S = 15.0    # a warm link takes ~0.3 s idle, several s on a loaded machine; a cold one 20-70 s
PROBE_TIMEOUT_S = 30.0
TEST_PROGRAM = ("#include <math.h>\n#include <stdio.h>\n"
                "int main(void) { printf(\"%f\\n\", (double)expf(1.0f)); return 0; }\n")
TEST_OUTPUT = "2.718282"
WARM_COMMAND = shlex.join([sys.executable, "-m", "hhbc.build", "--warm"])


@dataclass(frozen=True)
class Framework:
    """An optional reference framework of `hhbc run`."""
    item: str          # the line's label
    module: str        # what is imported to probe it
    dists: tuple[str, ...]   # distributions that provide it (for the version)
    pip: str           # the requirement that installs it
    formats: str       # what `hhbc run` cannot compare without it
    import_it: bool = True   # False: found by its spec only (importing TensorFlow takes ~10 s)
    cannot: str = ""   # what does not work without it, when not a `hhbc run` comparison

    @property
    def consequence(self) -> str:
        return self.cannot or f"hhbc run cannot compare {self.formats}"


FRAMEWORKS = (
    Framework("onnxruntime", "onnxruntime", ("onnxruntime",), "onnxruntime>=1.17", "ONNX models"),
    Framework("tflite", "ai_edge_litert.interpreter", ("ai-edge-litert",), "ai-edge-litert>=2.3",
              "TFLite models"),
    Framework("tensorflow", "tensorflow", ("tensorflow-cpu", "tensorflow"), "tensorflow-cpu>=2.16",
              "TensorFlow .pb models (and SavedModel directories cannot be imported)", import_it=False),
    Framework("opencv", "cv2", ("opencv-python-headless", "opencv-python"),
              "opencv-python-headless>=4.8,<5", "Caffe models"),
    Framework("matplotlib", "matplotlib", ("matplotlib",), "matplotlib>=3.7", "",
              cannot="hhbc bench --plot cannot draw (the hhbc[plot] extra)"),
    Framework("cmake", "cmake", ("cmake",), "cmake>=3.21", "",
              cannot="no cmake from PyPI: a generated CMakeLists.txt needs a cmake >= 3.21 of your own "
                     "(docs/cmake.md)"),
)

STATUSES = ("ok", "missing", "problem")


@dataclass
class Check:
    item: str
    status: str                # one of STATUSES
    detail: str
    fix: str = ""              # the command that fixes it, when status is not ok
    required: bool = True

    def line(self) -> str:
        text = f"{self.status:8} {self.item:16} {self.detail}"
        if self.status != "ok" and self.fix:
            text += f"; fix: {self.fix}"
        if self.status != "ok" and not self.required:
            text += " (optional)"
        return text

    @property
    def failed(self) -> bool:
        return self.required and self.status != "ok"


def pip_install(requirement: str) -> str:
    """The pip command for this interpreter (a venv's pip even when it is not activated)."""
    return shlex.join([sys.executable, "-m", "pip", "install", requirement])


# ---------------------------------------------------------------- running probes
@dataclass
class _Ran:
    returncode: int | None     # None: timed out (and killed)
    output: str
    seconds: float


def _run(cmd: list[str], timeout: float, cwd: Path | None = None) -> _Ran:
    """Run `cmd` in its own session; on timeout kill its whole process group (zig forks)."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            errors="replace", cwd=cwd, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, _ = proc.communicate()
        return _Ran(None, out or "", time.monotonic() - start)
    return _Ran(proc.returncode, out or "", time.monotonic() - start)


def _last_line(text: str) -> str:
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    return lines[-1][:200] if lines else "no output"


def _dist_version(*names: str) -> str | None:
    for name in names:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def _find_spec(module: str):
    """importlib's spec, or None when the module cannot be found (or finding it fails)."""
    try:
        return importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None


def _requirement(name: str) -> str:
    """hhbc's own requirement line for distribution `name` (for the fix command)."""
    try:
        reqs = _hhbc_requirements()
    except Exception:   # broken metadata: the bare name still installs it
        return name
    for req in reqs:
        if req.name.lower() == name.lower():
            return str(req)
    return name


def _hhbc_requirements():
    from packaging.requirements import Requirement

    try:
        lines = importlib.metadata.requires("hhbc") or []
    except importlib.metadata.PackageNotFoundError:
        return []
    reqs = [Requirement(line) for line in lines]
    return [r for r in reqs if r.marker is None or r.marker.evaluate({"extra": ""})]


# ---------------------------------------------------------------- the checks
def check_tvm() -> Check:
    fix = pip_install(_requirement("apache-tvm"))
    version = _dist_version("apache-tvm")
    ran = _run([sys.executable, "-c", "import tvm\nfrom tvm import relax\nprint(tvm.__version__)"],
               PROBE_TIMEOUT_S)
    if ran.returncode != 0:
        what = "timed out" if ran.returncode is None else _last_line(ran.output)
        status = "missing" if version is None or "No module named 'tvm'" in ran.output else "problem"
        return Check("tvm", status, f"import tvm, tvm.relax failed: {what}", fix)
    return Check("tvm", "ok", f"apache-tvm {version or _last_line(ran.output)}, tvm.relax imports "
                              f"({ran.seconds:.1f} s)")


def check_python_deps() -> Check:
    """Every runtime requirement of hhbc is installed at a version it accepts."""
    reqs = _hhbc_requirements()
    if not reqs:
        return Check("python deps", "problem", "hhbc's package metadata is not installed",
                     shlex.join([sys.executable, "-m", "pip", "install", "-e", "."]) + " (in the hhbc checkout)")
    missing, wrong = [], []
    for req in reqs:
        version = _dist_version(req.name)
        if version is None:
            missing.append(str(req))
        elif req.specifier and not req.specifier.contains(version, prereleases=True):
            wrong.append(f"{req.name} {version} (needs {req.specifier})")
    if missing or wrong:
        detail = "; ".join(filter(None, [
            f"not installed: {', '.join(missing)}" if missing else "",
            f"wrong version: {', '.join(wrong)}" if wrong else ""]))
        fix = shlex.join([sys.executable, "-m", "pip", "install",
                          *missing, *(str(r) for r in reqs if any(w.startswith(r.name + " ") for w in wrong))])
        return Check("python deps", "missing" if missing else "problem", detail, fix)
    return Check("python deps", "ok", f"{len(reqs)} requirements of hhbc installed")


def check_make() -> Check:
    make = shutil.which("make")
    if make is None:
        return Check("make", "missing", "'make' is not on PATH (builds run make in the generated project)",
                     "apt install make")
    return Check("make", "ok", make)


def _zig_label(mcpu: str) -> str:
    return "zig cc " + "/".join(t.name for t in TARGETS.values() if t.zig_mcpu == mcpu)


def check_zig(mcpu: str, workdir: Path) -> tuple[Check, Path | None]:
    """zig cc links the test program for `mcpu` (as the generated Makefile calls it). Returns the
    ELF too, for the QEMU checks to run."""
    item = _zig_label(mcpu)
    fix = pip_install(_requirement("ziglang"))
    spec = _find_spec("ziglang")
    if spec is None or spec.origin is None:
        return Check(item, "missing", "the 'ziglang' package is not installed (zig cc builds every RISC-V "
                                      "target)", fix), None
    zig = Path(spec.origin).parent / "zig"
    if not os.access(zig, os.X_OK):
        return Check(item, "problem", f"{zig} is missing or not executable", fix), None
    version = _dist_version("ziglang") or "?"
    src = workdir / "doctor.c"
    if not src.exists():
        src.write_text(TEST_PROGRAM)
    elf = workdir / f"doctor_{mcpu.replace('+', '_')}"
    cmd = [sys.executable, "-m", "ziglang", "cc", "-target", RISCV_TRIPLE, f"-mcpu={mcpu}", "-std=c99", "-O2",
           str(src), "-static", "-Wl,--gc-sections", "-lm", "-o", str(elf)]
    ran = _run(cmd, WARM_LINK_S, cwd=workdir)
    if ran.returncode is None:   # still building musl: compile without linking to see that zig works
        obj = elf.with_suffix(".o")
        compiled = _run([*cmd[:cmd.index("-static")], "-c", "-o", str(obj)], PROBE_TIMEOUT_S, cwd=workdir)
        if compiled.returncode != 0:
            return Check(item, "problem", f"zig cc -mcpu={mcpu} cannot compile: {_last_line(compiled.output)}",
                         fix), None
        return Check(item, "ok", f"ziglang {version}, -mcpu={mcpu} compiles; cache cold (the link ran past "
                                 f"{WARM_LINK_S:g} s: the first build takes 20-70 s; warm it with "
                                 f"{WARM_COMMAND})"), None
    if ran.returncode != 0:
        return Check(item, "problem", f"zig cc -mcpu={mcpu} failed: {_last_line(ran.output)}", fix), None
    return Check(item, "ok", f"ziglang {version}, -mcpu={mcpu}, cache warm (link {ran.seconds:.1f} s)"), elf


def check_host_cc(workdir: Path) -> Check:
    """The host target builds with the system cc: compile, link and run the test program."""
    cc = shutil.which("cc")
    fix = "apt install gcc (or put a C compiler named cc on PATH)"
    if cc is None:
        return Check("cc host", "missing", "no 'cc' on PATH (the host target builds with it)", fix)
    src = workdir / "doctor_host.c"
    src.write_text(TEST_PROGRAM)
    exe = workdir / "doctor_host"
    ran = _run([cc, "-std=c99", "-O2", "-Wall", "-Wextra", str(src), "-lm", "-o", str(exe)], PROBE_TIMEOUT_S)
    if ran.returncode != 0:
        return Check("cc host", "problem", f"{cc} cannot build a C99 program: {_last_line(ran.output)}", fix)
    out = _run([str(exe)], PROBE_TIMEOUT_S)
    if out.returncode != 0 or out.output.strip() != TEST_OUTPUT:
        return Check("cc host", "problem", f"a program built by {cc} printed {_last_line(out.output)!r}", fix)
    version = _first_line(_run([cc, "--version"], PROBE_TIMEOUT_S).output)
    return Check("cc host", "ok", f"{cc} ({version}) builds and runs C99")


def _first_line(text: str) -> str:
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    return lines[0][:120] if lines else "?"


def _qemu_cpus(qemu: Path) -> set[str] | str:
    """The -cpu names this qemu-riscv64 knows, or the error that kept us from asking."""
    ran = _run([str(qemu), "-cpu", "help"], PROBE_TIMEOUT_S)   # exits 1 after listing them
    cpus = {line.split()[0] for line in ran.output.splitlines() if line.strip()}
    if ran.returncode is None or "rv64" not in cpus:
        return "timed out" if ran.returncode is None else _last_line(ran.output)
    return cpus


def check_qemu(target: Target, qemu: Path | str, cpus: set[str] | str, elf: Path | None) -> Check:
    """xuantie-qemu knows the target's cpu and runs the zig-built test program on it."""
    item = f"qemu {target.name}"
    fix = pip_install(_requirement("xuantie-qemu"))
    if isinstance(qemu, str):
        return Check(item, "missing", qemu, fix)
    if isinstance(cpus, str):
        return Check(item, "problem", f"{qemu} -cpu help failed: {cpus}", fix)
    cpu = target.qemu_cpu_for(None)
    if cpu.split(",")[0] not in cpus:
        return Check(item, "problem", f"{qemu.name} has no cpu '{cpu.split(',')[0]}' (not xuantie-qemu? another "
                                      f"PyPI package named 'qemu' may shadow it)", fix)
    if elf is None:
        return Check(item, "ok", f"{qemu.name} has -cpu {cpu} (no test program to run: see the zig cc line)")
    ran = _run([str(qemu), "-cpu", cpu, str(elf)], PROBE_TIMEOUT_S)
    if ran.returncode != 0 or ran.output.strip() != TEST_OUTPUT:
        what = "timed out" if ran.returncode is None else _last_line(ran.output)
        return Check(item, "problem", f"{qemu.name} -cpu {cpu} could not run a test program: {what}", fix)
    return Check(item, "ok", f"{qemu.name} -cpu {cpu} runs a test program ({ran.seconds:.2f} s)")


def check_framework(fw: Framework) -> Check:
    fix = pip_install(fw.pip)
    version = _dist_version(*fw.dists)
    cannot = fw.consequence
    if not fw.import_it:
        spec = _find_spec(fw.module)
        if spec is None:
            return Check(fw.item, "missing", f"'{fw.module}' is not installed: {cannot}", fix, required=False)
        return Check(fw.item, "ok", f"{fw.module} {version or '?'} found (not imported: that takes ~10 s)",
                     required=False)
    ran = _run([sys.executable, "-c", f"import {fw.module}"], PROBE_TIMEOUT_S)
    if ran.returncode != 0:
        what = "timed out" if ran.returncode is None else _last_line(ran.output)
        status = "missing" if "No module named" in ran.output else "problem"
        return Check(fw.item, status, f"import {fw.module} failed ({what}): {cannot}", fix, required=False)
    return Check(fw.item, "ok", f"{fw.module} {version or '?'} imports", required=False)


def _guarded(item: str, required: bool, fn: Callable[[], Check]) -> Check:
    """A check that raises is reported as a problem on its own line, never as a traceback."""
    try:
        return fn()
    except Exception as err:   # the doctor must survive a broken install
        first = str(err).splitlines()[0] if str(err) else ""
        return Check(item, "problem", f"the check itself failed: {type(err).__name__}: {first}"[:300],
                     required=required)


def run_checks() -> list[Check]:
    """All checks, in a fixed order; independent probes run in parallel."""
    from hhbc.emulate import qemu_binary

    mcpus = list(dict.fromkeys(t.zig_mcpu for t in TARGETS.values() if t.zig_mcpu))
    with tempfile.TemporaryDirectory(prefix="hhbc-doctor-") as tmp:
        work = Path(tmp)
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            tvm = pool.submit(_guarded, "tvm", True, check_tvm)
            deps = pool.submit(_guarded, "python deps", True, check_python_deps)
            make = pool.submit(_guarded, "make", True, check_make)
            zigs = {m: pool.submit(_zig_guarded, m, work) for m in mcpus}
            host = pool.submit(_guarded, "cc host", True, lambda: check_host_cc(work))
            fws = [pool.submit(_guarded, fw.item, False, lambda fw=fw: check_framework(fw)) for fw in FRAMEWORKS]
            try:
                qemu: Path | str = qemu_binary()
            except ImportError as err:   # its module cannot even be looked up
                qemu = f"xuantie-qemu is not installed (import qemu: {err})"
            except Exception as err:
                qemu = str(err).split("; note")[0] if isinstance(err, HhbcError) else f"{type(err).__name__}: {err}"
            cpus = _qemu_cpus(qemu) if isinstance(qemu, Path) else ""
            zig_results = {m: f.result() for m, f in zigs.items()}
            qemus = [pool.submit(_guarded, f"qemu {t.name}", True,
                                 lambda t=t: check_qemu(t, qemu, cpus, zig_results[t.zig_mcpu][1]))
                     for t in TARGETS.values() if not t.is_host]
            checks = [tvm.result(), deps.result(), make.result(),
                      *(zig_results[m][0] for m in mcpus), host.result(),
                      *(f.result() for f in qemus), *(f.result() for f in fws)]
    return checks


def _zig_guarded(mcpu: str, work: Path) -> tuple[Check, Path | None]:
    elf: list[Path | None] = [None]

    def check() -> Check:
        found, elf[0] = check_zig(mcpu, work)
        return found

    return _guarded(_zig_label(mcpu), True, check), elf[0]


def doctor(out: TextIO | None = None) -> int:
    """Print one line per check and a verdict; 0 when every required piece works, else 1."""
    out = out or sys.stdout
    from hhbc import __version__

    start = time.monotonic()
    print(f"hhbc {__version__} on Python {sys.version.split()[0]} ({sys.executable})", file=out, flush=True)
    checks = run_checks()
    for c in checks:
        print(c.line(), file=out)
    failed = [c for c in checks if c.failed]
    optional = [c for c in checks if not c.required and c.status != "ok"]
    for c in optional:
        fw = next((f for f in FRAMEWORKS if f.item == c.item), None)
        if fw is not None:
            print(f"warning: {fw.consequence} ({c.item} {c.status})", file=out)
    took = time.monotonic() - start
    if failed:
        print(f"hhbc doctor: {len(failed)} required piece(s) do not work: "
              f"{', '.join(c.item for c in failed)} ({took:.1f} s)", file=out)
        return 1
    targets = ", ".join(TARGETS)
    print(f"hhbc doctor: compiling and running work for every target ({targets})"
          + (f"; {len(optional)} optional piece(s) missing" if optional else "") + f" ({took:.1f} s)", file=out)
    return 0


def add_parser(sub) -> None:
    """Register `hhbc doctor` on the CLI's subparsers."""
    sub.add_parser("doctor", help="check the installation: TVM, zig cc, xuantie-qemu, cc, the run frameworks")


if __name__ == "__main__":
    raise SystemExit(doctor())
