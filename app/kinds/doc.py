"""Render the built-in kinds' specs as Markdown: ``python -m app.kinds.doc > docs/kinds-builtin.md``.

The same declarations drive the form and the API validation, so these docs cannot drift
(a test compares the committed file with this output). Installed kind packages are listed,
with their parameters, by ``GET /api/v1/kinds`` and the workers page instead.
"""
from __future__ import annotations

from app.kinds import KINDS
from app.kinds.spec import Input

TAKES = {Input.ROWS: "rows of numbers", Input.IMAGES: "images of the training shape",
         Input.TEXT: "plain strings", Input.WORDS: "words (neighbours or vectors)"}

def render() -> str:
    lines = ["# The built-in model kinds and their parameters", "",
             "Generated from `app/kinds/*.py` by `python -m app.kinds.doc > docs/kinds-builtin.md`; "
             "`GET /api/v1/kinds` serves the same declarations as JSON, with every installed kind package's. "
             "How to write your own kind: [kinds.md](kinds.md).", ""]
    for spec in (s for s in KINDS.values() if KINDS.installed(s.name).builtin):
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
    return "\n".join(lines)


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
