# deeplook: the app and API in one container, installed from the wheel built in the first stage, so the
# image holds what users of the wheel get. Data (SQLite, checkpoints, dataset cache) lives in /data.
# The stages run scripts/wheel.sh, the same commands CI's package test (tests/package) runs.

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY requirements/uv.txt requirements/uv.txt
RUN python -m pip install --no-cache-dir --require-hashes -r requirements/uv.txt
COPY . .
RUN scripts/wheel.sh build /dist \
    && scripts/wheel.sh install /opt/deeplook /dist/deeplook-*.whl

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DEEPLOOK_DATA_DIR=/data \
    DEEPLOOK_CACHE_DIR=/data/cache \
    DEEPLOOK_HOST=0.0.0.0 \
    PATH=/opt/deeplook/bin:$PATH
RUN useradd --create-home --uid 10001 deeplook \
    && mkdir -p /data \
    && chown deeplook:deeplook /data
COPY --from=build /opt/deeplook /opt/deeplook
USER deeplook
WORKDIR /home/deeplook

VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=4)"
CMD ["deeplook", "serve", "--host", "0.0.0.0", "--port", "8000"]
