#!/usr/bin/env bash
# The test virtualenv: pytest and a WebSocket client for the API tests, plus the SDK (editable).
# The SDK itself needs nothing but the standard library.
set -euo pipefail
venv=${1:-.venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
stamp="$venv/.deps-v1"
if [ ! -f "$stamp" ]; then
  "$venv/bin/pip" install -q --disable-pip-version-check pytest==8.3.4 websockets==13.1
  touch "$stamp"
fi
# The other ingest protocols' real clients (OTLP/HTTP, Loki push: JSON and snappy protobuf),
# the OpenAPI validator, and the Chromium check of the pip-installed UI uses web/'s playwright-core.
stamp="$venv/.deps-ecosystem-v1"
if [ ! -f "$stamp" ]; then
  "$venv/bin/pip" install -q --disable-pip-version-check opentelemetry-sdk==1.29.0 \
    opentelemetry-exporter-otlp-proto-http==1.29.0 python-logging-loki==0.3.1 protobuf==5.29.3 \
    cramjam==2.9.1 openapi-spec-validator==0.7.1
  touch "$stamp"
fi
if [ -f sdk/python/pyproject.toml ]; then
  "$venv/bin/pip" install -q --disable-pip-version-check --no-deps -e sdk/python >/dev/null
fi
