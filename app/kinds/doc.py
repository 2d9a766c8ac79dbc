"""Render the kinds' parameter declarations as Markdown: ``python -m app.kinds.doc > docs/kinds.md``.

The same declarations drive the form and the API validation, so these docs cannot drift
(a test compares the committed file with this output).
"""
from __future__ import annotations

from app.kinds import KINDS


def render() -> str:
    lines = ["# Model kinds and their parameters", "",
             "Generated from `app/kinds/*.py` by `python -m app.kinds.doc > docs/kinds.md`; "
             "`GET /api/v1/kinds` serves the same declarations as JSON.", ""]
    for spec in KINDS.values():
        lines += [f"## `{spec.name}`: {spec.title}", "",
                  f"Takes {' or '.join(spec.data_kinds)} datasets.", "",
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


if __name__ == "__main__":
    print(render(), end="")
