"""TensorFlow frontend: -in/-is/-on cuts, folding at import, layer names, SavedModel."""

from __future__ import annotations

import os
from collections import Counter

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
tf = pytest.importorskip("tensorflow")
tf1 = tf.compat.v1

from hhbc.errors import HhbcError  # noqa: E402
from hhbc.frontends import ImportOptions, load_model  # noqa: E402
from hhbc.frontends.tensorflow import split_tensor  # noqa: E402
from hhbc.layers import layer_of  # noqa: E402
from hhbc.optimize import op_counts  # noqa: E402
from hhbc.runner import run_and_compare  # noqa: E402
from hhbc.targets import get_target  # noqa: E402

HOST = get_target("host")
rng = np.random.default_rng(7)


def _w(*shape, positive=False):
    a = rng.standard_normal(shape).astype(np.float32)
    return np.abs(a) + np.float32(0.5) if positive else a


def _save(graph: tf.Graph, path):
    path.write_bytes(graph.as_graph_def().SerializeToString())
    return path


def _kws_like(path, wav_input=True):
    """The ARM KWS layout: WAV bytes -> DecodeWav -> AudioSpectrogram -> Mfcc in-graph,
    then a small DS-CNN-style network: conv + bias + batch norm + relu, depthwise, pool, fc."""
    g = tf.Graph()
    with g.as_default():
        wav = tf1.placeholder(tf.string, [], name="wav_data")
        dec = tf.audio.decode_wav(wav, desired_channels=1, desired_samples=16000, name="decoded_sample_data")
        spec = tf.raw_ops.AudioSpectrogram(input=dec.audio, window_size=640, stride=320,
                                           magnitude_squared=True, name="AudioSpectrogram")
        mfcc = tf.raw_ops.Mfcc(spectrogram=spec, sample_rate=dec.sample_rate, dct_coefficient_count=10,
                               name="Mfcc")
        x = tf.reshape(mfcc, [-1, 49, 10, 1], name="Reshape")
        x = tf.nn.conv2d(x, _w(10, 4, 1, 8), [1, 2, 2, 1], "SAME", name="conv_1/Conv2D")
        x = tf.nn.bias_add(x, _w(8), name="conv_1/BiasAdd")
        x = tf1.nn.fused_batch_norm(x, _w(8), _w(8), _w(8), _w(8, positive=True), epsilon=1e-3,
                                    is_training=False, name="conv_1/batch_norm")[0]
        x = tf.nn.relu(x, name="conv_1/Relu")
        x = tf.nn.depthwise_conv2d(x, _w(3, 3, 8, 1), [1, 1, 1, 1], "SAME", name="dw/depthwise")
        x = tf.nn.relu(x, name="dw/Relu")
        x = tf.nn.avg_pool2d(x, [25, 5], 2, "VALID", name="avg_pool")
        x = tf.squeeze(x, [1, 2], name="squeeze")
        x = tf.nn.bias_add(tf.matmul(x, _w(8, 12), name="fc/MatMul"), _w(12), name="fc/BiasAdd")
        tf.nn.softmax(x, name="labels_softmax")
    return _save(g, path)


# ---------------------------------------------------------------- -in / -is / -on
KWS_CUT = ImportOptions(("Mfcc:0",), ((1, 49, 10),), ("labels_softmax:0",))


def test_cut_at_mfcc_runs_and_matches(tmp_path):
    """Everything upstream of -in (DecodeWav, AudioSpectrogram, Mfcc) is never looked at."""
    path = _kws_like(tmp_path / "kws.pb")
    model = load_model(path, KWS_CUT)
    assert [i.name for i in model.inputs] == ["Mfcc:0"] and model.inputs[0].shape == (1, 49, 10)
    assert [o.name for o in model.outputs] == ["labels_softmax:0"] and model.outputs[0].shape == (1, 12)
    assert not {"DecodeWav", "AudioSpectrogram", "Mfcc", "Placeholder"} & set(model.source_ops)
    x = (np.random.default_rng(0).standard_normal((1, 49, 10)) * 10).astype(np.float32)
    result = run_and_compare(path, HOST, inputs=[x], options=KWS_CUT)
    assert result.ok, [c.line() for c in result.comparisons]


def test_node_names_work_like_tensor_names(tmp_path):
    path = _kws_like(tmp_path / "kws.pb")
    model = load_model(path, ImportOptions(("Mfcc",), ((1, 49, 10),), ("labels_softmax",)))
    assert [i.name for i in model.inputs] == ["Mfcc"] and [o.name for o in model.outputs] == ["labels_softmax"]
    assert split_tensor("a/b:1") == ("a/b", 1) and split_tensor("a/b") == ("a/b", 0)


def test_without_in_the_audio_ops_are_unsupported(tmp_path):
    path = _kws_like(tmp_path / "kws.pb")
    with pytest.raises(HhbcError) as err:
        load_model(path)
    message = str(err.value)
    for needle in ("DecodeWav", "AudioSpectrogram", "Mfcc", "'decoded_sample_data'", "-in"):
        assert needle in message, message
    assert "\n" not in message


def test_cut_tensor_without_is_asks_for_it(tmp_path):
    path = _kws_like(tmp_path / "kws.pb")
    with pytest.raises(HhbcError, match=r"'Mfcc:0'.*-is"):
        load_model(path, ImportOptions(input_names=("Mfcc:0",), output_names=("labels_softmax:0",)))


def test_wrong_is_for_a_reshape_is_one_clear_error(tmp_path):
    path = _kws_like(tmp_path / "kws.pb")
    with pytest.raises(HhbcError, match=r"Reshape node 'Reshape': cannot reshape \[1, 25, 10\]"):
        load_model(path, ImportOptions(("Mfcc:0",), ((1, 25, 10),), ("labels_softmax:0",)))


def test_cut_output_inside_the_graph_and_several_outputs(tmp_path):
    path = _kws_like(tmp_path / "kws.pb")
    options = ImportOptions(("Mfcc:0",), ((1, 49, 10),), ("conv_1/Relu:0", "labels_softmax:0"))
    model = load_model(path, options)
    assert [o.shape for o in model.outputs] == [(1, 25, 5, 8), (1, 12)]
    result = run_and_compare(path, HOST, options=options)
    assert result.ok, [c.line() for c in result.comparisons]


def test_default_io_are_placeholders_and_sinks(tmp_path):
    g = tf.Graph()
    with g.as_default():
        a = tf1.placeholder(tf.float32, [2, 3], name="a")
        b = tf1.placeholder(tf.float32, [2, 3], name="b")
        tf.identity(a * b, name="prod")
        tf.nn.relu(a, name="act")
        tf1.placeholder(tf.float32, [4], name="unused")   # feeds nothing: not an input
    model = load_model(_save(g, tmp_path / "m.pb"))
    assert [i.name for i in model.inputs] == ["a", "b"]
    assert sorted(o.name for o in model.outputs) == ["act", "prod"]


def test_in_that_feeds_nothing_and_stray_placeholder(tmp_path):
    g = tf.Graph()
    with g.as_default():
        a = tf1.placeholder(tf.float32, [2, 3], name="a")
        b = tf1.placeholder(tf.float32, [2, 3], name="b")
        tf.add(a, b, name="y")
        tf.nn.relu(b, name="z")
    path = _save(g, tmp_path / "m.pb")
    with pytest.raises(HhbcError, match="placeholder.*'b'.*-in"):
        load_model(path, ImportOptions(input_names=("a",), output_names=("y",)))
    with pytest.raises(HhbcError, match="-in 'a' does not feed the outputs"):
        load_model(path, ImportOptions(input_names=("a", "b"), output_names=("z",)))


def test_dynamic_dims(tmp_path, capsys):
    g = tf.Graph()
    with g.as_default():
        x = tf1.placeholder(tf.float32, [None, None, 3], name="x")
        tf.nn.relu(x, name="y")
    path = _save(g, tmp_path / "m.pb")
    with pytest.raises(HhbcError, match=r"'x' has dynamic dim 1.*-is"):
        load_model(path)
    model = load_model(path, ImportOptions(input_shapes=((2, 5, 3),)))
    assert model.inputs[0].shape == (2, 5, 3) and model.outputs[0].shape == (2, 5, 3)
    with pytest.raises(HhbcError, match="dim 2 is fixed to 3"):
        load_model(path, ImportOptions(input_shapes=((1, 5, 4),)))


def test_symbolic_batch_becomes_one_and_shape_ops_fold(tmp_path, capsys):
    g = tf.Graph()
    with g.as_default():
        x = tf1.placeholder(tf.float32, [None, 4, 4, 3], name="x")
        tf.matmul(tf.reshape(x, [tf.shape(x)[0], -1]), _w(48, 5), name="y")
    model = load_model(_save(g, tmp_path / "m.pb"))
    assert "symbolic batch" in capsys.readouterr().err
    assert model.inputs[0].shape == (1, 4, 4, 3) and model.outputs[0].shape == (1, 5)
    assert set(op_counts(model.mod)) == {"reshape", "matmul"}
    assert {"Shape", "StridedSlice", "Pack"} <= set(model.source_ops)


def test_non_float_input_rejected(tmp_path):
    g = tf.Graph()
    with g.as_default():
        x = tf1.placeholder(tf.int32, [4], name="x")
        tf.identity(x * 2, name="y")
    with pytest.raises(HhbcError, match="input 'x' has type DT_INT32"):
        load_model(_save(g, tmp_path / "m.pb"))


# ---------------------------------------------------------------- folding and names
def test_bias_and_batch_norm_fold_into_conv_and_dense(tmp_path):
    model = load_model(_kws_like(tmp_path / "kws.pb"), KWS_CUT)
    counts = op_counts(model.mod)
    assert counts["nn.conv2d"] == 2 and counts["matmul"] == 1
    assert counts["add"] == 2            # the conv's bias (+ batch norm), the dense's bias
    assert "multiply" not in counts and "nn.batch_norm" not in counts


@pytest.mark.parametrize("through_identities", [False, True])
def test_a_conv_with_two_readers_is_emitted_once(tmp_path, through_identities):
    g = tf.Graph()
    with g.as_default():
        x = tf1.placeholder(tf.float32, [1, 5, 5, 2], name="x")
        c = tf.nn.conv2d(x, _w(3, 3, 2, 3), 1, "SAME", name="conv")
        a, b = (tf.identity(c, "a"), tf.identity(c, "b")) if through_identities else (c, c)
        tf.multiply(a, _w(3), name="scaled")
        tf.nn.relu(b, name="act")
    counts = op_counts(load_model(_save(g, tmp_path / "m.pb")).mod)
    assert counts["nn.conv2d"] == 1 and counts["multiply"] == 1


def test_layer_names_reach_relax_and_model_c(tmp_path):
    from hhbc.compiler import compile_model

    path = _kws_like(tmp_path / "kws.pb")
    model = load_model(path, KWS_CUT)
    layers = {layer_of(b.value) for block in model.mod["main"].body.blocks for b in block.bindings}
    for name in ("conv_1/Conv2D", "conv_1/BiasAdd + conv_1/batch_norm", "dw/depthwise", "avg_pool",
                 "fc/MatMul", "fc/BiasAdd", "labels_softmax"):
        assert name in layers, sorted(map(str, layers))
    compile_model(path, HOST, tmp_path / "out", options=KWS_CUT)
    text = (tmp_path / "out" / "model.c").read_text()
    assert "conv_1/Conv2D + conv_1/BiasAdd + conv_1/batch_norm + conv_1/Relu" in text
    assert "dw/depthwise + dw/Relu" in text


def test_batch_norm_not_after_a_conv_is_mul_add(tmp_path):
    g = tf.Graph()
    with g.as_default():
        x = tf1.placeholder(tf.float32, [1, 3, 3, 2], name="x")
        tf1.nn.fused_batch_norm(x, _w(2), _w(2), _w(2), _w(2, positive=True), is_training=False, name="bn")
    counts = op_counts(load_model(_save(g, tmp_path / "m.pb"), ImportOptions(output_names=("bn:0",))).mod)
    assert counts == Counter({"multiply": 1, "add": 1})


# ---------------------------------------------------------------- SavedModel
class _Tiny(tf.Module):
    def __init__(self):
        super().__init__()
        self.kernel = tf.Variable(_w(3, 3, 1, 4))
        self.bias = tf.Variable(_w(4))
        self.dense = tf.Variable(_w(4, 3))

    @tf.function(input_signature=[tf.TensorSpec([None, 6, 6, 1], tf.float32)])
    def __call__(self, x):
        y = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, self.kernel, 1, "SAME"), self.bias))
        return {"scores": tf.nn.softmax(tf.matmul(tf.reduce_mean(y, [1, 2]), self.dense))}


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "tiny"
    module = _Tiny()
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.__call__})
    return path


def test_saved_model_io_names_come_from_the_signature(saved_model):
    model = load_model(saved_model)
    assert [(i.name, i.shape) for i in model.inputs] == [("x", (1, 6, 6, 1))]
    assert [(o.name, o.shape) for o in model.outputs] == [("scores", (1, 3))]
    assert op_counts(model.mod)["nn.conv2d"] == 1


def test_saved_model_matches_tensorflow(saved_model):
    result = run_and_compare(saved_model, HOST)
    assert result.ok, [c.line() for c in result.comparisons]
    # and TensorFlow's own SavedModel loader agrees with the frozen reference
    loaded = tf.saved_model.load(str(saved_model))
    direct = loaded.signatures["serving_default"](x=tf.constant(result.inputs[0]))["scores"].numpy()
    np.testing.assert_allclose(result.references[0], direct, rtol=1e-5, atol=1e-6)


def test_saved_model_missing_signature(saved_model):
    import hhbc.frontends.tensorflow as tfe

    with pytest.raises(HhbcError, match="no signature 'nope'.*serving_default"):
        tfe._freeze_saved_model(saved_model, "nope")


def _one_op(tmp_path, build, shape=(1, 6, 6, 4)):
    g = tf.Graph()
    with g.as_default():
        y = build(tf1.placeholder(tf.float32, list(shape), name="x"))
    return _save(g, tmp_path / "m.pb"), y.name


@pytest.mark.parametrize("build, message", [
    (lambda x: tf.space_to_batch_nd(x, [2, 2], [[0, 0], [0, 0]]) * 2.0,
     r"Mul node 'mul': reads the SpaceToBatchND 'SpaceToBatchND'; hhbc supports it only before a convolution"),
    (lambda x: tf.batch_to_space(tf.nn.conv2d(x, _w(1, 1, 4, 4), 1, "VALID"), [1, 1], [[0, 0], [0, 0]]),
     r"BatchToSpaceND node 'BatchToSpaceND': hhbc supports BatchToSpaceND only after SpaceToBatchND"),
    (lambda x: tf.nn.conv2d(tf.space_to_batch_nd(x, [2, 2], [[0, 0], [0, 0]]), _w(3, 3, 4, 4), 1, "SAME"),
     r"Conv2D node 'Conv2D': a convolution after SpaceToBatchND must have .*VALID padding"),
    (lambda x: tf.pad(x, [[0, 0], [6, 1], [1, 1], [0, 0]], mode="REFLECT"),
     r"MirrorPad node 'MirrorPad': REFLECT paddings .* too wide for the input \[1, 6, 6, 4\]"),
    (lambda x: x[:, 3:3],
     r"StridedSlice node 'strided_slice': the slice 3:3:1 of axis 1 \(6\) is empty"),
])
def test_unsupported_forms_are_one_line_errors(tmp_path, build, message):
    path, out = _one_op(tmp_path, build)
    with pytest.raises(HhbcError, match=message) as err:
        load_model(path, ImportOptions(output_names=(out,)))
    assert "\n" not in str(err.value)


def test_dilated_conv_sandwich_becomes_one_dilated_conv(tmp_path):
    path, out = _one_op(tmp_path, lambda x: tf1.nn.atrous_conv2d(x, _w(3, 3, 4, 5), 2, "SAME"), (1, 9, 9, 4))
    model = load_model(path, ImportOptions(output_names=(out,)))
    ops = op_counts(model.mod)
    assert ops["nn.conv2d"] == 1 and not {"strided_slice", "nn.pad", "reshape"} & set(ops), ops


def test_keras_prelu_pattern_is_one_prelu(tmp_path):
    alpha = np.abs(_w(1, 1, 4))
    path, out = _one_op(tmp_path, lambda x: tf.nn.relu(x) + (-alpha) * tf.nn.relu(-x))
    mod = load_model(path, ImportOptions(output_names=(out,))).mod
    from hhbc.optimize import optimize
    assert set(op_counts(optimize(mod))) == {"nn.prelu"}, op_counts(optimize(mod))
