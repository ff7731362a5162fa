"""The part of Caffe's protobuf schema hhbc reads, declared in Python.

Field names and numbers are those of BVLC Caffe's caffe.proto (facts of the
format: text .prototxt files use the names, binary .caffemodel files the
numbers), plus Permute from the SSD fork (field 202, which OpenCV reads too).
Only what the importer uses is declared; text parsing skips unknown fields
(fillers, lr_mult, engines, ...) and binary parsing keeps them as unknown.

Layer parameters are always read from the .prototxt; the .caffemodel only
supplies blobs (matched to layers by name).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from hhbc.frontends.protoschema import build_messages

_R, _P = "repeated", {"packed": True}

MESSAGES: dict[str, list[tuple]] = {
    "BlobShape": [("dim", 1, "int64", _R, _P)],
    "BlobProto": [
        ("num", 1, "int32"), ("channels", 2, "int32"), ("height", 3, "int32"), ("width", 4, "int32"),
        ("data", 5, "float", _R, _P), ("diff", 6, "float", _R, _P), ("shape", 7, "BlobShape"),
        ("double_data", 8, "double", _R, _P), ("double_diff", 9, "double", _R, _P),
    ],
    "NetStateRule": [("phase", 1, "Phase"), ("min_level", 2, "int32"), ("max_level", 3, "int32"),
                     ("stage", 4, "string", _R), ("not_stage", 5, "string", _R)],
    "NetParameter": [
        ("name", 1, "string"), ("layers", 2, "V1LayerParameter", _R), ("input", 3, "string", _R),
        ("input_dim", 4, "int32", _R), ("input_shape", 8, "BlobShape", _R),
        ("layer", 100, "LayerParameter", _R),
    ],
    "LayerParameter": [
        ("name", 1, "string"), ("type", 2, "string"), ("bottom", 3, "string", _R), ("top", 4, "string", _R),
        ("blobs", 7, "BlobProto", _R), ("include", 8, "NetStateRule", _R), ("exclude", 9, "NetStateRule", _R),
        ("phase", 10, "Phase"),
        ("concat_param", 104, "ConcatParameter"), ("convolution_param", 106, "ConvolutionParameter"),
        ("dropout_param", 108, "DropoutParameter"), ("eltwise_param", 110, "EltwiseParameter"),
        ("inner_product_param", 117, "InnerProductParameter"), ("lrn_param", 118, "LRNParameter"),
        ("pooling_param", 121, "PoolingParameter"), ("power_param", 122, "PowerParameter"),
        ("relu_param", 123, "ReLUParameter"), ("softmax_param", 125, "SoftmaxParameter"),
        ("slice_param", 126, "SliceParameter"), ("prelu_param", 131, "PReLUParameter"),
        ("reshape_param", 133, "ReshapeParameter"), ("flatten_param", 135, "FlattenParameter"),
        ("batch_norm_param", 139, "BatchNormParameter"), ("scale_param", 142, "ScaleParameter"),
        ("input_param", 143, "InputParameter"), ("crop_param", 144, "CropParameter"),
        ("permute_param", 202, "PermuteParameter"),
        ("argmax_param", 103, "ArgMaxParameter"), ("exp_param", 111, "ExpParameter"),
        ("log_param", 134, "LogParameter"), ("reduction_param", 136, "ReductionParameter"),
        ("tile_param", 138, "TileParameter"), ("elu_param", 140, "ELUParameter"), ("bias_param", 141, "BiasParameter"),
        ("swish_param", 147, "SwishParameter"), ("clip_param", 148, "ClipParameter"),
        ("threshold_param", 128, "ThresholdParameter"),
    ],
    # The deprecated V1 layer (`layers { type: CONVOLUTION ... }`).
    "V1LayerParameter": [
        ("bottom", 2, "string", _R), ("top", 3, "string", _R), ("name", 4, "string"),
        ("type", 5, "V1LayerParameter.LayerType"), ("blobs", 6, "BlobProto", _R),
        ("concat_param", 9, "ConcatParameter"), ("convolution_param", 10, "ConvolutionParameter"),
        ("dropout_param", 12, "DropoutParameter"), ("inner_product_param", 17, "InnerProductParameter"),
        ("lrn_param", 18, "LRNParameter"), ("pooling_param", 19, "PoolingParameter"),
        ("power_param", 21, "PowerParameter"), ("eltwise_param", 24, "EltwiseParameter"),
        ("relu_param", 30, "ReLUParameter"), ("slice_param", 31, "SliceParameter"),
        ("include", 32, "NetStateRule", _R), ("exclude", 33, "NetStateRule", _R),
        ("softmax_param", 39, "SoftmaxParameter"),
    ],
    "InputParameter": [("shape", 1, "BlobShape", _R)],
    "ConvolutionParameter": [
        ("num_output", 1, "uint32"), ("bias_term", 2, "bool", "optional", {"default": "true"}),
        ("pad", 3, "uint32", _R), ("kernel_size", 4, "uint32", _R),
        ("group", 5, "uint32", "optional", {"default": 1}), ("stride", 6, "uint32", _R),
        ("pad_h", 9, "uint32"), ("pad_w", 10, "uint32"), ("kernel_h", 11, "uint32"), ("kernel_w", 12, "uint32"),
        ("stride_h", 13, "uint32"), ("stride_w", 14, "uint32"),
        ("axis", 16, "int32", "optional", {"default": 1}), ("dilation", 18, "uint32", _R),
    ],
    "PoolingParameter": [
        ("pool", 1, "PoolingParameter.PoolMethod"), ("kernel_size", 2, "uint32"),
        ("stride", 3, "uint32", "optional", {"default": 1}), ("pad", 4, "uint32"),
        ("kernel_h", 5, "uint32"), ("kernel_w", 6, "uint32"), ("stride_h", 7, "uint32"),
        ("stride_w", 8, "uint32"), ("pad_h", 9, "uint32"), ("pad_w", 10, "uint32"),
        ("global_pooling", 12, "bool"),
        ("round_mode", 13, "PoolingParameter.RoundMode"),
        # OpenCV's caffe.proto has `ceil_mode` (bool) where BVLC has round_mode, with the
        # same number; only the text name matters here (params come from the prototxt).
        ("ceil_mode", 1013, "bool", "optional", {"default": "true"}),
    ],
    "InnerProductParameter": [
        ("num_output", 1, "uint32"), ("bias_term", 2, "bool", "optional", {"default": "true"}),
        ("axis", 5, "int32", "optional", {"default": 1}), ("transpose", 6, "bool"),
    ],
    "ReLUParameter": [("negative_slope", 1, "float")],
    "PReLUParameter": [("channel_shared", 2, "bool")],
    "BatchNormParameter": [
        ("use_global_stats", 1, "bool"), ("moving_average_fraction", 2, "float", "optional", {"default": 0.999}),
        ("eps", 3, "float", "optional", {"default": 1e-5}),
    ],
    "ScaleParameter": [
        ("axis", 1, "int32", "optional", {"default": 1}), ("num_axes", 2, "int32", "optional", {"default": 1}),
        ("bias_term", 4, "bool"),
    ],
    "EltwiseParameter": [
        ("operation", 1, "EltwiseParameter.EltwiseOp", "optional", {"default": "SUM"}),
        ("coeff", 2, "float", _R),
    ],
    "ConcatParameter": [("concat_dim", 1, "uint32", "optional", {"default": 1}),
                        ("axis", 2, "int32", "optional", {"default": 1})],
    "SoftmaxParameter": [("axis", 2, "int32", "optional", {"default": 1})],
    "FlattenParameter": [("axis", 1, "int32", "optional", {"default": 1}),
                         ("end_axis", 2, "int32", "optional", {"default": -1})],
    "ReshapeParameter": [("shape", 1, "BlobShape"), ("axis", 2, "int32"),
                         ("num_axes", 3, "int32", "optional", {"default": -1})],
    "SliceParameter": [("slice_dim", 1, "uint32", "optional", {"default": 1}),
                       ("slice_point", 2, "uint32", _R), ("axis", 3, "int32", "optional", {"default": 1})],
    "DropoutParameter": [("dropout_ratio", 1, "float", "optional", {"default": 0.5})],
    "CropParameter": [("axis", 1, "int32", "optional", {"default": 2}), ("offset", 2, "uint32", _R)],
    "PowerParameter": [("power", 1, "float", "optional", {"default": 1.0}),
                       ("scale", 2, "float", "optional", {"default": 1.0}), ("shift", 3, "float")],
    "LRNParameter": [
        ("local_size", 1, "uint32", "optional", {"default": 5}), ("alpha", 2, "float", "optional", {"default": 1.0}),
        ("beta", 3, "float", "optional", {"default": 0.75}),
        ("norm_region", 4, "LRNParameter.NormRegion"), ("k", 5, "float", "optional", {"default": 1.0}),
    ],
    "PermuteParameter": [("order", 1, "uint32", _R)],
    "ArgMaxParameter": [("out_max_val", 1, "bool"), ("top_k", 2, "uint32", "optional", {"default": 1}),
                        ("axis", 3, "int32")],
    "ExpParameter": [("base", 1, "float", "optional", {"default": -1.0}),
                     ("scale", 2, "float", "optional", {"default": 1.0}), ("shift", 3, "float")],
    "LogParameter": [("base", 1, "float", "optional", {"default": -1.0}),
                     ("scale", 2, "float", "optional", {"default": 1.0}), ("shift", 3, "float")],
    "ReductionParameter": [("operation", 1, "ReductionParameter.ReductionOp", "optional", {"default": "SUM"}),
                           ("axis", 2, "int32"), ("coeff", 3, "float", "optional", {"default": 1.0})],
    "TileParameter": [("axis", 1, "int32", "optional", {"default": 1}), ("tiles", 2, "int32")],
    "ELUParameter": [("alpha", 1, "float", "optional", {"default": 1.0})],
    "SwishParameter": [("beta", 1, "float", "optional", {"default": 1.0})],
    "ClipParameter": [("min", 1, "float"), ("max", 2, "float")],
    "ThresholdParameter": [("threshold", 1, "float")],
    "BiasParameter": [("axis", 1, "int32", "optional", {"default": 1}),
                      ("num_axes", 2, "int32", "optional", {"default": 1})],
}

ENUMS: dict[str, dict[str, int]] = {
    "Phase": {"TRAIN": 0, "TEST": 1},
    "PoolingParameter.PoolMethod": {"MAX": 0, "AVE": 1, "STOCHASTIC": 2},
    "PoolingParameter.RoundMode": {"CEIL": 0, "FLOOR": 1},
    "EltwiseParameter.EltwiseOp": {"PROD": 0, "SUM": 1, "MAX": 2},
    "LRNParameter.NormRegion": {"ACROSS_CHANNELS": 0, "WITHIN_CHANNEL": 1},
    "ReductionParameter.ReductionOp": {"SUM": 1, "ASUM": 2, "SUMSQ": 3, "MEAN": 4},
    "V1LayerParameter.LayerType": {
        "NONE": 0, "ACCURACY": 1, "BNLL": 2, "CONCAT": 3, "CONVOLUTION": 4, "DATA": 5, "DROPOUT": 6,
        "EUCLIDEAN_LOSS": 7, "FLATTEN": 8, "HDF5_DATA": 9, "HDF5_OUTPUT": 10, "IM2COL": 11, "IMAGE_DATA": 12,
        "INFOGAIN_LOSS": 13, "INNER_PRODUCT": 14, "LRN": 15, "MULTINOMIAL_LOGISTIC_LOSS": 16, "POOLING": 17,
        "RELU": 18, "SIGMOID": 19, "SOFTMAX": 20, "SOFTMAX_LOSS": 21, "SPLIT": 22, "TANH": 23,
        "WINDOW_DATA": 24, "ELTWISE": 25, "POWER": 26, "SIGMOID_CROSS_ENTROPY_LOSS": 27, "HINGE_LOSS": 28,
        "MEMORY_DATA": 29, "ARGMAX": 30, "THRESHOLD": 31, "DUMMY_DATA": 32, "SLICE": 33, "MVN": 34,
        "ABSVAL": 35, "SILENCE": 36, "CONTRASTIVE_LOSS": 37, "EXP": 38, "DECONVOLUTION": 39,
    },
}

# V1 enum layer type -> the V2 type string (as Caffe's upgrade_proto names them).
V1_TYPES = {
    "ABSVAL": "AbsVal", "ACCURACY": "Accuracy", "ARGMAX": "ArgMax", "BNLL": "BNLL", "CONCAT": "Concat",
    "CONTRASTIVE_LOSS": "ContrastiveLoss", "CONVOLUTION": "Convolution", "DATA": "Data",
    "DECONVOLUTION": "Deconvolution", "DROPOUT": "Dropout", "DUMMY_DATA": "DummyData",
    "EUCLIDEAN_LOSS": "EuclideanLoss", "ELTWISE": "Eltwise", "EXP": "Exp", "FLATTEN": "Flatten",
    "HDF5_DATA": "HDF5Data", "HDF5_OUTPUT": "HDF5Output", "HINGE_LOSS": "HingeLoss", "IM2COL": "Im2col",
    "IMAGE_DATA": "ImageData", "INFOGAIN_LOSS": "InfogainLoss", "INNER_PRODUCT": "InnerProduct",
    "LRN": "LRN", "MEMORY_DATA": "MemoryData", "MULTINOMIAL_LOGISTIC_LOSS": "MultinomialLogisticLoss",
    "MVN": "MVN", "POOLING": "Pooling", "POWER": "Power", "RELU": "ReLU", "SIGMOID": "Sigmoid",
    "SIGMOID_CROSS_ENTROPY_LOSS": "SigmoidCrossEntropyLoss", "SILENCE": "Silence", "SOFTMAX": "Softmax",
    "SOFTMAX_LOSS": "SoftmaxWithLoss", "SPLIT": "Split", "SLICE": "Slice", "TANH": "TanH",
    "WINDOW_DATA": "WindowData", "THRESHOLD": "Threshold", "NONE": "",
}


@lru_cache(maxsize=1)
def caffe_messages() -> dict[str, Any]:
    """Message classes (and enum descriptors) of the schema above, built once."""
    return build_messages("hhbc_caffe", MESSAGES, ENUMS)
