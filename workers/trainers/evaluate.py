"""Held-out evaluation shared by the classifier kinds."""
from __future__ import annotations

from typing import Any

import numpy as np


def classification_metrics(model, x_test, y_test, class_names: list[str]) -> dict[str, Any]:
    """Accuracy, macro precision/recall/F1, log loss and the confusion matrix on the test rows.

    The loss comes from the predicted probabilities (clipped, as scikit-learn does), not
    from ``model.evaluate``: Keras 3 computes a softmax model's loss from its logits, which
    explodes on a single out-of-range test row and says nothing useful.
    """
    from sklearn.metrics import accuracy_score, confusion_matrix, log_loss, precision_recall_fscore_support

    labels = list(range(len(class_names)))
    probs = model.predict(x_test, verbose=0)
    pred = np.argmax(probs, axis=1)
    precision, recall, f1, _ = precision_recall_fscore_support(y_test, pred, labels=labels,
                                                               average="macro", zero_division=0)
    return {
        "test_accuracy": float(accuracy_score(y_test, pred)),
        "test_macro_precision": float(precision),
        "test_macro_recall": float(recall),
        "test_macro_f1": float(f1),
        "test_loss": float(log_loss(y_test, probs, labels=labels)),
        "confusion_matrix": confusion_matrix(y_test, pred, labels=labels).tolist(),
        "class_names": list(class_names),
    }
