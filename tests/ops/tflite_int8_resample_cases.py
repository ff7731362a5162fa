"""Int8 TFLite cases of resampling ops (H1), in the format of tflite_int8_cases.py.

  * RESIZE_BILINEAR: TFLite's integer reference kernel (coordinates in 1/1024 steps) with
    align_corners, half-pixel centres and neither; up, down, non-integer ratios, one-row outputs.
  * TRANSPOSE_CONV: per-channel and per-tensor filters, with and without bias (the converter
    writes the bias as an optional fourth input), a fused ReLU / ReLU6 (TRANSPOSE_CONV version 4;
    TVM's importer drops it), strides 1 and 2, SAME and VALID, kernels smaller than the stride
    and odd SAME outputs.
  * DEPTHWISE_CONV_2D whose filter [1, KH, KW, C*M] is quantized along axis 3 (what the
    converter always writes): one input channel, depth multiplier 1 (one scale on axis 3, which
    TVM's importer refuses unless hhbc's rewrite sets it to 0) and 2 (two scales).
"""

from __future__ import annotations

from tflite_int8_cases import F32, Case, _conv, _tf, _then, _weights


def _resize(size, align_corners=False, half_pixel=False):
    def make(rng):
        tf = _tf()
        return lambda x: tf.compat.v1.image.resize_bilinear(x, size, align_corners=align_corners,
                                                            half_pixel_centers=half_pixel)
    return make


def _transpose_conv(kernel, cout, stride, padding, bias=True, act="none", out_hw=None):
    """conv2d_transpose [+ bias] [+ ReLU/ReLU6]; out_hw overrides the output size (an odd SAME
    output, which TFLite pads from the output size, not the input's)."""
    def make(rng):
        tf = _tf()

        def body(x):
            n, h, w, cin = x.shape
            if out_hw is not None:
                oh, ow = out_hw
            elif padding == "SAME":
                oh, ow = h * stride, w * stride
            else:
                oh, ow = (h - 1) * stride + kernel, (w - 1) * stride + kernel
            wt = _weights(rng, (kernel, kernel, cin, cout), kernel * kernel * cin).transpose(0, 1, 3, 2)
            y = tf.nn.conv2d_transpose(x, wt.copy(), [n, oh, ow, cout], stride, padding)
            if bias:
                y = tf.nn.bias_add(y, (rng.standard_normal(cout) * 0.5).astype(F32))
            if act == "relu":
                y = tf.nn.relu(y)
            elif act == "relu6":
                y = tf.nn.relu6(y)
            return y
        return body
    return make


def _depthwise_one_channel(multiplier, stride, padding):
    def make(rng):
        tf = _tf()

        def body(x):
            w = _weights(rng, (3, 3, 1, multiplier), 9)
            y = tf.nn.depthwise_conv2d(x, w, strides=[1, stride, stride, 1], padding=padding)
            return tf.nn.bias_add(y, (rng.standard_normal(multiplier) * 0.5).astype(F32))
        return body
    return make


RB = frozenset({"RESIZE_BILINEAR"})
TC = frozenset({"TRANSPOSE_CONV"})
DW = frozenset({"DEPTHWISE_CONV_2D"})


def _resize_cases() -> list[Case]:
    s = (1, 4, 5, 3)
    return [
        Case("resize-bilinear-up", _resize([7, 9]), (s,), RB, qemu=True),
        Case("resize-bilinear-up-x2", _resize([8, 10]), (s,), RB),
        Case("resize-bilinear-align-corners", _resize([9, 11], align_corners=True), (s,), RB, qemu=True),
        Case("resize-bilinear-half-pixel", _resize([8, 7], half_pixel=True), (s,), RB, qemu=True),
        Case("resize-bilinear-half-pixel-x3", _resize([12, 15], half_pixel=True), (s,), RB),
        Case("resize-bilinear-down", _resize([3, 4]), ((1, 7, 9, 2),), RB),
        Case("resize-bilinear-down-align-corners", _resize([4, 3], align_corners=True), ((1, 7, 9, 2),), RB),
        Case("resize-bilinear-down-half-pixel", _resize([3, 2], half_pixel=True), ((1, 7, 5, 3),), RB),
        Case("resize-bilinear-ratio-5-3", _resize([5, 7]), ((1, 3, 4, 4),), RB),
        Case("resize-bilinear-ratio-5-3-half-pixel", _resize([5, 7], half_pixel=True), ((1, 3, 4, 4),), RB),
        Case("resize-bilinear-ratio-align-corners", _resize([6, 5], align_corners=True), ((1, 4, 3, 5),), RB),
        Case("resize-bilinear-one-row-align-corners", _resize([1, 6], align_corners=True), ((1, 3, 4, 2),), RB),
        Case("resize-bilinear-17ch-half-pixel", _resize([13, 11], half_pixel=True), ((1, 6, 6, 17),), RB),
        # after a conv with ReLU the zero point is -128
        Case("conv-relu-resize-bilinear", _then(_conv((1, 1), 6, 1, "valid", act="relu"),
                                                lambda tf, y: tf.compat.v1.image.resize_bilinear(
                                                    y, [7, 6], half_pixel_centers=True)),
             ((1, 4, 3, 3),), frozenset({"CONV_2D", "RESIZE_BILINEAR"}), qemu=True),
    ]


def _transpose_conv_cases() -> list[Case]:
    rows = [   # (id, kernel, cout, stride, padding, bias, act, per-channel, input, out_hw, qemu)
        ("3x3-s2-same", 3, 5, 2, "SAME", True, "none", True, (1, 4, 5, 3), None, True),
        ("3x3-s2-same-nobias", 3, 5, 2, "SAME", False, "none", True, (1, 4, 5, 3), None, True),
        ("3x3-s1-same-relu", 3, 7, 1, "SAME", True, "relu", True, (1, 5, 4, 4), None, True),
        ("3x3-s1-valid-nobias", 3, 4, 1, "VALID", False, "none", True, (1, 4, 4, 2), None, False),
        ("2x2-s2-valid", 2, 8, 2, "VALID", True, "none", True, (1, 3, 4, 5), None, False),
        ("4x4-s2-same-relu6", 4, 6, 2, "SAME", True, "relu6", True, (1, 3, 3, 4), None, False),
        ("3x3-s2-valid-16ch", 3, 16, 2, "VALID", True, "none", True, (1, 3, 3, 6), None, False),
        ("3x3-s2-same-pt", 3, 5, 2, "SAME", True, "none", False, (1, 4, 5, 3), None, False),
        ("3x3-s2-valid-nobias-pt", 3, 3, 2, "VALID", False, "relu", False, (1, 4, 3, 7), None, False),
        ("1x1-s2-same", 1, 4, 2, "SAME", True, "none", True, (1, 3, 4, 3), None, False),
        ("3x3-s2-same-odd-out", 3, 5, 2, "SAME", True, "none", True, (1, 4, 5, 3), (7, 9), True),
        ("5x5-s3-same-1ch", 5, 1, 3, "SAME", True, "none", True, (1, 3, 2, 2), None, False),
    ]
    return [Case(f"transpose-conv-{cid}", _transpose_conv(k, cout, s, pad, bias, act, out_hw), (shape,), TC,
                 per_channel=pc, qemu=qemu)
            for cid, k, cout, s, pad, bias, act, pc, shape, out_hw, qemu in rows]


def filter_on_axis_3(data: bytes) -> bytes:
    """Every DEPTHWISE_CONV_2D filter's quantized_dimension set to 3. A one-channel filter has
    one scale either way; the converter writes axis 3 when it quantizes per channel and 0 when
    per tensor (test_tflite_int8_resample.py checks both facts). The cases with one scale are
    converted per tensor (test_tflite_int8_ops checks that one scale means per tensor) and
    rewritten to the per-channel converter's axis."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    sg = model.subgraphs[0]
    for op in sg.operators:
        code = model.operatorCodes[op.opcodeIndex]
        if max(code.builtinCode, code.deprecatedBuiltinCode) == schema.BuiltinOperator.DEPTHWISE_CONV_2D:
            sg.tensors[op.inputs[1]].quantization.quantizedDimension = 3
    builder = flatbuffers.Builder(len(data) * 2 + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _depthwise_axis3_cases() -> list[Case]:
    return [
        Case("dwconv-axis3-c1-m1", _depthwise_one_channel(1, 1, "SAME"), ((1, 6, 7, 1),), DW, qemu=True,
             per_channel=False, rewrite=filter_on_axis_3),
        Case("dwconv-axis3-c1-m1-s2-valid", _depthwise_one_channel(1, 2, "VALID"), ((1, 7, 7, 1),), DW,
             per_channel=False, rewrite=filter_on_axis_3),
        Case("dwconv-axis3-c1-m2", _depthwise_one_channel(2, 1, "SAME"), ((1, 6, 5, 1),), DW, qemu=True),
        Case("dwconv-axis3-c1-m2-s2", _depthwise_one_channel(2, 2, "SAME"), ((1, 7, 6, 1),), DW),
    ]


CASES: list[Case] = _resize_cases() + _transpose_conv_cases() + _depthwise_axis3_cases()
