"""Resource limits (hhbc/limits.py, docs/limits.md): a model past one is refused in one line
naming the thing and its size, quickly and without allocating it; --max-* raise them."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import pytest
from conftest import assert_one_line_error, run_cli
from onnx import TensorProto, helper

from hhbc.errors import HhbcError
from hhbc.limits import DEFAULT_LIMITS, MiB, Limits, check_tensor, format_bytes, parse_size
from hhbc.targets import TARGETS

pytestmark = pytest.mark.filterwarnings("ignore")

# `hhbc ARGS` as a child of a fresh Python, which prints the child's peak RSS (KiB) on stdout.
PEAK_RSS = """
import resource, subprocess, sys
proc = subprocess.run([sys.executable, "-m", "hhbc", *sys.argv[1:]])
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(proc.returncode)
"""


def _onnx(path: Path, nodes, inputs, outputs, initializers=()) -> Path:
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    return path


def _vi(name: str, shape, dtype=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, dtype, list(shape))


def _huge_input_model(path: Path) -> Path:
    """The model of issue 13: a Relu on a declared 1x3x60000x60000 float32 input (43.2 GB)."""
    shape = [1, 3, 60000, 60000]
    return _onnx(path, [helper.make_node("Relu", ["x"], ["y"], name="relu")], [_vi("x", shape)], [_vi("y", shape)])


def _chain(path: Path, n: int) -> Path:
    """n Sigmoid nodes in a row: a graph n nodes deep."""
    nodes = [helper.make_node("Sigmoid", [f"t{k}" if k else "x"], [f"t{k + 1}" if k < n - 1 else "y"],
                              name=f"s{k}") for k in range(n)]
    return _onnx(path, nodes, [_vi("x", [1, 4])], [_vi("y", [1, 4])])


CAFFE_NET = """name: "small"
input: "data"
input_shape { dim: 1 dim: 1 dim: 8 dim: 8 }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
        convolution_param { num_output: 64 kernel_size: 3 pad: 1 } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "fc" type: "InnerProduct" bottom: "conv1" top: "fc" inner_product_param { num_output: 5 } }
"""


def _caffe(dir_: Path) -> Path:
    """A Caffe model (not ONNX: the compiler's own checks, not a frontend's, see it):
    input 256 B, conv1 (+relu1) output 16 KiB, output 20 B, weights 21,125 float32 (84.5 kB)."""
    from hhbc.frontends.caffe_schema import caffe_messages

    proto = dir_ / "small.prototxt"
    proto.write_text(CAFFE_NET)
    net = caffe_messages()["NetParameter"]()
    rng = np.random.default_rng(0)
    for name, shapes in {"conv1": [(64, 1, 3, 3), (64,)], "fc": [(5, 4096), (5,)]}.items():
        layer = net.layer.add(name=name)
        for shape in shapes:
            blob = layer.blobs.add()
            blob.shape.dim.extend(shape)
            blob.data.extend(rng.standard_normal(int(np.prod(shape))).astype(np.float32).tolist())
    (dir_ / "small.caffemodel").write_bytes(net.SerializeToString())
    return proto


def _peak(*args: str, cwd: Path) -> tuple[subprocess.CompletedProcess, int, float]:
    """Run the CLI; (the process, its peak RSS in MiB, seconds)."""
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", PEAK_RSS, *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120)
    return proc, int(proc.stdout.split()[-1]) // 1024, time.monotonic() - t0


# ---------------------------------------------------------------- the 43 GB input of issue 13
@pytest.mark.parametrize("command", ["compile", "run"])
def test_huge_declared_input_is_refused_quickly_without_allocating_it(tmp_path, command):
    model = _huge_input_model(tmp_path / "huge.onnx")
    args = [command, str(model), "--target", "host", "-o", str(tmp_path / "out"), "-q"]
    proc, rss_mib, seconds = _peak(*args, cwd=tmp_path)
    assert_one_line_error(proc, "input 'x'", "1x3x60000x60000 float32", "43.2 GB", "--max-tensor")
    assert seconds < 30, f"took {seconds:.1f} s"
    assert rss_mib < 1024, f"peak RSS {rss_mib} MiB"
    assert not (tmp_path / "out" / "model.c").exists()


def test_huge_declared_tflite_input_is_refused_by_the_compilers_own_check(tmp_path):
    """TFLite's frontend checks no sizes: the format-agnostic check after import refuses it."""
    tf = pytest.importorskip("tensorflow")
    keras_model = tf.keras.Sequential([tf.keras.Input(shape=(60000, 60000, 3), batch_size=1),
                                       tf.keras.layers.ReLU()])
    model = tmp_path / "huge.tflite"
    model.write_bytes(tf.lite.TFLiteConverter.from_keras_model(keras_model).convert())
    proc, rss_mib, seconds = _peak("run", str(model), "--target", "host", "-q", cwd=tmp_path)
    assert_one_line_error(proc, "huge.tflite: input '", "1x60000x60000x3 float32 is 43.2 GB", "--max-tensor")
    assert seconds < 30 and rss_mib < 1024, (seconds, rss_mib)


def test_huge_input_past_the_raised_tensor_limit_meets_the_host_budget(tmp_path):
    """--max-tensor raised: the arena check refuses it before the planner, naming the tensor
    that alone exceeds the budget; `run` never gets to allocate its random input."""
    model = _huge_input_model(tmp_path / "huge.onnx")
    proc, rss_mib, _ = _peak("run", str(model), "--target", "host", "-q", "--max-tensor", "100G", cwd=tmp_path)
    assert_one_line_error(proc, "arena needs at least 86.4 GB", "target 'host' RAM budget of 2 GiB",
                          "tensor 'x' alone is 43.2 GB", "--max-arena")
    assert rss_mib < 1024, f"peak RSS {rss_mib} MiB"


# ---------------------------------------------------------------- arena budgets
def test_arena_above_the_target_ram_is_refused_naming_arena_budget_and_tensors(tmp_path):
    """1x16x1024x1024 float32 in and out (64 MiB each): 128 MiB of arena is above c906's
    64 MiB (Milk-V Duo); --max-arena raises the budget."""
    shape = [1, 16, 1024, 1024]
    model = _onnx(tmp_path / "m.onnx", [helper.make_node("Sigmoid", ["x"], ["y"], name="sig")],
                  [_vi("x", shape)], [_vi("y", shape)])
    line = assert_one_line_error(run_cli("compile", str(model), "--target", "c906", "-o", str(tmp_path / "a"), "-q"),
                                 "128 MiB", "target 'c906' RAM budget of 64 MiB", "'x' 64 MiB", "'y' 64 MiB",
                                 "--max-arena")
    assert len(line) < 300
    proc = run_cli("compile", str(model), "--target", "c906", "-o", str(tmp_path / "b"), "-q", "--max-arena", "256MiB")
    assert proc.returncode == 0, proc.stderr
    assert "#define MODEL_ARENA_BYTES 134217728" in (tmp_path / "b" / "model.h").read_text()


def test_max_arena_below_a_small_models_arena_is_refused_and_raising_it_compiles(tmp_path):
    proto = _caffe(tmp_path)
    proc = run_cli("compile", str(proto), "--target", "host", "-o", str(tmp_path / "a"), "-q", "--max-arena", "4KiB")
    assert_one_line_error(proc, "activation arena needs at least 16.6 kB", "above the --max-arena of 4 KiB",
                          "tensor 'relu1' alone is 16 KiB", "--max-arena raises it")   # conv1+relu1's output
    proc = run_cli("compile", str(proto), "--target", "host", "-o", str(tmp_path / "b"), "-q", "--max-arena", "1M")
    assert proc.returncode == 0, proc.stderr


def test_every_target_has_a_ram_budget_above_the_suites_models():
    """The largest arena the suite compiles is the ONNX 'light' VGG19 on host (25,690,112 B);
    the real-board budgets are far above the dev-zoo models (MTCNN's 541,696 B on c906)."""
    for target in TARGETS.values():
        assert target.ram_bytes is not None and target.ram_bytes >= 64 * MiB, target.name
    assert TARGETS["host"].ram_bytes > 25_690_112


# ---------------------------------------------------------------- the other limits
def test_an_intermediate_tensor_past_the_tensor_limit_is_refused_by_the_compiler(tmp_path):
    """Caffe's frontend checks no activation sizes: the compiler's generic check names the
    tensor and its layer."""
    proto = _caffe(tmp_path)
    proc = run_cli("compile", str(proto), "--target", "host", "-o", str(tmp_path / "o"), "-q", "--max-tensor", "4K")
    assert_one_line_error(proc, "conv1", "1x64x8x8 float32 is 16 KiB", "above the limit of 4 kB", "--max-tensor")


def test_weights_past_the_weight_limit(tmp_path):
    proto = _caffe(tmp_path)
    proc = run_cli("compile", str(proto), "--target", "host", "-o", str(tmp_path / "o"), "-q", "--max-weights", "64KiB")
    assert_one_line_error(proc, "weights total 84.5 kB", "above the limit of 64 KiB",
                          "the largest is 'fc' (80 KiB)", "--max-weights")


def test_node_count_past_the_node_limit(tmp_path):
    proto = _caffe(tmp_path)
    proc = run_cli("compile", str(proto), "--target", "host", "-o", str(tmp_path / "o"), "-q", "--max-nodes", "2")
    assert_one_line_error(proc, "3 nodes", "above the limit of 2", "--max-nodes")


def test_a_chain_deeper_than_the_default_depth_limit_is_refused_in_one_line(tmp_path):
    """2,500 nodes in a row, past the default 2,000: refused before import (Python code that
    walks a graph recursively breaks near 1,000 frames)."""
    model = _chain(tmp_path / "deep.onnx", DEFAULT_LIMITS.depth + 500)
    t0 = time.monotonic()
    proc = run_cli("compile", str(model), "--target", "host", "-o", str(tmp_path / "o"), "-q", timeout=120)
    assert_one_line_error(proc, "2,500 nodes deep", "above the limit of 2,000", "--max-depth")
    assert time.monotonic() - t0 < 30


def test_depth_limit_lowered(tmp_path):
    proto = _caffe(tmp_path)
    proc = run_cli("compile", str(proto), "--target", "host", "-o", str(tmp_path / "o"), "-q", "--max-depth", "1")
    assert_one_line_error(proc, "deep", "above the limit of 1", "--max-depth")


def test_a_10mb_node_name_is_one_short_line_and_raising_the_limit_keeps_model_c_small(tmp_path):
    w = helper.make_tensor("w", TensorProto.FLOAT, [4, 3, 3, 3], np.ones(108, np.float32))
    big = "n" * 10_000_000
    model = _onnx(tmp_path / "named.onnx", [helper.make_node("Conv", ["x", "w"], ["y"], name=big)],
                  [_vi("x", [1, 3, 8, 8])], [_vi("y", [1, 4, 6, 6])], [w])
    proc = run_cli("compile", str(model), "--target", "host", "-o", str(tmp_path / "a"), "-q")
    line = assert_one_line_error(proc, "name", "10,000,000 characters", "above the limit of 1,024", "--max-name")
    assert len(line) < 300
    proc = run_cli("compile", str(model), "--target", "host", "-o", str(tmp_path / "b"), "-q",
                   "--max-name", "20000000")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "b" / "model.c").stat().st_size < 100_000


# ---------------------------------------------------------------- options and helpers
@pytest.mark.parametrize("text,value", [("65536", 65536), ("512K", 512_000), ("8MiB", 8 * MiB), ("8mb", 8_000_000),
                                        ("1.5G", 1_500_000_000), ("2GiB", 2 << 30), ("100 B", 100)])
def test_sizes_take_si_and_binary_suffixes(text, value):
    assert parse_size(text) == value


def test_a_bad_size_is_one_line_naming_the_option(tmp_path):
    proc = run_cli("compile", str(_caffe(tmp_path)), "--target", "host", "-o", str(tmp_path / "o"),
                   "--max-arena", "lots")
    assert_one_line_error(proc, "--max-arena 'lots': not a size")


def test_messages_give_sizes_in_words():
    assert format_bytes(43_200_000_000) == "43.2 GB" and format_bytes(256 * MiB) == "256 MiB"
    with pytest.raises(HhbcError, match=r"^input 'x': 1x3x60000x60000 float32 is 43.2 GB, above the limit of "
                                        r"256 MiB \(--max-tensor raises it\)$"):
        check_tensor(Limits(), "input 'x'", (1, 3, 60000, 60000), "float32")
    check_tensor(Limits(tensor_bytes=None), "input 'x'", (1, 3, 60000, 60000), "float32")   # no limit


def test_memory_planning_is_linear_in_a_long_chain():
    """A 50,000-layer chain plans in seconds (the planner compared each tensor with every
    placed one: quadratic, minutes)."""
    from hhbc.lower.graph import KernelGraph, Node, Tensor
    from hhbc.lower.memory import plan_memory

    x = Tensor("x", (1, 4), kind="input")
    nodes, prev = [], x
    for k in range(50_000):
        out = Tensor(f"t{k}", (1, 4))
        nodes.append(Node("unary", [prev], out))
        prev = out
    prev.kind = "output"
    t0 = time.monotonic()
    plan = plan_memory(KernelGraph([x], [prev], nodes))
    assert time.monotonic() - t0 < 20
    assert plan.arena_bytes == plan.lower_bound == 32
