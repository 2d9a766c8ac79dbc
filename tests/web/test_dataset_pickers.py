"""The new-job form offers only what the kind can train on; the hierarchical corpus is a dataset picker."""
from __future__ import annotations

import re

from tests.support import upload


def _options(html: str, select_id: str) -> list[tuple[str, bool]]:
    block = re.search(rf'<select id="{re.escape(select_id)}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return [(value, bool(selected)) for value, selected in
            re.findall(r'<option value="([^"]*)"\s*(selected)?', block)]


def test_scoring_only_datasets_are_marked_and_never_offered_for_training(sqlite_stack):
    c = sqlite_stack.client
    r = upload(c, "only-to-score", "tabular", b"id,a,b\nr1,1,2\nr2,3,4\n", purpose="scoring", key_column="id")
    assert r.status_code == 201, r.get_data(as_text=True)
    form = c.get("/jobs/new?kind=mlp").get_data(as_text=True)
    offered = [value for value, _ in _options(form, "dataset")]
    assert "iris:1" in offered and not any(v.startswith("only-to-score") for v in offered)
    listing = c.get("/datasets").get_data(as_text=True)
    row = next(line for line in listing.splitlines() if ">only-to-score<" in line)
    assert "scoring only" in row
    schedules = c.get("/schedules").get_data(as_text=True)
    assert ">iris<" in schedules and "only-to-score" not in schedules
    page = c.get("/datasets/only-to-score").get_data(as_text=True)
    assert "scoring only" in page and "Train on v1" not in page and "Score v1 with a model" in page


def test_hierarchical_corpus_is_a_picker_of_corpus_datasets(sqlite_stack):
    c = sqlite_stack.client
    form = c.get("/jobs/new?kind=hierarchical").get_data(as_text=True)
    corpus = _options(form, "params.corpus")
    assert ("lee_background:1", True) in corpus
    with sqlite_stack.runtime.session() as s:
        from app.services import datasets

        kinds = {f"{d.name}:{d.version}": d.kind for d in datasets.list_datasets(s)}
    assert corpus and all(kinds[value] == "corpus" for value, _ in corpus)
    assert all(kinds[value] == "text" for value, _ in _options(form, "dataset"))
