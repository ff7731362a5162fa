"""TFLite's sparse tensor format (Tensor.sparsity: traversal order, block map, DENSE /
SPARSE_CSR levels), which hhbc densifies at import (tflite_rewrite.densify).

TF's converter (EXPERIMENTAL_SPARSITY) writes only plain CSR (tests/frontends/
test_tflite_variants.py), so the sparse tensors here come from a test-side encoder
(tflite_sparse_encode.py, written from the schema's comments) applied to models TF built:

  * the encoder is checked against TFLite itself: a model `input + constant` whose constant
    is stored sparse behind a DENSIFY op gives back the dense constant in the interpreter; and
    hhbc's densify must give it back too, for CSR, 1x4 / 1x16 / 4x4 / 2x4 blocks, 4-D conv
    weights, permuted traversal orders and uint8 / uint16 / int32 index vectors;
  * a float conv + FC model: conv weights sparse behind DENSIFY (4-D, permuted order, a 1x4
    channel block), FC weights block-sparse without DENSIFY (FULLY_CONNECTED reads 1x16 and
    1x4 blocks itself); the interpreter (BUILTIN_REF) on it equals the dense original, and
    hhbc on host and c908 agrees with it to 1e-4;
  * a fully-int8 FC model with 1x16 block-sparse int8 weights, no DENSIFY: the interpreter's
    reference FULLY_CONNECTED runs it (its int8 sparse path takes 1x16 blocks only; 1x4
    blocks are "Unsupported sparse fully-connected weight format" there, and in the
    default resolver too). That sparse int8 kernel is not bit-exact with TFLite's own dense
    int8 FULLY_CONNECTED: on 400 seeded inputs, 17 outputs differed by one LSB (its
    requantization rounds differently). hhbc computes the dense kernel's result, so it is
    bit-exact with the interpreter on the same weights dense or behind DENSIFY (which equal
    each other), and within one LSB of the direct sparse kernel. The same weights with 1x4
    blocks behind DENSIFY run in the interpreter; hhbc reads the direct 1x4 form the format
    defines as well, into the same weights;
  * a malformed encoding (segments out of range, a value missing) is a one-line error
    naming the tensor.

The default resolver (XNNPACK delegate) is not the reference here: on these files it reads
the sparse FC weights as if dense (NaN / wrong outputs), which is why BUILTIN_REF is used.
"""

from __future__ import annotations

from pathlib import Path

import flatbuffers
import numpy as np
import pytest
import tflite_gen
import tflite_sparse_encode as enc

from conftest import assert_one_line_error, run_cli
from hhbc.build import build
from hhbc.compiler import compile_model
from hhbc.emulate import run_model
from hhbc.errors import HhbcError
from hhbc.frontends.tflite_rewrite import densify
from hhbc.targets import get_target

pytest.importorskip("tensorflow")
schema = pytest.importorskip("ai_edge_litert.schema_py_generated")

TARGETS = ["host", "c908"]
RTOL = 1e-4
INPUTS = 2
CONV_2D, FULLY_CONNECTED = 3, 9


# ---------------------------------------------------------------- encoder against TFLite and hhbc

def _blocky(rng, shape, blocks=(), zero_blocks=0.6, zero_elements=0.1) -> np.ndarray:
    """Normal values with whole blocks (blocks: {dim: size}) and some single elements zeroed."""
    w = rng.normal(size=shape).astype(np.float32)
    sizes = [dict(blocks).get(d, 1) for d in range(len(shape))]
    mask = rng.random([s // b for s, b in zip(shape, sizes)]) < zero_blocks
    for d, b in enumerate(sizes):
        mask = np.repeat(mask, b, axis=d)
    w[mask | (rng.random(shape) < zero_elements)] = 0.0
    return w


# name: (shape, zeroed blocks, encode() keywords)
ENCODINGS = {
    "csr": ((16, 24), {}, {}),
    "csr_column_major": ((16, 24), {}, dict(traversal_order=[1, 0])),
    "csr_uint8": ((12, 20), {}, dict(index_type="uint8")),
    "csr_uint16": ((8, 300), {}, dict(index_type="uint16")),
    "block_1x4": ((8, 32), {1: 4}, dict(block_map=[1], block_size=[4])),
    "block_1x16": ((8, 64), {1: 16}, dict(block_map=[1], block_size=[16], index_type="uint8")),
    "block_4x4": ((16, 32), {0: 4, 1: 4}, dict(block_map=[0, 1], block_size=[4, 4])),
    "block_4x4_transposed": ((16, 32), {0: 4, 1: 4},
                             dict(block_map=[0, 1], block_size=[4, 4], traversal_order=[1, 0, 3, 2])),
    "block_2x4_inner_permuted": ((16, 32), {0: 2, 1: 4},
                                 dict(block_map=[0, 1], block_size=[2, 4], traversal_order=[0, 1, 3, 2],
                                      index_type="uint16")),
    "conv": ((8, 3, 3, 16), {}, dict(formats=[0, 0, 0, 1])),
    "conv_channel_block": ((8, 3, 3, 16), {3: 4},
                           dict(block_map=[3], block_size=[4], formats=[0, 0, 0, 1, 0])),
    "conv_permuted": ((8, 3, 3, 16), {}, dict(traversal_order=[0, 3, 1, 2], formats=[0, 1, 0, 1])),
    "conv_all_sparse": ((4, 3, 3, 8), {}, dict(formats=[1, 1, 1, 1], index_type="uint16")),
}


def _tflite_densify(w: np.ndarray, options: dict) -> np.ndarray:
    """TFLite's own reading of the encoding: input (zeros) + DENSIFY(sparse constant)."""
    buf = enc.sparse_model(enc.add_model(w), {1: options}, densify_op=True)
    assert tflite_gen.op_names(buf) == ["DENSIFY", "ADD"]
    (out,) = tflite_gen.interpreter_run(buf, [np.zeros(w.shape, np.float32)])
    return out


@pytest.mark.parametrize("name", sorted(ENCODINGS))
def test_encoding_round_trips_through_tflite_and_hhbc(name):
    shape, blocks, options = ENCODINGS[name]
    w = _blocky(np.random.default_rng(sorted(ENCODINGS).index(name)), shape, blocks)
    values, sparsity = enc.encode(w, **options)
    assert 0 < values.size < w.size                       # really sparse, not empty
    csr = [m for m in sparsity.dimMetadata if m.format == enc.SPARSE_CSR]
    assert csr and all(type(m.arrayIndices).__name__.lower().startswith(options.get("index_type", "int32"))
                       for m in csr)
    assert np.array_equal(_tflite_densify(w, options), w)
    got = densify(values, list(shape), sparsity, name)
    assert got.dtype == w.dtype and np.array_equal(got, w)


def test_int8_values_round_trip():
    """int8 values keep their type through densify (a fully-int8 model's weights)."""
    rng = np.random.default_rng(3)
    w = rng.integers(-127, 128, (16, 32)).astype(np.int8)
    w[np.repeat(rng.random((16, 2)) < 0.5, 16, axis=1)] = 0
    values, sparsity = enc.encode(w, block_map=[1], block_size=[16])
    assert values.dtype == np.int8 and values.size < w.size
    got = densify(values, [16, 32], sparsity, "w")
    assert got.dtype == np.int8 and np.array_equal(got, w)


# ---------------------------------------------------------------- models built by TF, made sparse

def _weights(buf: bytes, opcode: int) -> list[int]:
    """The weight (second input) tensor of each op with this builtin code, in op order."""
    model = schema.ModelT.InitFromPackedBuf(bytearray(buf), 0)
    codes = [max(c.builtinCode, c.deprecatedBuiltinCode) for c in model.operatorCodes]
    return [int(op.inputs[1]) for op in model.subgraphs[0].operators if codes[op.opcodeIndex] == opcode]


def _zero_blocks(buf: bytes, blocks: dict[int, dict[int, int]], seed: int) -> bytes:
    """The model with whole blocks of the given weight tensors zeroed ({tensor: {dim: size}}):
    the dense original a sparse encoding must reproduce."""
    model = schema.ModelT.InitFromPackedBuf(bytearray(buf), 0)
    rng = np.random.default_rng(seed)
    for index, dims in blocks.items():
        t = model.subgraphs[0].tensors[index]
        dtype = {0: np.float32, 9: np.int8}[t.type]
        w = np.frombuffer(np.asarray(model.buffers[t.buffer].data, np.uint8).tobytes(), dtype)
        w = w.reshape(list(t.shape)).copy()
        sizes = [dims.get(d, 1) for d in range(w.ndim)]
        mask = rng.random([s // b for s, b in zip(w.shape, sizes)]) < 0.6
        for d, b in enumerate(sizes):
            mask = np.repeat(mask, b, axis=d)
        w[mask] = 0
        model.buffers[t.buffer].data = np.frombuffer(w.tobytes(), np.uint8)
    builder = flatbuffers.Builder(len(buf) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    """Dense originals (blocks zeroed) and their sparse forms, written once per session."""
    out = tmp_path_factory.mktemp("tflite_sparsity")
    files = {}

    dense = tflite_gen._convert(tflite_gen.conv_fc_model(depthwise=False))
    conv0, conv1 = _weights(dense, CONV_2D)
    fc0, fc1 = _weights(dense, FULLY_CONNECTED)
    dense = _zero_blocks(dense, {conv0: {}, conv1: {3: 4}, fc0: {1: 16}, fc1: {1: 4}}, seed=1)
    sparse = enc.sparse_model(dense, {conv0: dict(traversal_order=[0, 3, 1, 2], formats=[0, 1, 0, 1]),
                                      conv1: dict(block_map=[3], block_size=[4], formats=[0, 0, 0, 1, 0])},
                              densify_op=True)
    sparse = enc.sparse_model(sparse, {fc0: dict(block_map=[1], block_size=[16]),
                                       fc1: dict(block_map=[1], block_size=[4], index_type="uint8")})
    files["float_dense"], files["float_sparse"] = dense, sparse

    dense = _int8_fc_model()
    fcs = _weights(dense, FULLY_CONNECTED)
    dense = _zero_blocks(dense, {i: {1: 16} for i in fcs}, seed=2)
    files["int8_dense"] = dense
    files["int8_sparse"] = enc.sparse_model(dense, {i: dict(block_map=[1], block_size=[16]) for i in fcs})
    files["int8_sparse_densify"] = enc.sparse_model(
        dense, {i: dict(block_map=[1], block_size=[16]) for i in fcs}, densify_op=True)
    files["int8_sparse_1x4"] = enc.sparse_model(dense, {i: dict(block_map=[1], block_size=[4]) for i in fcs})
    files["int8_sparse_1x4_densify"] = enc.sparse_model(
        dense, {i: dict(block_map=[1], block_size=[4]) for i in fcs}, densify_op=True)
    paths = {}
    for name, buf in files.items():
        paths[name] = out / f"{name}.tflite"
        paths[name].write_bytes(buf)
    return paths


def _int8_fc_model() -> bytes:
    """Dense 64 -> 32 (ReLU) -> 16, fully int8 with int8 input and output."""
    tf = tflite_gen._tf()
    inp = tf.keras.Input((64,), batch_size=1)
    x = tf.keras.layers.Dense(32, activation="relu")(inp)
    model = tf.keras.Model(inp, tf.keras.layers.Dense(16)(x))
    rng = np.random.default_rng(tflite_gen.SEED)
    model.set_weights([rng.normal(0, 0.3, w.shape).astype(np.float32) for w in model.get_weights()])

    def dataset():
        for _ in range(32):
            yield [rng.uniform(-1, 1, (1, 64)).astype(np.float32)]

    def configure(c):
        c.optimizations = [tf.lite.Optimize.DEFAULT]
        c.representative_dataset = dataset
        c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        c.inference_input_type = c.inference_output_type = tf.int8
    return tflite_gen._convert(model, configure)


def _inputs(shape, dtype, seed: int) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    if dtype == np.int8:
        return [[rng.integers(-128, 128, shape, dtype=np.int8)] for _ in range(INPUTS)]
    return [[rng.uniform(-1, 1, shape).astype(np.float32)] for _ in range(INPUTS)]


def _rel(got, ref) -> float:
    ref = np.asarray(ref, np.float64)
    return float(np.max(np.abs(np.asarray(got, np.float64) - ref)) / max(np.max(np.abs(ref)), 1e-30))


def test_files_hold_the_sparse_weights(models):
    """The encoder wrote what the tests are about: 4 sparse float weights, 2 behind DENSIFY."""
    sparse = tflite_gen.tensor_types(models["float_sparse"].read_bytes())
    assert sum(s for _, s in sparse.values()) == 4
    assert tflite_gen.op_names(models["float_sparse"].read_bytes()).count("DENSIFY") == 2
    int8 = tflite_gen.tensor_types(models["int8_sparse"].read_bytes())
    assert sorted(t for t, s in int8.values() if s) == [9, 9]
    assert "DENSIFY" not in tflite_gen.op_names(models["int8_sparse"].read_bytes())
    assert models["float_sparse"].stat().st_size < models["float_dense"].stat().st_size * 0.6


@pytest.mark.parametrize("kind", ["float", "int8"])
def test_interpreter_on_sparse_equals_dense_original(models, kind):
    """TFLite validates the encoding: the sparse file computes what the dense one does."""
    shape = (1, 12, 12, 3) if kind == "float" else (1, 64)
    for arrays in _inputs(shape, np.int8 if kind == "int8" else np.float32, seed=5):
        (dense,) = tflite_gen.interpreter_run(models[f"{kind}_dense"].read_bytes(), arrays)
        (sparse,) = tflite_gen.interpreter_run(models[f"{kind}_sparse"].read_bytes(), arrays)
        if kind == "int8":      # the sparse int8 kernel rounds differently (module docstring)
            (via,) = tflite_gen.interpreter_run(models["int8_sparse_densify"].read_bytes(), arrays)
            assert via.dtype == np.int8 and np.array_equal(via, dense)
            assert np.max(np.abs(sparse.astype(np.int32) - dense)) <= 1
        else:
            assert _rel(sparse, dense) <= 1e-6


def _compile_run(path: Path, target: str, tmp_path: Path, sets):
    compiled = compile_model(path, get_target(target), tmp_path / "out")
    elf = build(tmp_path / "out", get_target(target))
    outs = [run_model(elf, get_target(target), compiled.manifest["vlen"], arrays,
                      compiled.manifest["outputs"], tmp_path / f"io{k}") for k, arrays in enumerate(sets)]
    return {f'{layer["op"]}/{layer["dtype"]}' for layer in compiled.manifest["layers"]}, outs


@pytest.mark.parametrize("target", TARGETS)
def test_float_block_sparse_model_matches_interpreter(models, target, tmp_path):
    path = models["float_sparse"]
    sets = _inputs((1, 12, 12, 3), np.float32, seed=11)
    kernels, outs = _compile_run(path, target, tmp_path, sets)
    assert kernels == {"conv2d/float32", "dense/float32"}   # densified, float kernels
    for arrays, got in zip(sets, outs):
        (ref,) = tflite_gen.interpreter_run(path.read_bytes(), arrays)
        assert _rel(got[0], ref) <= RTOL, (target, _rel(got[0], ref))
        print(f"block-sparse float {target}: {_rel(got[0], ref):.2e} relative to the interpreter")


@pytest.mark.parametrize("target", TARGETS)
def test_int8_block_sparse_model_bit_exact(models, target, tmp_path):
    path = models["int8_sparse"]
    sets = _inputs((1, 64), np.int8, seed=12)
    kernels, outs = _compile_run(path, target, tmp_path, sets)
    assert "dense_i8/int8" in kernels
    for arrays, got in zip(sets, outs):
        (ref,) = tflite_gen.interpreter_run(models["int8_sparse_densify"].read_bytes(), arrays)
        assert got[0].dtype == np.int8 and np.array_equal(got[0], ref), (target, got[0], ref)
        (direct,) = tflite_gen.interpreter_run(path.read_bytes(), arrays)
        assert np.max(np.abs(got[0].astype(np.int32) - direct)) <= 1


def test_int8_1x4_blocks_read_like_tflite_densify(models):
    """The interpreter's FULLY_CONNECTED refuses int8 1x4 blocks; behind DENSIFY it runs them
    (equal to the dense original). hhbc reads the direct form into those same weights."""
    from hhbc.frontends.tflite import read_tflite
    from hhbc.frontends.tflite_rewrite import plain_weights

    arrays = _inputs((1, 64), np.int8, seed=13)[0]
    with pytest.raises(RuntimeError, match="Unsupported sparse fully-connected weight format"):
        tflite_gen.interpreter_run(models["int8_sparse_1x4"].read_bytes(), arrays)
    (dense,) = tflite_gen.interpreter_run(models["int8_dense"].read_bytes(), arrays)
    (via,) = tflite_gen.interpreter_run(models["int8_sparse_1x4_densify"].read_bytes(), arrays)
    assert np.array_equal(via, dense)
    weights = {}
    for name in ("int8_dense", "int8_sparse_1x4"):
        buf = models[name].read_bytes()
        plain = plain_weights(read_tflite(models[name], buf), buf, models[name])
        model = schema.ModelT.InitFromPackedBuf(bytearray(plain), 0)
        weights[name] = [bytes(np.asarray(model.buffers[model.subgraphs[0].tensors[i].buffer].data, np.uint8))
                         for i in _weights(plain, FULLY_CONNECTED)]
        assert not any(t.sparsity for t in model.subgraphs[0].tensors)
    assert weights["int8_sparse_1x4"] == weights["int8_dense"]


# ---------------------------------------------------------------- malformed encodings

def _broken(buf: bytes, how: str) -> tuple[bytes, str]:
    """The model with its first sparse FC weight damaged; (file, the tensor's name)."""
    model = schema.ModelT.InitFromPackedBuf(bytearray(buf), 0)
    t = model.subgraphs[0].tensors[_weights(buf, FULLY_CONNECTED)[0]]
    if how == "segments_out_of_range":
        t.sparsity.dimMetadata[1].arraySegments.values[-1] += 5
    else:                                   # one value missing from the buffer
        model.buffers[t.buffer].data = model.buffers[t.buffer].data[:-4]
    builder = flatbuffers.Builder(len(buf) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output()), t.name.decode()


@pytest.mark.parametrize("how,needle", [("segments_out_of_range", "segments out of range"),
                                        ("value_missing", "stored values for")])
def test_malformed_sparsity_is_a_one_line_error(models, how, needle, tmp_path):
    buf, tensor = _broken(models["float_sparse"].read_bytes(), how)
    path = tmp_path / f"{how}.tflite"
    path.write_bytes(buf)
    with pytest.raises(HhbcError) as info:
        compile_model(path, get_target("host"), tmp_path / "out")
    message = str(info.value)
    assert "\n" not in message and f"sparse tensor '{tensor}'" in message and needle in message, message
    assert_one_line_error(run_cli("compile", str(path), "-o", str(tmp_path / "cli")), tensor, needle)
