# One image for the web server, the workers and beat; docker-compose.yml picks the command.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    NUMBA_CACHE_DIR=/app/var/numba-cache \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# ffmpeg decodes mp3/m4a previews; libsndfile is used by soundfile for wav/flac/ogg.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg libsndfile1 rubberband-cli curl \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml ./
RUN pip install . && pip install --no-deps musicnn==0.1.0 BeatNet==1.1.3

COPY . .
# Export the musicnn taggers to ONNX now (worker.backbone.serving), so workers start without TensorFlow, and
# compile librosa's numba functions into NUMBA_CACHE_DIR (worker.warm), which the user below owns:
# numba only uses a cache folder it can write to.
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput --verbosity 0 \
 && python -m worker.backbone.serving \
 && python -m worker.warm \
 && useradd --create-home --uid 1000 sevenfour \
 && mkdir -p /app/var /data/media \
 && chown -R sevenfour /app/var /data

USER sevenfour
EXPOSE 8000
CMD ["gunicorn", "sevenfour_site.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
