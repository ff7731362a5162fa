"""The output directory: hhbc replaces only its own files, never writes through a symlink,
and writes nothing outside -o."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import onnx
import pytest
from conftest import assert_one_line_error
from onnx import TensorProto, helper, numpy_helper

pytestmark = pytest.mark.filterwarnings("ignore")

SECRET = b"do not touch\n"


def _model(path: Path, conv: bool) -> Path:
    """A Conv+Relu model or a Relu-only one: their projects need different kernel files."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 6, 6])
    if conv:
        w = numpy_helper.from_array(np.ones((3, 2, 3, 3), np.float32), "w")
        nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
                 helper.make_node("Relu", ["c"], ["y"], name="relu")]
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 4, 4])
        inits = [w]
    else:
        nodes = [helper.make_node("Relu", ["x"], ["y"], name="relu")]
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 6, 6])
        inits = []
    graph = helper.make_graph(nodes, "g", [x], [y], initializer=inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return path


@pytest.fixture
def models(tmp_path):
    return _model(tmp_path / "conv.onnx", True), _model(tmp_path / "relu.onnx", False)


@pytest.fixture
def victim(tmp_path):
    """A file outside -o that a planted symlink points at."""
    path = tmp_path / "elsewhere" / "victim.txt"
    path.parent.mkdir()
    path.write_bytes(SECRET)
    return path


def _compile(cli, model: Path, out: Path, *extra: str):
    return cli("compile", str(model), "--target", "host", "-o", str(out), "-q", *extra)


def _tree(root: Path) -> dict[str, bytes | str]:
    """Every path under root with its content (or its link target)."""
    return {str(p.relative_to(root)): (f"-> {os.readlink(p)}" if p.is_symlink() else
                                       p.read_bytes() if p.is_file() else "dir")
            for p in sorted(root.rglob("*"))}


@pytest.mark.parametrize("planted", ["model.c", "weights.c", "manifest.json", "kernels/hhbc_act.h"])
def test_planted_file_symlink_is_not_followed(cli, models, victim, tmp_path, planted):
    out = tmp_path / "out"
    assert _compile(cli, models[0], out).returncode == 0
    (out / planted).unlink()
    (out / planted).symlink_to(victim)
    proc = _compile(cli, models[0], out)
    assert_one_line_error(proc, str(out / planted), "symlink")
    assert victim.read_bytes() == SECRET


def test_planted_folder_symlink_is_not_followed(cli, models, victim, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "kernels").symlink_to(victim.parent, target_is_directory=True)
    before = _tree(victim.parent)
    proc = _compile(cli, models[0], out)
    assert_one_line_error(proc, str(out / "kernels"), "symlink")
    assert _tree(victim.parent) == before


def test_symlinked_build_product_is_not_followed(cli, models, victim, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "model").symlink_to(victim)
    proc = _compile(cli, models[0], out, "--build")
    assert_one_line_error(proc, str(out / "model"), "symlink", code=3)
    assert victim.read_bytes() == SECRET


def test_existing_project_keeps_the_users_files(cli, models, tmp_path):
    """-o inside a user's project: hhbc replaces its own files, deletes the kernels the new
    model no longer needs, and leaves every other file as it was."""
    out = tmp_path / "out"
    assert _compile(cli, models[0], out).returncode == 0
    first = json.loads((out / "manifest.json").read_text())["files"]
    assert "kernels/conv2d.c" in first
    users = {"README.txt": b"mine\n", "app/main.c": b"int main(void) { return 0; }\n",
             "kernels/my_kernel.c": b"/* mine */\n"}
    for rel, data in users.items():
        (out / rel).parent.mkdir(exist_ok=True)
        (out / rel).write_bytes(data)
    assert _compile(cli, models[1], out).returncode == 0
    second = json.loads((out / "manifest.json").read_text())["files"]
    assert "kernels/conv2d.c" not in second and not (out / "kernels" / "conv2d.c").exists()
    for rel, data in users.items():
        assert (out / rel).read_bytes() == data, rel
    on_disk = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert on_disk == set(second) | set(users)


def test_foreign_file_in_the_way_is_refused(cli, models, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "Makefile").write_text("all:\n\techo the user's own build\n")
    before = _tree(out)
    proc = _compile(cli, models[0], out)
    assert_one_line_error(proc, str(out / "Makefile"), "not a file hhbc wrote")
    assert _tree(out) == before


def test_tampered_manifest_cannot_delete_outside(cli, models, victim, tmp_path):
    """The "files" list is only trusted for paths inside -o."""
    out = tmp_path / "out"
    assert _compile(cli, models[0], out).returncode == 0
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"] += [str(victim), os.path.relpath(victim, out), "../elsewhere/victim.txt"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert _compile(cli, models[1], out).returncode == 0
    assert victim.read_bytes() == SECRET


@pytest.mark.parametrize("command", ["compile", "run"])
def test_nothing_written_outside_out(cli, models, tmp_path, command):
    """cwd and TMPDIR in a sandbox: after the command only -o is new there."""
    sandbox = tmp_path / "sandbox"
    (sandbox / "tmp").mkdir(parents=True)
    extra = ["--build"] if command == "compile" else []
    proc = cli(command, str(models[0]), "--target", "host", "-o", "out", "-q", *extra, cwd=sandbox,
               env={"TMPDIR": str(sandbox / "tmp")})
    assert proc.returncode == 0, proc.stderr
    assert {p.name for p in sandbox.iterdir()} == {"tmp", "out"}
    assert list((sandbox / "tmp").iterdir()) == []
