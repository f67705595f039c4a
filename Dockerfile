# syntax=docker/dockerfile:1
#
# The runtime image of the composition function. Crossplane's package runtime
# mounts mTLS certificates and sets TLS_SERVER_CERTS_DIR; the entrypoint takes no
# other argument. Build and runtime stages use the same Python image, so the venv's
# interpreter links (/venv/bin/python -> /usr/local/bin/python3) resolve in both.

FROM python:3.11.15-slim-bookworm AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src

# A venv without pip: the image's own pip installs into it, so none ships at runtime.
RUN python -m venv --without-pip /venv

COPY pyproject.toml README.md constraints.txt ./
COPY function/ function/

# pip builds a wheel of the project from pyproject.toml and installs it with its
# dependencies, pinned by constraints.txt so that rebuilds give the same image.
# Bytecode is compiled here, with hashes that stay valid after COPY, because the
# runtime file system is read-only and nothing may write .pyc files there.
RUN python -m pip --python /venv/bin/python install --no-cache-dir -c constraints.txt . \
    && python -m compileall -q -j 0 --invalidation-mode unchecked-hash /venv/lib \
    && /venv/bin/function-vcluster-environment serve --help

FROM python:3.11.15-slim-bookworm AS runtime

ENV PATH=/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

COPY --from=build /venv /venv

# 65532: the conventional "nonroot" user; numeric so Kubernetes' runAsNonRoot can verify it.
USER 65532:65532

EXPOSE 9443

ENTRYPOINT ["/venv/bin/function-vcluster-environment", "serve"]
