"""Post-training quantization of every dev-zoo float model, on real calibration data (tests/data):
on c908, c906 and host the firmware's outputs equal the host simulation of the int8 graph bit
for bit, on evaluation samples the calibration never saw."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from hhbc.build import build
from hhbc.compiler import compile_model
from hhbc.emulate import run_model
from hhbc.frontends import ImportOptions
from hhbc.quantize.ptq import PtqOptions
from hhbc.quantize.simulate import simulate
from hhbc.targets import get_target

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from data import DEV_ZOO_FLOAT, dataset, needs_espeak  # noqa: E402

CALIB = 32          # calibration samples per model (of the split's 100-128)
EVAL = 2            # evaluation samples run on each target
# The ARM KWS graphs start at their WAV decoder: cut at the MFCC, both outputs kept.
PB_CUTS = {"DS_CNN_S": "MobileNet/fc1/BiasAdd", "CNN_S": "add_4", "DNN_S": "add"}


def import_options(model: str, sample_shape: tuple[int, ...]) -> ImportOptions:
    if model.endswith(".pb"):
        logits = PB_CUTS[Path(model).stem]
        return ImportOptions(("Mfcc:0",), ((1, *sample_shape),), ("labels_softmax:0", f"{logits}:0"))
    return ImportOptions()


def _split(model: str):
    if needs_espeak(model) and not _have_espeak():
        pytest.skip("espeak-ng is not installed (Debian: apt-get install espeak-ng): no keyword data")
    return dataset(model)


def _have_espeak() -> bool:
    import shutil

    return shutil.which("espeak-ng") is not None


@pytest.mark.qemu
@pytest.mark.parametrize("target", ["c908", "c906", "host"])
@pytest.mark.parametrize("model", DEV_ZOO_FLOAT)
def test_int8_firmware_equals_host_simulation(models_dir, model, target, tmp_path):
    split = _split(model)
    options = import_options(model, tuple(split.eval.shape[1:]))
    calib = [[x[None]] for x in split.calib[:CALIB]]
    tgt = get_target(target)
    compiled = compile_model(models_dir / model, tgt, tmp_path / "p", options=options, scheme="int8_asym_w_sym",
                             ptq=PtqOptions(samples=calib))
    assert compiled.manifest["scheme"] == "int8_asym_w_sym"
    float_layers = [n.layer for n in compiled.graph.nodes if n.op != "dequantize_i8" and n.output.dtype != "int8"]
    assert not float_layers, f"layers left in float: {float_layers}"
    elf = build(tmp_path / "p", tgt)
    for k in range(EVAL):
        x = [split.eval[k * 7][None]]
        got = run_model(elf, tgt, compiled.manifest["vlen"], x, compiled.manifest["outputs"], tmp_path / "io")
        sim = simulate(compiled.graph, x)
        assert sim.exact
        for g, s in zip(got, sim.outputs):
            np.testing.assert_array_equal(g, s, err_msg=f"{model} on {target}, eval sample {k * 7}")
