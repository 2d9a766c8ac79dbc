"""text: Embedding + GlobalAveragePooling1D + Dense, the end-to-end text classifier."""
from app.domain.params import Param
from app.kinds.common import DROPOUT, EMBEDDING_DIM, KERAS_EPOCH_METRICS, L2, MAX_TOKENS, SEQUENCE_LENGTH, TRAINING
from app.kinds.spec import Input, KindSpec

SPEC = KindSpec(
    name="text",
    title="Text classifier (Embedding + pooling)",
    data_kinds=("text",),
    input=Input.TEXT,
    trainer="workers.trainers.text:train",
    params=(
        EMBEDDING_DIM, MAX_TOKENS, SEQUENCE_LENGTH,
        Param("dense_units", int, 32, "Units in the Dense layer after pooling (0 = none).", min=0, max=4096),
        DROPOUT, L2, *TRAINING,
    ),
    epoch_metrics=KERAS_EPOCH_METRICS,
)
