"""The web process: everything Granian runs (``--factory app:create_app``), and nothing else.

``factory.py`` builds the Flask app; ``pages/`` is the dashboard, ``api/`` the JSON API under /api/v1,
``auth/`` sign-in, tokens and the access table checked on every request, ``serving/`` the predict API's
input checks and model loading (TensorFlow on the first prediction only). ``http.py``, ``errors.py``,
``metrics.py`` and ``cli.py`` (``flask --app app trainyard ...``) are the glue they share; ``static/``
is served at /static. The platform core (the rest of ``app/``) never imports this package's Flask side,
and nothing here imports ``workers``. Importing this package itself loads nothing.
"""
