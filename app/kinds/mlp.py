"""mlp: dense layers with a softmax, for tabular data."""
from app.domain.params import KindSpec, Param
from app.kinds.common import BATCH_SIZE, EPOCHS, LEARNING_RATE, SEED, VALIDATION_SPLIT

SPEC = KindSpec(
    name="mlp",
    title="Dense classifier (MLP)",
    data_kinds=("tabular",),
    params=(
        EPOCHS,
        BATCH_SIZE,
        Param("hidden_units", int, 64, "Units in each hidden Dense layer.", min=1, max=4096),
        Param("hidden_layers", int, 1, "Number of hidden Dense layers.", min=1, max=16),
        Param("dropout", float, 0.0, "Dropout rate after each hidden layer.", min=0.0, max=0.9),
        LEARNING_RATE,
        VALIDATION_SPLIT,
        SEED,
    ),
)
