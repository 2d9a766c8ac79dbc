"""word2vec: gensim Word2Vec embeddings (skip-gram or CBOW with negative sampling) from a corpus."""
from app.domain.params import Param
from app.kinds.spec import Input, KindSpec

PARAMS = (
    Param("vector_size", int, 100, "Dimensions of each word vector.", min=2, max=1000),
    Param("window", int, 5, "Context words on each side.", min=1, max=50),
    Param("min_count", int, 2, "Ignore words rarer than this.", min=1, max=1000),
    Param("sg", str, "skipgram", "Training algorithm.", choices=("skipgram", "cbow")),
    Param("negative", int, 5, "Negative samples per positive one.", min=1, max=50),
    Param("epochs", int, 10, "Passes over the corpus.", min=1, max=500),
    Param("max_vocab_size", int, 500_000, "Cap on the vocabulary kept while counting.",
          min=1000, max=5_000_000),
    Param("seed", int, 42, "Random seed (training runs on one thread so that it is reproducible).",
          min=0, max=2**31 - 1),
)

SPEC = KindSpec(name="word2vec", title="Word2Vec embeddings (gensim)", data_kinds=("corpus",), params=PARAMS,
                input=Input.WORDS, trainer="workers.trainers.word2vec:train")
