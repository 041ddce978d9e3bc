#!/usr/bin/env bash
# Builds the web UI into web/dist, reinstalling node_modules only when the lock file changed.
set -euo pipefail
cd web
if [ ! -f node_modules/.lock-stamp ] || ! cmp -s package-lock.json node_modules/.lock-stamp; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.lock-stamp
fi
npm run -s build
