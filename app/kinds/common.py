"""Parameters shared by every Keras kind, declared once."""
from app.domain.params import Param

EPOCHS = Param("epochs", int, 10, "Passes over the training data.", min=1, max=1000)
BATCH_SIZE = Param("batch_size", int, 32, "Examples per gradient step.", min=1, max=8192)
LEARNING_RATE = Param("learning_rate", float, 0.001, "Adam step size.", min=1e-6, max=1.0)
SEED = Param("seed", int, 42, "Random seed: same seed, params and data give the same metrics on CPU.",
             min=0, max=2**31 - 1)
VALIDATION_SPLIT = Param("validation_split", float, 0.1,
                         "Share of the training rows held out for per-epoch validation.", min=0.0, max=0.5)
