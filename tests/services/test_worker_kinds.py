"""Which kinds the live workers have: the submit check and the workers page's warnings."""
from __future__ import annotations

from app.kinds import KINDS
from app.models import WorkerRow
from app.services.worker_kinds import kind_report, unavailable_kind


def _row(name: str, queues: list[str], installed: dict | None) -> WorkerRow:
    kinds = None if installed is None else {"installed": installed, "broken": []}
    return WorkerRow(name=name, host="h", pid=1, queues=queues, gpus=[], kinds=kinds)


def _ours(*names: str) -> dict:
    return {n: KINDS.installed(n).to_json() for n in names}


def test_a_kind_no_live_worker_on_the_queue_has_is_named():
    cpu = _row("a@h", ["cpu"], _ours("mlp"))
    gpu = _row("b@h", ["gpu"], _ours("mlp", "cnn"))
    assert unavailable_kind([cpu, gpu], ["mlp"], "cpu") is None
    why = unavailable_kind([cpu, gpu], ["cnn"], "cpu")
    assert "'cnn'" in why and "queue 'cpu'" in why and "a@h" in why and "b@h" not in why
    assert unavailable_kind([cpu, gpu], ["cnn"], "gpu") is None
    # A staged kind needs its stage's kind too.
    assert "'word2vec'" in unavailable_kind([gpu], ["word2vec", "cnn"], "gpu")


def test_no_live_worker_or_none_that_says_means_the_job_waits():
    assert unavailable_kind([], ["mlp"], "cpu") is None
    assert unavailable_kind([_row("old@h", ["cpu"], None)], ["mlp"], "cpu") is None


def test_the_workers_page_warns_where_versions_or_kinds_differ():
    theirs = _ours(*KINDS)
    theirs["mlp"] = {"package": "trainyard", "version": "9.9.9"}
    theirs["extra"] = {"package": "trainyard-extra", "version": "1.0"}
    del theirs["cnn"]
    report = kind_report(_row("w@h", ["cpu"], theirs))
    text = "\n".join(report["kind_warnings"])
    assert "kind 'mlp': the web has trainyard" in text and "this worker has trainyard 9.9.9" in text
    assert "kind 'extra' (trainyard-extra 1.0) is not installed on the web" in text
    assert "kind 'cnn' is installed on the web but not on this worker" in text
    assert kind_report(_row("same@h", ["cpu"], _ours(*KINDS)))["kind_warnings"] == []
