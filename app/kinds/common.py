"""Parameters shared by the Keras kinds, declared once."""
from app.domain.params import Param

EPOCHS = Param("epochs", int, 10, "Passes over the training data.", min=1, max=1000)
BATCH_SIZE = Param("batch_size", int, 32, "Examples per gradient step.", min=1, max=8192)
LEARNING_RATE = Param("learning_rate", float, 0.001, "Adam step size.", min=1e-6, max=1.0)
SEED = Param("seed", int, 42, "Random seed: same seed, params and data give the same metrics on CPU.",
             min=0, max=2**31 - 1)
VALIDATION_SPLIT = Param("validation_split", float, 0.1,
                         "Share of the training rows held out for per-epoch validation.", min=0.0, max=0.5)
DROPOUT = Param("dropout", float, 0.0, "Dropout rate after each hidden layer.", min=0.0, max=0.9)
L2 = Param("l2", float, 0.0, "L2 weight penalty on the Dense and convolution kernels.", min=0.0, max=1.0)
PATIENCE = Param("patience", int, 0,
                 "Early stopping: stop after this many epochs without validation-loss improvement "
                 "and keep the best weights (0 = off; needs a validation split).", min=0, max=100)
TFLITE = Param("tflite", bool, False,
               "Also export a TensorFlow Lite model with dynamic-range quantization, with its size and "
               "test accuracy.")

# What a Keras trainer reports at each epoch's end (the validation pair needs a validation split).
KERAS_EPOCH_METRICS = ("val_accuracy", "val_loss", "accuracy", "loss")

TRAINING = (EPOCHS, BATCH_SIZE, LEARNING_RATE, VALIDATION_SPLIT, PATIENCE, SEED, TFLITE)

# Text models: vocabulary and sequence length are fitted on the training split and saved in the model.
MAX_TOKENS = Param("max_tokens", int, 20000, "Vocabulary size (most frequent training tokens).",
                   min=100, max=200_000)
SEQUENCE_LENGTH = Param("sequence_length", int, 64, "Tokens per text (longer texts are cut).",
                        min=4, max=2000)
EMBEDDING_DIM = Param("embedding_dim", int, 64, "Size of each token's embedding vector.", min=2, max=1024)
