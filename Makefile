# hhbc developer entry points. Each creates .venv and installs hhbc into it first.
#   make demo    build the bundled DS-CNN demo model, compile it for c906, run it under QEMU, compare
#   make test    the whole test suite
#   make bench   regenerate BENCHMARKS.md (instruction counts under QEMU)
#   make fuzz    the long fuzz run of `hhbc compile`, per format (docs/fuzzing.md)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_MODEL := build/kws_dscnn.onnx
PYTEST_ARGS ?=
FUZZ_RUNS ?= 10000
FUZZ_SECONDS ?= 0
FUZZ_JOBS ?= 1
FUZZ_FORMATS ?= onnx tflite pb prototxt caffemodel

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m hhbc.build --warm
	touch $@

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/make_kws_dscnn.py $(DEMO_MODEL)
	$(BIN)/hhbc run $(DEMO_MODEL) --target c906 -o build/demo_c906

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q -rs $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m hhbc.bench_report BENCHMARKS.md

fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzz.long --runs $(FUZZ_RUNS) --seconds $(FUZZ_SECONDS) --jobs $(FUZZ_JOBS) $(FUZZ_FORMATS)

clean:
	rm -rf build

.PHONY: setup demo test bench fuzz clean
