"""Held-out evaluation shared by the classifier kinds."""
from __future__ import annotations

import numpy as np


def classification_metrics(model, X_test, y_test, n_classes: int) -> dict[str, float]:
    """Accuracy, macro F1 and log loss on the held-out rows (never seen in training or validation).

    The loss is computed from the predicted probabilities (clipped, as scikit-learn does), not
    by ``model.evaluate``: Keras 3 computes a softmax model's loss from its logits, which explodes
    on a single out-of-range test row and says nothing useful.
    """
    from sklearn.metrics import accuracy_score, f1_score, log_loss

    probs = model.predict(X_test, verbose=0)
    pred = np.argmax(probs, axis=1)
    return {"test_accuracy": float(accuracy_score(y_test, pred)),
            "test_macro_f1": float(f1_score(y_test, pred, average="macro")),
            "test_loss": float(log_loss(y_test, probs, labels=list(range(n_classes))))}
