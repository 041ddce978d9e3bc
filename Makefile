# The two commands of README.md: `make run` and `make test`. Everything else is what they use.
SHELL := /bin/bash
BUILD_DIR := build
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8080
DATA ?= ./data
export CCACHE_DIR ?= $(HOME)/.cache/ccache
# One cache for every checkout of the project (README: Builds).
export CCACHE_BASEDIR ?= $(CURDIR)
export CCACHE_NOHASHDIR ?= 1

.PHONY: all deps deps-test build build-native build-web wheel wheel-test run test test-native test-api test-sdk test-web bench fuzz venv clean format

all: build

deps:
	@scripts/install-deps.sh core

deps-test:
	@scripts/install-deps.sh test

build-native: deps
	@[ -f $(BUILD_DIR)/build.ninja ] || cmake --preset dev
	@cmake --build $(BUILD_DIR)

build-web: deps
	@if [ -f web/package.json ]; then scripts/build-web.sh; fi

build: build-native build-web

# A platform wheel of the SDK carrying the binary and the web UI (pip install dist/wanllmdb-*.whl).
wheel: deps
	@scripts/build-wheel.sh

# The wheel installed into a fresh venv with the build tree hidden (tests/wheel; builds the wheel
# first, so slow the first time). `make test` runs the same suite on a wheel of the dev build.
wheel-test: deps-test build-web venv
	$(PY) -m pytest -q tests/wheel

run: build
	$(BUILD_DIR)/wanllmdb server --listen 127.0.0.1:$(PORT) --data $(DATA) --web web/dist

venv: deps
	@scripts/make-venv.sh $(VENV)

test: deps-test build venv
	@scripts/run-tests.sh

test-native: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j2

test-api: build venv
	$(PY) -m pytest -q tests/api

test-sdk: build venv
	$(PY) -m pytest -q sdk/python/tests

bench: deps-test build venv
	@scripts/run-bench.sh

# libFuzzer targets (tests/fuzz): each until 10M executions or its time limit (a table in
# scripts/run-fuzz.sh, hours in all); FUZZ_SECONDS sets one limit for all, e.g. make fuzz FUZZ_SECONDS=30
fuzz:
	@scripts/install-deps.sh fuzz
	@$(if $(FUZZ_SECONDS),FUZZ_SECONDS=$(FUZZ_SECONDS) )scripts/run-fuzz.sh

format:
	@scripts/install-deps.sh format
	clang-format -i $$(git ls-files 'src/*.cpp' 'src/*.h' 'tests/*.cpp' 'bench/*.cpp')

clean:
	rm -rf $(BUILD_DIR) build-asan build-fuzz build-wheel
