"""The OpenAPI links of the description (app/web/api/openapi.py): which response feeds which request.

A link says where a client finds the values for its next call: the job a submission created, the first
dataset of a listing, the version an alias should point at. Clients may follow them; schemathesis'
stateful tests (tests/api/test_openapi_stateful.py) do, so they create an object, then read, change and
delete it, instead of calling each operation with made-up ids.
"""
from __future__ import annotations

from typing import Any

S = dict[str, Any]


def _ref(path: str, method: str) -> str:
    """An operationRef: a JSON pointer to the operation (``/`` in the path escaped as ``~1``)."""
    return f"#/paths/{path.replace('~', '~0').replace('/', '~1')}/{method}"


def _link(path: str, method: str, description: str, body: S | None = None, **parameters: str) -> S:
    link: S = {"operationRef": _ref(path, method), "description": description, "parameters": parameters}
    if body is not None:
        link["requestBody"] = body
    return link


def _dataset(source: str) -> S:
    found = {"name": f"$response.body#{source}/name", "version": f"$response.body#{source}/version"}
    return {"GetDataset": _link("/datasets/{name}/versions/{version}", "get", "The dataset version", **found),
            "PreviewDataset": _link("/datasets/{name}/versions/{version}/preview", "get", "Its first rows",
                                    **found),
            "DatasetVersions": _link("/datasets/{name}", "get", "Every version of its name", name=found["name"])}


def _job(source: str) -> S:
    job_id = f"$response.body#{source}/id"
    return {"GetJob": _link("/jobs/{job_id}", "get", "The job", job_id=job_id),
            "JobEvents": _link("/jobs/{job_id}/events", "get", "Its timeline", job_id=job_id),
            "CancelJob": _link("/jobs/{job_id}/cancel", "post", "Cancel it", job_id=job_id)}


def _schedule(source: str) -> S:
    schedule_id = f"$response.body#{source}/id"
    one = "/schedules/{schedule_id}"
    return {"GetSchedule": _link(one, "get", "The schedule", schedule_id=schedule_id),
            "EditSchedule": _link(one, "patch", "Edit it", schedule_id=schedule_id),
            "PauseSchedule": _link(f"{one}/pause", "post", "Pause it", schedule_id=schedule_id),
            "ResumeSchedule": _link(f"{one}/resume", "post", "Resume it", schedule_id=schedule_id),
            "DeleteSchedule": _link(one, "delete", "Delete it", schedule_id=schedule_id)}


def _model(name: str) -> S:
    return {"ListVersions": _link("/models/{name}/versions", "get", "The model's versions", name=name),
            "GetAliases": _link("/models/{name}/aliases", "get", "Its aliases", name=name)}


def _version(source: str) -> S:
    found = {"name": f"$response.body#{source}/model_name", "version": f"$response.body#{source}/version"}
    return {"GetVersion": _link("/models/{name}/versions/{version}", "get", "The version", **found),
            "DownloadArtifact": _link("/models/{name}/versions/{version}/artifacts/{filename}", "get",
                                      "Its first artifact", filename=f"$response.body#{source}/artifacts/0/name",
                                      **found),
            "Promote": _link("/models/{name}/aliases/{alias}", "post", "Point an alias at it", name=found["name"],
                             body={"version": found["version"], "reason": "promoted by a link"}),
            "Archive": _link("/models/{name}/versions/{version}/archive", "post", "Archive it", **found)}


def _webhook(source: str) -> S:
    hook_id = f"$response.body#{source}/id"
    return {"Deliveries": _link("/webhooks/deliveries", "get", "Its delivery log", webhook=hook_id),
            "DeleteWebhook": _link("/webhooks/{hook_id}", "delete", "Disable it", hook_id=hook_id)}


LINKS: dict[tuple[str, str, str], S] = {
    ("/datasets", "post", "201"): _dataset(""),
    ("/datasets", "get", "200"): _dataset("/items/0"),
    ("/datasets/{name}", "get", "200"): _dataset("/items/0"),
    ("/jobs", "post", "201"): _job(""),
    ("/jobs", "post", "200"): _job(""),
    ("/jobs", "get", "200"): _job("/items/0"),
    ("/jobs/{job_id}/cancel", "post", "200"): _job(""),
    ("/jobs/{job_id}/cancel", "post", "202"): _job(""),
    ("/models", "get", "200"): _model("$response.body#/items/0/name"),
    ("/models/{name}/versions", "get", "200"): _version("/items/0"),
    ("/models/{name}/versions/{version}", "get", "200"): _version(""),
    ("/models/{name}/aliases/{alias}", "post", "200"): {
        "Rollback": _link("/models/{name}/aliases/{alias}/rollback", "post", "Undo the move",
                          body={"reason": "rolled back by a link"}, name="$request.path.name",
                          alias="$request.path.alias"),
        **_model("$request.path.name")},
    ("/schedules", "post", "201"): _schedule(""),
    ("/schedules", "get", "200"): _schedule("/items/0"),
    ("/schedules/{schedule_id}", "patch", "200"): _schedule(""),
    ("/schedules/{schedule_id}/pause", "post", "200"): _schedule(""),
    ("/webhooks", "post", "201"): _webhook(""),
    ("/webhooks", "get", "200"): _webhook("/items/0"),
}


def add_links(paths: S) -> S:
    """``paths`` with each response in LINKS given its links (a test checks every link names an operation)."""
    for (path, method, status), links in LINKS.items():
        paths[path][method]["responses"][status] = {**paths[path][method]["responses"][status], "links": links}
    return paths
