"""Optional compression: a TensorFlow Lite export with dynamic-range quantization."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np


def export_tflite(model, x_test: np.ndarray, y_test: np.ndarray, path: Path) -> dict[str, Any]:
    """Convert, then measure the file's size and its accuracy on the same test rows.

    Returns metrics; a model the converter cannot handle (e.g. string ops of text
    models) yields ``tflite_error`` instead of failing the job.
    """
    import warnings

    import tensorflow as tf

    try:
        with tempfile.TemporaryDirectory() as tmp:
            model.export(tmp, format="tf_saved_model", verbose=False)
            path.write_bytes(_convert(tf, tmp))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice
            interpreter = tf.lite.Interpreter(model_path=str(path))
        interpreter.allocate_tensors()
        inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
        correct = 0
        rows = x_test.numpy() if hasattr(x_test, "numpy") else x_test
        for row, label in zip(rows, y_test, strict=True):
            interpreter.set_tensor(inp["index"], np.asarray(row[np.newaxis], dtype=inp["dtype"]))
            interpreter.invoke()
            correct += int(np.argmax(interpreter.get_tensor(out["index"])[0]) == label)
        return {"tflite_bytes": path.stat().st_size, "tflite_test_accuracy": correct / max(1, len(y_test))}
    except Exception as exc:
        path.unlink(missing_ok=True)
        return {"tflite_error": f"{type(exc).__name__}: {str(exc)[:300]}"}


def _convert(tf, saved_model_dir: str) -> bytes:
    """Builtin TFLite ops only: text models' string preprocessing needs the Flex delegate, which the
    Python interpreter here lacks, so for them the export is reported as not possible rather than
    shipped unevaluated."""
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    return converter.convert()
