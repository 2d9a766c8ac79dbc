"""rnn: Embedding + LSTM or GRU layers (optionally bidirectional), for text classification."""
from app.domain.params import Param
from app.kinds.common import DROPOUT, EMBEDDING_DIM, KERAS_EPOCH_METRICS, L2, MAX_TOKENS, SEQUENCE_LENGTH, TRAINING
from app.kinds.spec import Input, KindSpec

RECURRENT = (
    Param("cell", str, "lstm", "Recurrent cell.", choices=("lstm", "gru")),
    Param("bidirectional", bool, False, "Read each text in both directions."),
    Param("rnn_layers", int, 1, "Stacked recurrent layers.", min=1, max=4),
    Param("units", int, 64, "Units in each recurrent layer.", min=1, max=1024),
)

SPEC = KindSpec(
    name="rnn",
    title="Recurrent text classifier (LSTM/GRU)",
    data_kinds=("text",),
    input=Input.TEXT,
    trainer="workers.trainers.rnn:train",
    params=(*RECURRENT, EMBEDDING_DIM, MAX_TOKENS, SEQUENCE_LENGTH, DROPOUT, L2, *TRAINING),
    epoch_metrics=KERAS_EPOCH_METRICS,
)
