"""The dev zoo's float models run by their own frameworks over a batch of samples (one inference
per sample): onnxruntime, the TFLite interpreter (ai_edge_litert), TensorFlow for the ARM .pb
files (fed at Mfcc:0, as hhbc cuts them) and OpenCV's Caffe importer."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

# The output each sanity check reads (the class probabilities or logits; MTCNN's face score).
OUTPUTS = {".pb": "labels_softmax:0", "lenet": "prob", "mtcnn": "prob1"}


def run_float(models_dir: Path, model: str, batch: np.ndarray) -> np.ndarray:
    """[N, ...] outputs of the model's main output, one sample at a time (batch dim 1 added)."""
    path = models_dir / model
    if model.endswith(".onnx"):
        import onnxruntime as ort

        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        return np.concatenate([session.run(None, {name: x[None]})[0] for x in batch])
    if model.endswith(".tflite"):
        from ai_edge_litert.interpreter import Interpreter

        interpreter = Interpreter(model_path=str(path))
        interpreter.allocate_tensors()
        src, dst = interpreter.get_input_details()[0]["index"], interpreter.get_output_details()[0]["index"]
        out = []
        for x in batch:
            interpreter.set_tensor(src, x[None])
            interpreter.invoke()
            out.append(interpreter.get_tensor(dst).copy())
        return np.concatenate(out)
    if model.endswith(".pb"):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow as tf

        graph = tf.Graph()
        with graph.as_default():
            tf.compat.v1.import_graph_def(tf.compat.v1.GraphDef.FromString(path.read_bytes()), name="")
        with tf.compat.v1.Session(graph=graph) as session:
            return np.concatenate([session.run(OUTPUTS[".pb"], {"Mfcc:0": x[None]}) for x in batch])
    if model.endswith(".prototxt"):
        import cv2

        net = cv2.dnn.readNetFromCaffe(str(path), str(path.with_name(
            "lenet_iter_10000.caffemodel" if "lenet" in model else path.stem + ".caffemodel")))
        output = OUTPUTS["lenet" if "lenet" in model else "mtcnn"]
        out = []
        for x in batch:
            net.setInput(np.ascontiguousarray(x[None]))
            out.append(net.forward(output).reshape(1, -1))
        return np.concatenate(out)
    raise ValueError(f"no framework for {model}")


def wav_bytes(clip: np.ndarray, rate: int = 16000) -> bytes:
    """A 16-bit mono WAV file of int16 samples (what DecodeWav reads)."""
    import io
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(clip.astype("<i2").tobytes())
    return buffer.getvalue()
