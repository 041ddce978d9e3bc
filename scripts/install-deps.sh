#!/usr/bin/env bash
# Installs what the project needs on Debian 12, and only what is missing, so a second run is
# a no-op that takes a second. Called by `make build`, `make run` and `make test`.
# Usage: scripts/install-deps.sh [core|test|fuzz|format]   (test adds Chromium, PostgreSQL, wrk and valgrind
# for the benches, and what fuzz adds: clang and its libFuzzer runtime for the fuzz preset)
set -euo pipefail
want=(build-essential cmake ninja-build ccache pkg-config libboost-dev libsqlite3-dev libpq-dev libssl-dev
  libsimdjson-dev rapidjson-dev libzstd-dev zlib1g-dev libre2-dev libcli11-dev libgtest-dev libbenchmark-dev
  libprotobuf-dev protobuf-compiler libsnappy-dev
  python3 python3-venv nodejs npm)
if [ "${1:-core}" = test ]; then
  want+=(chromium postgresql wrk valgrind)
fi
if [ "${1:-core}" = test ] || [ "${1:-core}" = fuzz ]; then
  want+=(clang libclang-rt-14-dev)
fi
[ "${1:-core}" = format ] && want+=(clang-format)
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Node and Python may come from outside apt (nvm, pyenv): accept any working binary.
command -v node >/dev/null && missing=("${missing[@]/nodejs}") && missing=("${missing[@]/npm}")
command -v python3 >/dev/null && python3 -c 'import venv' 2>/dev/null && missing=("${missing[@]/python3-venv}") && missing=("${missing[@]/python3}")
read -r -a missing <<<"${missing[*]}"
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The web build (Vite 7) needs Node >= 20.19; Debian 12's own nodejs is 18. The npm registry
# carries Node itself (the `node` package), so an old Node is replaced from there.
node_ok() { node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||a===22&&b>=12||a===20&&b>=19?0:1)' 2>/dev/null; }
if ! node_ok; then
  echo "install-deps: Node $(node --version 2>/dev/null || echo missing) is too old for the web build; installing Node 22 from the npm registry"
  npm install -g --no-audit --no-fund --loglevel=error node@22
  hash -r
  node_ok || { echo "install-deps: still no Node >= 20.19 on PATH ($(command -v node)); install it and retry" >&2; exit 1; }
fi
