"""A kind is declared once: its spec finds its trainer, and no other module switches on its name."""
from __future__ import annotations

import ast
import re
import subprocess
import sys

import pytest

from app.config import PROJECT_ROOT
from app.data.types import DATA_KINDS
from app.kinds import KINDS, input_of, kinds_taking, suggested_kind
from app.kinds.registry import check_spec
from app.kinds.spec import Input, KindSpec

# Where a kind's name may be written: its spec and its trainer.
OWN = ("app/kinds/", "workers/trainers/")
# Names that are also a dataset kind or an input ("text") are legitimate there; only a
# comparison against a model kind's expression is a switch.
SHARED = set(KINDS) & (set(DATA_KINDS) | {i.value for i in Input})
UNIQUE = set(KINDS) - SHARED
DATASET_OWNERS = re.compile(r"data|^(found|d|ds|upload)$")


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_kind_s_trainer_resolves_from_its_spec(name):
    from workers.trainers import TRAINERS, trainer_for

    assert callable(trainer_for(name))
    assert TRAINERS[name] is trainer_for(name)
    for stage in KINDS[name].stages:
        assert stage.kind in KINDS and stage.dataset_param in {p.name for p in KINDS[name].params}


def test_resolving_the_trainers_and_the_public_api_imports_no_framework():
    code = ("import sys\nfrom workers.trainers import TRAINERS\n[TRAINERS[k] for k in TRAINERS]\n"
            "import trainyard.kinds, trainyard.training, trainyard.testing\n"
            "print([m for m in ('tensorflow', 'keras', 'gensim') if m in sys.modules])\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_a_spec_is_refused_when_it_cannot_be_found_or_is_invalid():
    with pytest.raises(ValueError, match="trainer must be"):
        KindSpec(name="x", title="X", data_kinds=("tabular",), trainer="workers.trainers.x")
    ok = KindSpec(name="x", title="X", data_kinds=("tabular",), trainer="pkg.x:train")
    assert check_spec("x", ok) is None
    assert "named 'y'" in check_spec("y", ok)
    assert "KindSpec" in check_spec("x", {"name": "x"})
    bad_data = KindSpec(name="x", title="X", data_kinds=("audio",), trainer="pkg.x:train")
    assert "audio" in check_spec("x", bad_data)
    bad_name = KindSpec(name="X Y", title="X", data_kinds=("tabular",), trainer="pkg.x:train")
    assert "lower-case" in check_spec("X Y", bad_name)


def test_what_the_platform_reads_from_the_specs():
    assert input_of("no-such-kind") is None
    assert kinds_taking(Input.WORDS) == [k for k, s in KINDS.items() if s.input is Input.WORDS]
    for data_kind in DATA_KINDS:
        assert data_kind in KINDS[suggested_kind(data_kind)].data_kinds
    for spec in KINDS.values():
        assert spec.to_json()["stages"][-1] == spec.name


def _switches(source: str) -> list[str]:
    """Places in ``source`` that decide by a model kind's name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and node.value in UNIQUE:
            found.append(f"line {node.lineno}: {node.value!r}")
        elif isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            shared = [c.value for o in operands for c in ast.walk(o)
                      if isinstance(c, ast.Constant) and c.value in SHARED]
            if shared and any(_is_model_kind(o) for o in operands):
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def _is_model_kind(expr: ast.expr) -> bool:
    if isinstance(expr, ast.Name):
        return expr.id == "kind"
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
        if expr.attr == "name":
            return expr.value.id == "spec"
        return expr.attr == "kind" and not DATASET_OWNERS.search(expr.value.id)
    return False


def test_the_checker_finds_a_switch():
    assert _switches('if version.kind == "word2vec":\n    pass\n')
    assert _switches('ok = kind in ("rnn", "text")\n')
    assert _switches('x = {"cnn": ("images",)}\n')
    assert _switches('if v.kind == "text":\n    pass\n')
    assert not _switches('if dataset.kind == "text" or claimed.dataset_kind == "text":\n    pass\n')


def test_no_module_outside_the_kinds_switches_on_a_kind_s_name():
    offenders = []
    for root in ("app", "workers"):
        for path in sorted((PROJECT_ROOT / root).rglob("*.py")):
            rel = path.relative_to(PROJECT_ROOT).as_posix()
            if not rel.startswith(OWN):
                offenders += [f"{rel} {hit}" for hit in _switches(path.read_text())]
    names = "|".join(sorted(UNIQUE))
    quoted = re.compile(rf"""['"]({names})['"]""")
    for path in sorted((PROJECT_ROOT / "app" / "web").rglob("*")):
        if path.suffix in (".html", ".js"):
            offenders += [f"{path.name}: {m.group(0)}" for m in quoted.finditer(path.read_text())]
    assert not offenders, "read the kind's spec instead:\n" + "\n".join(offenders)


def test_no_kind_name_is_written_in_platform_code():
    """The grep of issue 13: outside the built-in kinds' own spec and trainer modules (and the modules
    those share), no file of the platform names a model kind, in code, comments or templates. ("text" is
    also a dataset kind and an input, so only the other names are searched.)"""
    own = re.compile(r"^(app/kinds/(mlp|cnn|rnn|text|word2vec|hierarchical|common)\.py"
                     r"|workers/trainers/(mlp|cnn|rnn|text|word2vec|hierarchical|text_layers|keras_common)\.py)$")
    words = sorted(UNIQUE - {"attention"} | {"lstm", "gru"})
    pattern = re.compile(rf"(?i)(?<![a-z])({'|'.join(words)})(?![a-z])")
    hits = []
    for root in ("app", "workers", "trainyard"):
        for path in sorted((PROJECT_ROOT / root).rglob("*")):
            rel = path.relative_to(PROJECT_ROOT).as_posix()
            if path.suffix not in (".py", ".html", ".js") or own.match(rel):
                continue
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if pattern.search(line.replace("load_word2vec_format", "")):  # gensim's name for a file format
                    hits.append(f"{rel}:{n}: {line.strip()}")
    assert not hits, "\n".join(hits)
