"""Render the kinds' specs as Markdown: ``python -m app.kinds.doc > docs/kinds.md``.

The same declarations drive the form and the API validation, so these docs cannot drift
(a test compares the committed file with this output).
"""
from __future__ import annotations

from app.kinds import KINDS
from app.kinds.spec import Input

TAKES = {Input.ROWS: "rows of numbers", Input.IMAGES: "images of the training shape",
         Input.TEXT: "plain strings", Input.WORDS: "words (neighbours or vectors)"}

GUIDE = """
## Declaring a kind

A kind is declared once, in a `KindSpec` (`app/kinds/spec.py`, importable without TensorFlow);
every other part of the platform reads the spec, and none names a kind. Its fields, and what reads them:

- `name`, `title`: the form, the API's `kind`, jobs and versions.
- `data_kinds`: submission (a dataset of another kind is refused) and the form's dataset list.
- `params` (`Param`: type, default, range or choices, help, `ref`): validation, the form,
  `GET /api/v1/kinds` and this page.
- `input` (`Input.ROWS`, `IMAGES`, `TEXT` or `WORDS`; `None`: no prediction): prediction (how instances
  are read, and which artifact is loaded: `model.keras`, or `vectors.txt` for words) and batch scoring
  (which dataset kinds it reads).
- `stages` (`Stage`: `kind`, `dataset_param`, `reuse_param`, `params`, `model_suffix`): submission runs
  the stage first as its own job, unless `reuse_param` names a version to reuse; the kind's own job then
  builds on that version.
- `trainer` (`"module:function"`): the worker, which imports it only when a job of the kind runs.

Adding a kind touches three files, then regenerates this page:

1. `app/kinds/NAME.py`: `SPEC = KindSpec(name=..., title=..., data_kinds=..., input=...,
   trainer="workers.trainers.NAME:train", params=(...))`.
2. `workers/trainers/NAME.py`: `def train(inp: TrainInput) -> TrainResult`, importing its framework
   inside the function.
3. `app/kinds/__init__.py`: `NAME.SPEC` in the catalog.
4. `python -m app.kinds.doc > docs/kinds.md`.

`tests/test_kinds.py` fails when a spec's trainer does not resolve, or when code outside `app/kinds`
and `workers/trainers` compares against a kind's name.
"""


def render() -> str:
    lines = ["# Model kinds and their parameters", "",
             "Generated from `app/kinds/*.py` by `python -m app.kinds.doc > docs/kinds.md`; "
             "`GET /api/v1/kinds` serves the same declarations as JSON. "
             "How a kind is declared: [Declaring a kind](#declaring-a-kind).", ""]
    for spec in KINDS.values():
        lines += [f"## `{spec.name}`: {spec.title}", "",
                  f"Takes {' or '.join(spec.data_kinds)} datasets. {_contract(spec)}", "",
                  "| parameter | type | default | range / choices | meaning |", "|---|---|---|---|---|"]
        for p in spec.params:
            j = p.to_json()
            if p.choices:
                bounds = ", ".join(p.choices)
            elif p.min is not None and p.max is not None:
                bounds = (f"{p.min:,} – {p.max:,}" if p.type is int else f"{p.min:g} – {p.max:g}")
            elif p.ref:
                bounds = p.ref
            else:
                bounds = ""
            default = "(empty)" if p.default == "" else p.default
            lines.append(f"| `{p.name}` | {j['type']} | {default} | {bounds} | {p.help} |")
        lines.append("")
    return "\n".join(lines) + GUIDE


def _contract(spec) -> str:
    """What the rest of the platform reads from the spec besides its parameters."""
    out = [f"Predicts and scores batches from {TAKES[spec.input]}." if spec.input else "Does not predict."]
    if spec.stages:
        out.append(f"Runs in stages, each a job: {', then '.join(f'`{s.kind}`' for s in spec.stages)}, "
                   f"then `{spec.name}`'s own trainer on its version.")
    out.append(f"Trainer: `{spec.trainer}`.")
    return " ".join(out)


if __name__ == "__main__":
    print(render(), end="")
