"""Builds fail loudly: exit 3, the compiler's first error line, and the path of the full log."""

from __future__ import annotations

import os
import re
import resource
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from conftest import assert_one_line_error
from onnx import TensorProto, helper, numpy_helper

from hhbc.build import first_error

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture
def project(cli, tmp_path) -> Path:
    """A compiled (not built) host project of a small conv model."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 6, 6])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 4, 4])
    w = numpy_helper.from_array(np.ones((3, 2, 3, 3), np.float32), "w")
    graph = helper.make_graph([helper.make_node("Conv", ["x", "w"], ["y"], name="conv")], "g", [x], [y],
                              initializer=[w])
    model = tmp_path / "conv.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(model))
    out = tmp_path / "out"
    proc = cli("compile", str(model), "--target", "host", "-o", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    return out


def _build(project: Path, *extra: str, **kwargs):
    """hhbc's build step alone on an already generated (then broken) project, in a subprocess,
    printing its error as the CLI does (`compile --build` would write the sources again)."""
    code = ("import sys; from pathlib import Path; "
            "from hhbc.build import build; from hhbc.errors import HhbcError; "
            "from hhbc.targets import get_target\n"
            "try:\n"
            f"    build(Path({str(project)!r}), get_target('host'){''.join(', ' + e for e in extra)})\n"
            "except HhbcError as err:\n"
            "    print(f'hhbc: error: {err}', file=sys.stderr); sys.exit(err.exit_code)\n")
    environ = dict(os.environ, **kwargs.pop("env", {}))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environ, **kwargs)


def _log_path(line: str) -> Path:
    match = re.search(r"\(full log: (.+)\)$", line)
    assert match, line
    return Path(match[1])


def test_compile_error_names_first_error_and_log(cli, project):
    with open(project / "model.c", "a") as f:
        f.write("int broken = ;\n")
    line = assert_one_line_error(_build(project), "error:", "model.c", code=3)
    log = _log_path(line)
    assert log == project / "build.log" and "int broken" not in line
    assert "error:" in log.read_text() and "cc " in log.read_text()


def test_link_error_names_the_symbol(cli, project):
    makefile = project / "Makefile"
    makefile.write_text(makefile.read_text().replace(" kernels/conv2d.c", ""))
    line = assert_one_line_error(_build(project), "undefined reference", "conv2d", code=3)
    assert _log_path(line).is_file()


def test_missing_compiler(cli, project):
    proc = _build(project, "cc='no-such-cc'")
    assert_one_line_error(proc, "no-such-cc", "not on PATH", code=3)


def test_missing_host_cc(cli, project, tmp_path):
    """PATH with make but no cc: the missing compiler is named before make runs."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "make").symlink_to("/usr/bin/make")
    proc = _build(project, env={"PATH": str(bin_dir)})
    assert_one_line_error(proc, "'cc'", code=3)


def test_missing_zig(cli, tmp_path):
    """ziglang not importable: compile --build for a RISC-V target names the package to install."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    model = tmp_path / "relu.onnx"
    onnx.save(helper.make_model(helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y]),
                                opset_imports=[helper.make_opsetid("", 13)]), str(model))
    code = ("import sys; sys.modules['ziglang'] = None\nfrom hhbc.cli import main\n"
            f"sys.exit(main(['compile', {str(model)!r}, '--target', 'c906', '-o', {str(tmp_path / 'out')!r}, "
            "'-q', '--build']))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert_one_line_error(proc, "ziglang", "pip install ziglang", code=3)


def _small_disk():
    """A full disk, as the compiler sees it: writes past 2 kB fail (RLIMIT_FSIZE)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))


def test_full_disk_during_build(project):
    proc = _build(project, preexec_fn=_small_disk)
    line = assert_one_line_error(proc, code=3)
    assert re.search("file size limit exceeded|file too large|no space left", line, re.IGNORECASE), line


def test_full_disk_while_writing_the_project(cli, project, tmp_path):
    model = tmp_path / "conv.onnx"
    proc = cli("compile", str(model), "--target", "host", "-o", str(tmp_path / "out2"), "-q",
               preexec_fn=lambda: (signal.signal(signal.SIGXFSZ, signal.SIG_IGN),
                                   resource.setrlimit(resource.RLIMIT_FSIZE, (500, 500))))
    assert_one_line_error(proc, "writing", "File too large", code=3)


@pytest.mark.parametrize("log, expected", [
    ("cc -c x.c\nx.c:3:1: error: expected ';'\nmake: *** [Makefile:20: model] Error 1\n", "x.c:3:1: error: expected ';'"),
    ("/usr/bin/ld: m.o: in function `f':\nm.c:(.text+0x8): undefined reference to `g'\n"
     "collect2: error: ld returned 1 exit status\n", "m.c:(.text+0x8): undefined reference to `g'"),
    ("ld.lld: error: undefined symbol: hhbc_x\n", "ld.lld: error: undefined symbol: hhbc_x"),
    ("make: *** [Makefile:20: model] Error 1\n", "no output from the compiler"),
])
def test_first_error(log, expected):
    assert first_error(log) == expected
