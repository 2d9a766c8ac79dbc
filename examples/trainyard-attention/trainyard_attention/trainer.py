"""TextVectorization -> Embedding -> bidirectional LSTM -> attention pooling -> Dense softmax.

The pooling asks one question of the whole sequence: the query is the mean of the LSTM's states,
the keys and values are the states themselves, so the model learns which tokens to read. Only
built-in Keras layers are used, so the saved ``model.keras`` loads anywhere without this package
(serving, batch scoring, a checkpoint resume: all load with ``safe_mode=True``).
"""
from __future__ import annotations

from trainyard.training import TrainContext


def build(params: dict, vectorizer, classes: int):
    import keras

    text = keras.Input(shape=(1,), dtype="string", name="text")
    tokens = vectorizer(text)
    embedded = keras.layers.Embedding(len(vectorizer.get_vocabulary()), params["embedding_dim"],
                                      mask_zero=True)(tokens)
    states = keras.layers.Bidirectional(keras.layers.LSTM(params["units"], return_sequences=True))(embedded)
    query = keras.layers.Reshape((1, 2 * params["units"]))(keras.layers.GlobalAveragePooling1D()(states))
    pool = keras.layers.AdditiveAttention() if params["attention"] == "additive" else keras.layers.Attention(
        use_scale=True)
    context = keras.layers.Flatten()(pool([query, states]))
    out = keras.layers.Dense(classes, activation="softmax")(context)
    return keras.Model(text, out, name="attention_classifier")


def train(ctx: TrainContext) -> None:
    import keras

    p = ctx.params
    keras.utils.set_random_seed(p["seed"])
    split = ctx.split()  # texts as an (n, 1) string column, split by the platform's rules
    vectorizer = keras.layers.TextVectorization(max_tokens=p["max_tokens"], output_mode="int",
                                                output_sequence_length=p["sequence_length"])
    vectorizer.adapt(split.x_train)  # the vocabulary comes from the training split only
    vocabulary = vectorizer.get_vocabulary()
    ctx.log.info("vocabulary: %d tokens from %d training texts", len(vocabulary), len(split.y_train))
    model = ctx.fit(build(p, vectorizer, len(ctx.data.class_names)), split)  # resumes from a checkpoint
    ctx.evaluate_classifier(model, split)
    ctx.add_metrics(vocabulary_size=len(vocabulary), attention=p["attention"])
    ctx.save_model(model)
    ctx.add_artifact("vocabulary.txt", "\n".join(vocabulary))
