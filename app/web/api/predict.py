"""POST /api/v1/models/<name>/predict: forwarded to the serve process (app/serve).

The web checks who is asking (the guard and the access table ran before this handler) and hands the
body on; the serve process holds the models, so the web never loads TensorFlow. A serve process that
is down or too slow is a 503 saying so, never a 500.
"""
from __future__ import annotations

import time
from urllib.parse import quote

import requests
from flask import Response, g, request

from app.domain.errors import Unavailable
from app.web.api import bp
from app.web.api.parse import json_object
from app.web.http import runtime
from app.web.metrics import observe_predict

_http = requests.Session()  # keeps connections to the serve process open between requests


@bp.post("/models/<name>/predict")
def predict_endpoint(name: str):
    """{"instances": [...]} -> predictions from the ``production`` version (``?alias=``, ``?version=``).

    A kind that takes words (``Input.WORDS``) answers {"most_similar": [words], "topn": n}
    and {"vectors": [words]} instead. The serve process follows alias moves within a second or two.
    """
    json_object()  # a body that is not a JSON object is refused here, as on every other route
    settings = runtime().settings
    user = g.get("user")
    params = {k: request.args[k] for k in ("alias", "version") if k in request.args}
    started = time.perf_counter()
    try:
        answer = _http.post(f"{settings.serve_url.rstrip('/')}/predict/{quote(name, safe='')}", params=params,
                            data=request.get_data(), timeout=settings.serve_timeout_s,
                            headers={"Content-Type": "application/json", "X-Serve-Key": settings.serve_key,
                                     "X-Trainyard-Actor": user.username if user else "",
                                     "X-Forwarded-For": request.remote_addr or ""})
    except requests.RequestException as exc:
        raise Unavailable(f"the serve process at {settings.serve_url} did not answer ({type(exc).__name__}); "
                          "predictions are unavailable until it is back") from None
    if answer.status_code == 200:
        observe_predict(name, time.perf_counter() - started)
    headers = {"Retry-After": answer.headers["Retry-After"]} if "Retry-After" in answer.headers else {}
    return Response(answer.content, status=answer.status_code, mimetype="application/json", headers=headers)
