"""POST /api/v1/models/<name>/predict: forwarded to the serve process (app/serve).

The web checks who is asking (the guard and the access table ran before this handler) and hands the
body on; the serve process holds the models, so the web never loads TensorFlow. A serve process that
is down or too slow is a 503 saying so, never a 500.
"""
from __future__ import annotations

import time
from urllib.parse import quote, urlencode

import urllib3
from flask import Response, g, request

from app.domain.errors import Unavailable
from app.web.api import bp
from app.web.api.parse import json_object
from app.web.http import runtime
from app.web.metrics import observe_predict

# urllib3's pool, not a requests.Session: the forward is on every prediction's path, and requests' own layer
# (hooks, cookies, proxy and netrc look-ups) cost 0.4 ms of the 0.8 ms a local call took (bench/RESULTS.md).
# Thread-safe; keeps connections to the serve process open between requests. No retries: a failure is a 503.
_http = urllib3.PoolManager(maxsize=16, retries=False)


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
    url = f"{settings.serve_url.rstrip('/')}/predict/{quote(name, safe='')}"
    url += f"?{urlencode(params)}" if params else ""
    try:
        answer = _http.request("POST", url, body=request.get_data(), timeout=settings.serve_timeout_s,
                               headers={"Content-Type": "application/json", "X-Serve-Key": settings.serve_key,
                                        "X-Trainyard-Actor": user.username if user else "",
                                        "X-Forwarded-For": request.remote_addr or ""})
    except urllib3.exceptions.HTTPError as exc:
        raise Unavailable(f"the serve process at {settings.serve_url} did not answer ({type(exc).__name__}); "
                          "predictions are unavailable until it is back") from None
    if answer.status == 200:
        observe_predict(name, time.perf_counter() - started)
    headers = {"Retry-After": answer.headers["Retry-After"]} if "Retry-After" in answer.headers else {}
    return Response(answer.data, status=answer.status, mimetype="application/json", headers=headers)
