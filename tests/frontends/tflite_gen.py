"""Small TFLite models built with TensorFlow in the tests: the variants the TFLite converter
writes (float16 weights, sparse weights, dynamic-range "hybrid" int8 weights, int8 with
float IO), and float twins of hybrid models (their int8 weights dequantized to float32) as an
independent reference for hhbc's weight-only int8 kernels."""

from __future__ import annotations

import numpy as np

SEED = 7


def _tf():
    import tensorflow as tf
    tf.keras.utils.set_random_seed(SEED)
    return tf


def _convert(model, configure=None) -> bytes:
    tf = _tf()
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if configure is not None:
        configure(converter)
    return bytes(converter.convert())


def conv_fc_model(input_shape=(12, 12, 3), filters=8, units=10, depthwise=True, width=1):
    """conv (ReLU6) -> [depthwise conv (ReLU)] -> 1x1 conv -> dense -> dense (bias, ReLU) -> dense."""
    tf = _tf()
    layers = tf.keras.layers
    x = inp = tf.keras.Input(input_shape, batch_size=1)
    x = layers.Conv2D(filters * width, 3, strides=2, padding="same", activation="relu6")(x)
    if depthwise:
        x = layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2, activation="relu")(x)
    x = layers.Conv2D(32 * width, 1, activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(32 * width, activation="relu")(x)
    out = layers.Dense(units)(x)
    model = tf.keras.Model(inp, out)
    rng = np.random.default_rng(SEED)
    model.set_weights([rng.normal(0, 0.3, w.shape).astype(np.float32) for w in model.get_weights()])
    return model


def float16_weights() -> bytes:
    """Weights stored as float16 behind DEQUANTIZE ops."""
    def configure(c):
        tf = _tf()
        c.optimizations = [tf.lite.Optimize.DEFAULT]
        c.target_spec.supported_types = [tf.float16]
    return _convert(conv_fc_model(), configure)


def sparse_weights(zero_fraction: float = 0.85) -> bytes:
    """Dense weights that are mostly zeros, converted with EXPERIMENTAL_SPARSITY."""
    def configure(c):
        c.optimizations = [_tf().lite.Optimize.EXPERIMENTAL_SPARSITY]
    return _convert(_sparse_dense_model(zero_fraction, units=16), configure)


def hybrid_weights() -> bytes:
    """Dynamic-range quantization: int8 weights (tensors of >= 1024 elements), float activations."""
    def configure(c):
        tf = _tf()
        c.optimizations = [tf.lite.Optimize.DEFAULT]
    return _convert(conv_fc_model(input_shape=(8, 8, 8), filters=32, depthwise=True, width=2), configure)


def int8_float_io() -> bytes:
    """Fully int8 inside, float32 in and out (QUANTIZE first, DEQUANTIZE last)."""
    model = conv_fc_model(depthwise=False)
    rng = np.random.default_rng(SEED)

    def dataset():
        for _ in range(32):
            yield [rng.uniform(-1, 1, (1, 12, 12, 3)).astype(np.float32)]

    def configure(c):
        tf = _tf()
        c.optimizations = [tf.lite.Optimize.DEFAULT]
        c.representative_dataset = dataset
        c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    return _convert(model, configure)


def _schema():
    from ai_edge_litert import schema_py_generated as schema
    return schema


def tensor_types(buf: bytes) -> dict[str, tuple[int, bool]]:
    """name -> (TFLite type, has sparsity) for every tensor, to check what the converter wrote."""
    schema = _schema()
    model = schema.ModelT.InitFromPackedBuf(bytearray(buf), 0)
    return {t.name.decode() if isinstance(t.name, bytes) else t.name: (t.type, t.sparsity is not None)
            for t in model.subgraphs[0].tensors}


def op_names(buf: bytes) -> list[str]:
    schema = _schema()
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    model = schema.ModelT.InitFromPackedBuf(bytearray(buf), 0)
    return [names[max(model.operatorCodes[op.opcodeIndex].builtinCode,
                       model.operatorCodes[op.opcodeIndex].deprecatedBuiltinCode)]
            for op in model.subgraphs[0].operators]


def dequantized_twin(buf: bytes) -> bytes:
    """The hybrid model with every int8 weight replaced by float32 scale * q (TFLite's own
    dequantization): a float model the interpreter runs with its float kernels."""
    import flatbuffers

    schema = _schema()
    model = schema.ModelT.InitFromPackedBuf(bytearray(buf), 0)
    int8 = 9
    for t in model.subgraphs[0].tensors:
        data = model.buffers[t.buffer].data if t.buffer < len(model.buffers) else None
        if t.type != int8 or data is None or len(data) == 0 or t.quantization is None:
            continue
        q = np.frombuffer(np.asarray(data, np.uint8).tobytes(), np.int8).reshape(t.shape).astype(np.float32)
        scale = np.asarray(t.quantization.scale, np.float32)
        zp = np.asarray(t.quantization.zeroPoint, np.float32)
        if scale.size > 1:
            shape = [1] * q.ndim
            shape[t.quantization.quantizedDimension] = scale.size
            scale, zp = scale.reshape(shape), zp.reshape(shape)
        real = ((q - zp) * scale).astype(np.float32)
        model.buffers[t.buffer].data = np.frombuffer(real.tobytes(), np.uint8)
        t.type = 0
        t.quantization = None
    builder = flatbuffers.Builder(len(buf) * 4 + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def interpreter_run(buf: bytes, arrays: list[np.ndarray]) -> list[np.ndarray]:
    """The TFLite interpreter's outputs (reference kernels), in the model's output order."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interp = Interpreter(model_content=buf, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    for d, a in zip(interp.get_input_details(), arrays):
        interp.set_tensor(d["index"], np.asarray(a, d["dtype"]).reshape(d["shape"]))
    interp.invoke()
    return [np.array(interp.get_tensor(d["index"])) for d in interp.get_output_details()]


def _sparse_dense_model(zero_fraction: float = 0.85, units: int = 32):
    """dense (ReLU) -> dense, weights mostly zeros (what EXPERIMENTAL_SPARSITY stores sparse)."""
    tf = _tf()
    layers = tf.keras.layers
    inp = tf.keras.Input((64,), batch_size=1)
    x = layers.Dense(48, activation="relu")(inp)
    out = layers.Dense(units)(x)
    model = tf.keras.Model(inp, out)
    rng = np.random.default_rng(SEED)
    weights = []
    for w in model.get_weights():
        v = rng.normal(0, 0.3, w.shape).astype(np.float32)
        if w.ndim == 2:
            v[rng.random(w.shape) < zero_fraction] = 0.0
        weights.append(v)
    model.set_weights(weights)
    return model


def sparse_float16_weights() -> bytes:
    """Sparse weights stored as float16: DENSIFY of a sparse float16 constant -> DEQUANTIZE."""
    def configure(c):
        tf = _tf()
        c.optimizations = [tf.lite.Optimize.EXPERIMENTAL_SPARSITY, tf.lite.Optimize.DEFAULT]
        c.target_spec.supported_types = [tf.float16]
    return _convert(_sparse_dense_model(), configure)


def sparse_hybrid_weights() -> bytes:
    """Sparse int8 weights of dynamic-range quantization (DENSIFY of a sparse int8 constant)."""
    def configure(c):
        tf = _tf()
        c.optimizations = [tf.lite.Optimize.EXPERIMENTAL_SPARSITY, tf.lite.Optimize.DEFAULT]
    return _convert(_sparse_dense_model(), configure)


def int8_constant_dequantize() -> bytes:
    """The float conv_fc_model with its first conv's weights stored int8 (per output channel)
    behind a DEQUANTIZE op: the form some converters write for weights of float ops."""
    import flatbuffers

    schema = _schema()
    buf = _convert(conv_fc_model(depthwise=False))
    model = schema.ModelT.InitFromPackedBuf(bytearray(buf), 0)
    sg = model.subgraphs[0]
    conv_code = schema.BuiltinOperator.CONV_2D
    conv = next(op for op in sg.operators
                if max(model.operatorCodes[op.opcodeIndex].builtinCode,
                       model.operatorCodes[op.opcodeIndex].deprecatedBuiltinCode) == conv_code)
    w = sg.tensors[conv.inputs[1]]
    values = np.frombuffer(np.asarray(model.buffers[w.buffer].data, np.uint8).tobytes(), np.float32)
    values = values.reshape([int(d) for d in w.shape])
    scale = np.abs(values).reshape(values.shape[0], -1).max(axis=1) / 127.0
    q = np.clip(np.round(values / scale.reshape(-1, 1, 1, 1)), -127, 127).astype(np.int8)
    qbuf = schema.BufferT()
    qbuf.data = np.frombuffer(q.tobytes(), np.uint8)
    model.buffers.append(qbuf)
    qt = schema.TensorT()
    qt.shape, qt.type, qt.buffer, qt.name = list(w.shape), schema.TensorType.INT8, len(model.buffers) - 1, b"w_int8"
    qt.quantization = schema.QuantizationParametersT()
    qt.quantization.scale = [float(s) for s in scale.astype(np.float32)]
    qt.quantization.zeroPoint = [0] * scale.size
    qt.quantization.quantizedDimension = 0
    sg.tensors.append(qt)
    empty = schema.BufferT()
    model.buffers.append(empty)
    w.buffer = len(model.buffers) - 1   # now the DEQUANTIZE's output, an activation
    code = schema.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.DEQUANTIZE
    code.version = 1
    model.operatorCodes.append(code)
    deq = schema.OperatorT()
    deq.opcodeIndex, deq.inputs, deq.outputs = len(model.operatorCodes) - 1, [len(sg.tensors) - 1], [conv.inputs[1]]
    sg.operators.insert(0, deq)
    builder = flatbuffers.Builder(len(buf) * 2 + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
