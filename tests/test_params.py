"""The parameter declaration validates, coerces and bounds every value."""
from __future__ import annotations

import pytest

from app.kinds import KINDS

MLP = KINDS["mlp"]


def test_defaults_are_filled_and_form_strings_coerced():
    clean, errors = MLP.validate({"epochs": "3", "learning_rate": "0.01"})
    assert errors == {}
    assert clean["epochs"] == 3 and clean["learning_rate"] == 0.01
    assert clean["hidden_units"] == MLP.defaults()["hidden_units"]


@pytest.mark.parametrize(("params", "field", "fragment"), [
    ({"epochs": 0}, "params.epochs", "between 1 and 1000"),
    ({"epochs": 10**9}, "params.epochs", "between 1 and 1000"),
    ({"epochs": "ten"}, "params.epochs", "must be an integer"),
    ({"epochs": 2.5}, "params.epochs", "must be an integer"),
    ({"epochs": True}, "params.epochs", "must be an integer"),
    ({"learning_rate": "fast"}, "params.learning_rate", "must be a number"),
    ({"learning_rate": float("nan")}, "params.learning_rate", "finite"),
    ({"dropout": 0.95}, "params.dropout", "between 0 and 0.9"),
    ({"nonsense": 1}, "params.nonsense", "unknown parameter"),
])
def test_bad_values_name_the_field_and_the_reason(params, field, fragment):
    _, errors = MLP.validate(params)
    assert field in errors
    assert fragment in errors[field]


def test_params_must_be_an_object():
    _, errors = MLP.validate([1, 2])
    assert errors == {"params": "must be an object"}


def test_every_catalog_kind_has_a_trainer():
    from workers.trainers import TRAINERS

    assert set(TRAINERS) == set(KINDS)


def test_the_kinds_doc_is_generated_from_the_declarations():
    from app.config import PROJECT_ROOT
    from app.kinds.doc import render

    committed = (PROJECT_ROOT / "docs" / "kinds-builtin.md").read_text()
    assert committed == render(), "run: python -m app.kinds.doc > docs/kinds-builtin.md"


def test_the_form_is_generated_from_the_declaration(db_stack):
    for spec in KINDS.values():
        html = db_stack.client.get(f"/jobs/new?kind={spec.name}").get_data(as_text=True)
        for p in spec.params:
            assert f'name="params.{p.name}"' in html, (spec.name, p.name)
