# deeplook: the app and API in one container. Data (SQLite, checkpoints, dataset cache) lives in /data.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DEEPLOOK_DATA_DIR=/data \
    DEEPLOOK_CACHE_DIR=/data/cache \
    DEEPLOOK_HOST=0.0.0.0

RUN apt-get update \
    && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 deeplook \
    && mkdir -p /data /srv/deeplook \
    && chown deeplook:deeplook /data /srv/deeplook

WORKDIR /srv/deeplook
COPY --chown=deeplook:deeplook . .
USER deeplook
# The same install step as `make run` (and CI's `make test`): a venv with the project installed.
RUN make install
ENV PATH=/srv/deeplook/.venv/bin:$PATH

VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=4)"
CMD ["deeplook", "serve", "--host", "0.0.0.0", "--port", "8000"]
