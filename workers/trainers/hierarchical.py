"""hierarchical stage 2: an rnn whose Embedding starts from a word2vec version's vectors.

Stage 1 is an ordinary word2vec job; the runner hands this trainer that version's
verified ``vectors.txt`` (plain text, never a pickle). Words of the training
vocabulary that the embeddings lack start random; ``freeze_embeddings`` keeps the
vectors fixed, else they are fine-tuned.
"""
from __future__ import annotations

import numpy as np

from workers.trainers.context import TrainContext
from workers.trainers.keras_common import l2
from workers.trainers.text_layers import fit_text_model, prepare_text, recurrent_stack


def embedding_matrix(vocabulary: list[str], vectors_path, seed: int) -> tuple[np.ndarray, float]:
    """Rows for each vocabulary token from the word2vec file; returns (matrix, share of tokens covered)."""
    from gensim.models import KeyedVectors

    wv = KeyedVectors.load_word2vec_format(str(vectors_path), binary=False)
    rng = np.random.default_rng(seed)
    matrix = rng.normal(0.0, 0.05, size=(len(vocabulary), wv.vector_size)).astype(np.float32)
    matrix[0] = 0.0  # padding
    found = 0
    for i, token in enumerate(vocabulary[2:], start=2):  # 0 = padding, 1 = [UNK]
        if token in wv.key_to_index:
            matrix[i] = wv[token]
            found += 1
    return matrix, found / max(1, len(vocabulary) - 2)


def train(ctx: TrainContext) -> None:
    import keras

    if "vectors.txt" not in ctx.inputs:
        raise ValueError("the embedding version has no vectors.txt artifact")
    p = ctx.params
    prep, vectorizer = prepare_text(ctx)
    vocabulary = vectorizer.get_vocabulary()
    matrix, coverage = embedding_matrix(vocabulary, ctx.inputs["vectors.txt"], p["seed"])
    embedding = keras.layers.Embedding(matrix.shape[0], matrix.shape[1], mask_zero=True,
                                       embeddings_initializer=keras.initializers.Constant(matrix),
                                       trainable=not p["freeze_embeddings"])
    model = keras.Sequential([
        keras.Input(shape=(1,), dtype="string"), vectorizer, embedding,
        *recurrent_stack(p, l2(p)),
        keras.layers.Dense(len(ctx.data.class_names), activation="softmax"),
    ])
    extra = {"embedding_coverage": round(coverage, 4), "embedding_dim": int(matrix.shape[1]),
             "embeddings_frozen": bool(p["freeze_embeddings"])}
    fit_text_model(ctx, model, prep, vectorizer, extra)
