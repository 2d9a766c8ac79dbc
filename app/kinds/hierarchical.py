"""hierarchical: a word2vec stage learns embeddings, then an rnn stage classifies with them.

Runs as two linked jobs: stage 1 (kind word2vec) is trained from ``corpus`` unless
``embedding`` names an existing word2vec version to reuse; stage 2 starts when the
embedding version is committed and records it as its parent version.
"""
from app.domain.params import Param
from app.kinds.common import DROPOUT, KERAS_EPOCH_METRICS, L2, MAX_TOKENS, SEQUENCE_LENGTH, TRAINING
from app.kinds.rnn import RECURRENT
from app.kinds.spec import Input, KindSpec, Stage


def stage1_params(params: dict) -> dict:
    """The word2vec job's params derived from a hierarchical job's params."""
    return {"vector_size": params["w2v_vector_size"], "window": params["w2v_window"],
            "min_count": params["w2v_min_count"], "sg": params["w2v_sg"], "negative": 5,
            "epochs": params["w2v_epochs"], "max_vocab_size": 500_000, "seed": params["seed"]}


SPEC = KindSpec(
    name="hierarchical",
    title="Hierarchical: Word2Vec embeddings -> RNN classifier",
    data_kinds=("text",),
    input=Input.TEXT,
    trainer="workers.trainers.hierarchical:train",
    stages=(Stage(kind="word2vec", dataset_param="corpus", reuse_param="embedding", params=stage1_params,
                  model_suffix="-embeddings"),),
    params=(
        Param("corpus", str, "lee_background", "Corpus dataset for stage 1 ('name' or 'name:version').",
              ref="dataset:corpus"),
        Param("embedding", str, "", "Reuse this word2vec version instead of training one "
              "('model:version', or 'model' for its newest version). Leave empty to train stage 1.",
              ref="version:word2vec"),
        Param("freeze_embeddings", bool, False, "Keep the Word2Vec vectors fixed (else fine-tune them)."),
        Param("w2v_vector_size", int, 64, "Stage 1: dimensions of each word vector.", min=2, max=1000),
        Param("w2v_window", int, 5, "Stage 1: context words on each side.", min=1, max=50),
        Param("w2v_min_count", int, 1, "Stage 1: ignore words rarer than this.", min=1, max=1000),
        Param("w2v_sg", str, "skipgram", "Stage 1: training algorithm.", choices=("skipgram", "cbow")),
        Param("w2v_epochs", int, 10, "Stage 1: passes over the corpus.", min=1, max=500),
        *RECURRENT, MAX_TOKENS, SEQUENCE_LENGTH, DROPOUT, L2, *TRAINING,
    ),
    epoch_metrics=KERAS_EPOCH_METRICS,
)
