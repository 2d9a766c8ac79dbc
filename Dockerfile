# One image for web, worker and beat (CPU build of TensorFlow; see docs/operations.md for GPU hosts).
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=2
WORKDIR /srv/trainyard
COPY requirements.lock .
RUN pip install --no-cache-dir -r requirements.lock
# GPU image (compose's worker-gpu): TENSORFLOW="tensorflow[and-cuda]==2.21.0" replaces the CPU build.
ARG TENSORFLOW=""
RUN if [ -n "$TENSORFLOW" ]; then pip uninstall -y tensorflow-cpu && pip install --no-cache-dir "$TENSORFLOW"; fi
COPY . .
# The project itself: its six model kinds are entry points, like any kind package (docs/kinds.md).
# A team's kind packages go in the same image: KIND_PACKAGES="trainyard-churn==1.2 ./kinds/foo" (pip specs,
# or paths inside the build context); web, workers and beat then all have the same kinds.
ARG KIND_PACKAGES=""
RUN pip install --no-cache-dir --no-deps -e . && \
    if [ -n "$KIND_PACKAGES" ]; then pip install --no-cache-dir $KIND_PACKAGES; fi
RUN useradd --create-home trainyard && mkdir -p /data/models_store && chown -R trainyard /data /srv/trainyard
USER trainyard
EXPOSE 5000
CMD ["granian", "--interface", "wsgi", "--factory", "--host", "0.0.0.0", "--port", "5000", "--workers", "2", "--blocking-threads", "4", "--respawn-failed-workers", "--workers-kill-timeout", "3", "--access-log", "app:create_app"]
