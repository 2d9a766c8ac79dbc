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
RUN useradd --create-home trainyard && mkdir -p /data/models_store && chown -R trainyard /data /srv/trainyard
USER trainyard
EXPOSE 5000
CMD ["gunicorn", "--bind", "0.0.0.0:5000", "--workers", "2", "app:create_app()"]
