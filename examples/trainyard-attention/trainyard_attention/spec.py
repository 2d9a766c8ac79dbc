"""The kind's declaration: read by the web, the API and the workers, so it imports no framework."""
from trainyard.kinds import EMBEDDING_DIM, MAX_TOKENS, SEQUENCE_LENGTH, TRAINING_PARAMS, Input, KindSpec, Param

SPEC = KindSpec(
    name="attention",
    title="Attention-pooled text classifier (BiLSTM + attention)",
    data_kinds=("text",),
    input=Input.TEXT,  # serving and batch scoring take plain strings
    trainer="trainyard_attention.trainer:train",
    params=(
        Param("units", int, 32, "LSTM units per direction.", min=2, max=1024),
        Param("attention", str, "additive", "How the sequence is pooled: additive (Bahdanau, "
              "keras.layers.AdditiveAttention) or dot (Luong, keras.layers.Attention), with the mean state "
              "as the query.", choices=("additive", "dot")),
        MAX_TOKENS, SEQUENCE_LENGTH, EMBEDDING_DIM,
        *TRAINING_PARAMS,
    ),
)
