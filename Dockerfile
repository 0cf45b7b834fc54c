# Minimal image; issue 7 hardens it (multi-stage, non-root, healthcheck).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY index ./index
RUN pip install --no-cache-dir .
ENV QUOTEBOT_DATA_DIR=/data
VOLUME /data
ENTRYPOINT ["quotebot"]
CMD ["run"]
