# Quotebot's production image.
#
#   docker build -t quotebot .
#   docker run -d -p 3000:3000 -v quotebot-data:/data \
#       -e SLACK_BOT_TOKEN=… -e SLACK_SIGNING_SECRET=… quotebot
#
# Two stages on the same slim Python: "builder" installs the dependencies and
# the package into a virtual environment at /opt/venv; the final stage copies
# only that venv, so no pip cache, build backend or source tree ships. Both
# stages must use the same base: the venv's interpreter is a symlink to it.
# docker-compose.yml runs the whole thing (PostgreSQL, ingest, two replicas, proxy).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src

# The dependencies first, from the lock file alone (exact versions, each file's
# hash checked; `bash .ci/lock` regenerates it from pyproject.toml), so that this
# (slow) layer is rebuilt only when they change, not at every change of the code.
# Every compiled dependency has a manylinux wheel, so no compiler is needed.
COPY pyproject.toml requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

# Then the package itself (README.md is the project's readme, so the build needs it).
COPY README.md LICENSE ./
COPY bot ./bot
COPY handlers ./handlers
COPY index ./index
# warm(): the search engine's compiled code goes into numba's cache in the venv,
# so a container's first query does not wait seconds for the compiler.
RUN pip wheel --no-deps --wheel-dir /wheels . \
 && pip install --no-deps /wheels/*.whl \
 && quotebot --help > /dev/null \
 && python -c "from index.engine import BM25Index; BM25Index.warm()"


FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="quotebot" \
      org.opencontainers.image.description="A Slack app that quotes the podcasts and talks your team cares about."

# A fixed, unprivileged uid/gid (numeric below, so that runAsNonRoot-style
# checks can verify it), and /data owned by it: a new named volume mounted
# there copies this ownership.
ARG QUOTEBOT_UID=10001
RUN groupadd --system --gid "${QUOTEBOT_UID}" quotebot \
 && useradd --system --uid "${QUOTEBOT_UID}" --gid quotebot --create-home --home-dir /home/quotebot \
        --shell /usr/sbin/nologin quotebot \
 && mkdir -p /data \
 && chown quotebot:quotebot /data \
 && chmod 0750 /data

COPY --from=builder /opt/venv /opt/venv

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    QUOTEBOT_DATA_DIR=/data \
    PORT=3000

# The index (and, without QUOTEBOT_DATABASE_URL, the SQLite library) lives here.
VOLUME ["/data"]
WORKDIR /home/quotebot
EXPOSE 3000

# Slim images have no curl: Python asks /healthz. urlopen raises (exit 1) on a
# refused connection, a timeout or any non-2xx answer. Serving by Socket Mode
# (SLACK_APP_TOKEN set) opens no HTTP port, so there the check fails.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"]

# serve stops gracefully on SIGTERM or SIGINT (it finishes the requests in
# flight and releases its digest claims); SIGINT also stops the other
# commands (ingest, run) cleanly when they run as PID 1.
STOPSIGNAL SIGINT

USER ${QUOTEBOT_UID}:${QUOTEBOT_UID}
ENTRYPOINT ["quotebot"]
CMD ["serve"]
