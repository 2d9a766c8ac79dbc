"""mlp: dense layers with a softmax, for tabular data."""
from app.domain.params import Param
from app.kinds.common import DROPOUT, KERAS_EPOCH_METRICS, L2, TRAINING
from app.kinds.spec import Input, KindSpec

SPEC = KindSpec(
    name="mlp",
    title="Dense classifier (MLP)",
    data_kinds=("tabular",),
    input=Input.ROWS,
    trainer="workers.trainers.mlp:train",
    params=(
        Param("hidden_units", int, 64, "Units in each hidden Dense layer.", min=1, max=4096),
        Param("hidden_layers", int, 1, "Number of hidden Dense layers.", min=1, max=16),
        DROPOUT,
        L2,
        *TRAINING,
    ),
    epoch_metrics=KERAS_EPOCH_METRICS,
)
