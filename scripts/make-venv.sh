#!/usr/bin/env bash
# The test virtualenv: pytest and a WebSocket client for the API tests, plus the SDK (editable),
# and for the capture corpus (tests/capture/corpus) the real libraries whose output is captured
# and pyte, the terminal emulator used as the oracle. The SDK itself needs nothing but the
# standard library.
set -euo pipefail
venv=${1:-.venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
stamp="$venv/.deps-v2"
if [ ! -f "$stamp" ]; then
  "$venv/bin/pip" install -q --disable-pip-version-check pytest==8.3.4 websockets==13.1
  "$venv/bin/pip" install -q --disable-pip-version-check pyte==0.8.2 tqdm==4.70.1 rich==13.9.4 \
    loguru==0.7.3 colorlog==6.12.0 absl-py==2.1.0 click==8.5.1
  touch "$stamp"
fi
# SDK capture tests (issue 9): the libraries users run, and a real Jupyter kernel.
stamp_sdk="$venv/.deps-sdk-capture-v1"
if [ ! -f "$stamp_sdk" ]; then
  "$venv/bin/pip" install -q --disable-pip-version-check rich==13.9.4 absl-py==2.1.0 \
    ipykernel==6.29.5 nbclient==0.10.2 nbformat==5.10.4
  touch "$stamp_sdk"
fi
# Operations tests (issue 12): a real Prometheus text-format parser for GET /metrics.
stamp_ops="$venv/.deps-ops-v1"
if [ ! -f "$stamp_ops" ]; then
  "$venv/bin/pip" install -q --disable-pip-version-check prometheus-client==0.21.1
  touch "$stamp_ops"
fi
# The other ingest protocols' real clients (OTLP/HTTP, Loki push: JSON and snappy protobuf),
# the OpenAPI validator, and the Chromium check of the pip-installed UI uses web/'s playwright-core.
stamp_eco="$venv/.deps-ecosystem-v1"
if [ ! -f "$stamp_eco" ]; then
  "$venv/bin/pip" install -q --disable-pip-version-check opentelemetry-sdk==1.29.0 \
    opentelemetry-exporter-otlp-proto-http==1.29.0 python-logging-loki==0.3.1 protobuf==5.29.3 \
    cramjam==2.9.1 openapi-spec-validator==0.7.1
  touch "$stamp_eco"
fi
# Two workers for the API and capture suites (scripts/run-tests.sh), for CI's time budget.
stamp_xdist="$venv/.deps-xdist-v1"
if [ ! -f "$stamp_xdist" ]; then
  "$venv/bin/pip" install -q --disable-pip-version-check pytest-xdist==3.6.1
  touch "$stamp_xdist"
fi
if [ -f sdk/python/pyproject.toml ]; then
  "$venv/bin/pip" install -q --disable-pip-version-check --no-deps -e sdk/python >/dev/null
fi
