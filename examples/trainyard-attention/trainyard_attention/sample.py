"""A learnable text set: which topic a sentence is about is given by a few words among many shared ones.

Every sentence mixes filler words every topic uses with one to three topic words at random
places, so a model must learn which tokens to attend to. Deterministic for a seed.
"""
from __future__ import annotations

import random

TOPICS = {
    "sport": ["goal", "match", "striker", "referee", "league", "penalty", "coach", "stadium"],
    "weather": ["rain", "storm", "forecast", "sunny", "cloudy", "snow", "humid", "breeze"],
    "money": ["bank", "loan", "interest", "stocks", "budget", "invoice", "salary", "market"],
}
FILLER = ["the", "a", "today", "people", "said", "about", "very", "new", "week", "city", "we", "and",
          "report", "again", "after", "some", "many", "news", "morning", "late", "was", "is", "it", "big"]


def sentences(n: int = 600, seed: int = 7) -> list[tuple[str, str]]:
    """``n`` (text, label) pairs, labels balanced across the topics."""
    rng = random.Random(seed)
    labels = sorted(TOPICS)
    out = []
    for i in range(n):
        label = labels[i % len(labels)]
        words = [rng.choice(FILLER) for _ in range(rng.randint(6, 14))]
        for _ in range(rng.randint(1, 3)):
            words.insert(rng.randrange(len(words) + 1), rng.choice(TOPICS[label]))
        out.append((" ".join(words), label))
    rng.shuffle(out)
    return out


def csv_text(n: int = 600, seed: int = 7) -> str:
    """The set as the CSV an upload takes (columns text, label)."""
    return "text,label\n" + "".join(f"{t},{label}\n" for t, label in sentences(n, seed))
