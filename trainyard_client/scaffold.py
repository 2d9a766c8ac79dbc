"""``trainyard kinds new NAME``: a model-kind package that installs and trains as generated.

The files are the smallest complete kind: a spec (no framework import), a trainer on the public
``TrainContext``, a test that trains it locally, and a pyproject whose entry point makes it a kind.
"""
from __future__ import annotations

import re
from pathlib import Path

NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

PYPROJECT = '''[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "trainyard-{dist}"
version = "0.1.0"
description = "{title}: a Trainyard model kind"
requires-python = ">=3.11"
dependencies = []  # Trainyard's hosts provide keras, tensorflow and the `trainyard` package

[project.entry-points."trainyard.kinds"]
{name} = "{package}.spec:SPEC"

[tool.setuptools]
packages = ["{package}"]
'''

SPEC = '''"""The {name} kind's declaration: read by the web, the API and the workers, so it imports no framework."""
from trainyard.kinds import KERAS_EPOCH_METRICS, TRAINING_PARAMS, Input, KindSpec, Param

SPEC = KindSpec(
    name="{name}",
    title="{title}",
    data_kinds=("tabular",),  # tabular, images, text or corpus
    input=Input.ROWS,  # what prediction and batch scoring take: ROWS, IMAGES, TEXT, WORDS, or None
    trainer="{package}.trainer:train",
    params=(
        Param("units", int, 32, "Units of the hidden layer.", min=1, max=4096),
        *TRAINING_PARAMS,  # epochs, batch_size, learning_rate, validation_split, patience, seed
    ),
    epoch_metrics=KERAS_EPOCH_METRICS,  # what ctx.fit reports each epoch: the metrics a sweep may optimise
)
'''

TRAINER = '''"""The {name} kind's trainer: Normalization -> Dense -> softmax. Replace the network with yours."""
from __future__ import annotations

from trainyard.training import TrainContext


def train(ctx: TrainContext) -> None:
    import keras

    p = ctx.params
    keras.utils.set_random_seed(p["seed"])
    split = ctx.split()  # train / validation / test, by the platform's rules
    norm = keras.layers.Normalization()
    norm.adapt(split.x_train)  # fitted on the training split only, and saved inside the model
    model = keras.Sequential([
        keras.Input(shape=(split.x_train.shape[1],)), norm,
        keras.layers.Dense(p["units"], activation="relu"),
        keras.layers.Dense(len(ctx.data.class_names), activation="softmax"),
    ])
    ctx.log.info("training on %d rows", len(split.y_train))
    model = ctx.fit(model, split)  # progress, cancel, checkpoints and resume come with it
    ctx.evaluate_classifier(model, split)  # test accuracy, F1, confusion matrix
    ctx.save_model(model)  # model.keras: what prediction and batch scoring load
'''

TEST = '''"""The {name} kind trains on its own, without the platform."""
from trainyard.testing import train_locally

from {package}.spec import SPEC


def test_the_defaults_are_valid():
    assert SPEC.validate({{}})[1] == {{}}


def test_it_learns_iris(tmp_path):
    run = train_locally(SPEC, "iris", {{"epochs": 30, "learning_rate": 0.02}}, workdir=tmp_path)
    assert run.metrics["test_accuracy"] >= 0.8, run.metrics
    assert "model.keras" in run.files
'''

README = '''# trainyard-{dist}

A Trainyard model kind: `{name}` ({title}).

    pip install -e .                 # on the web host and every worker host, then restart them
    python -m pytest tests           # trains it locally, without the platform

See Trainyard's docs/kinds.md ("Write your own kind") for the contract. Its parameters can be swept
(`trainyard sweep create`, README "Sweeps") on any metric in `epoch_metrics`.
'''


def new_kind(name: str, folder: Path, title: str | None = None) -> Path:
    """Write the package for kind ``name`` into ``folder/trainyard-NAME``; returns that folder."""
    if not NAME.match(name):
        raise ValueError("a kind's name is 1-40 lower-case letters, digits or '_', starting with a letter")
    dist = name.replace("_", "-")
    root = folder / f"trainyard-{dist}"
    if root.exists():
        raise FileExistsError(f"{root} exists; choose another name or folder")
    package = f"trainyard_{name}"
    values = {"name": name, "dist": dist, "package": package, "title": title or f"{name} classifier"}
    files = {"pyproject.toml": PYPROJECT, f"{package}/__init__.py": '"""The {name} model kind."""\n',
             f"{package}/spec.py": SPEC, f"{package}/trainer.py": TRAINER, f"tests/test_{name}.py": TEST,
             "README.md": README}
    for rel, template in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(**values))
    return root
