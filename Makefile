# Two commands: `make run` sets everything up and starts ModelDeck; `make test` sets up and runs every check.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: run test setup llama-server lint bench

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP)

# Finds a llama-server (flag, MODELDECK_LLAMA_SERVER, PATH, cache) or builds one from source (~5 min, once).
llama-server: setup
	$(PY) -c "from runner.binary import resolve_binary; print(resolve_binary())"

run: llama-server
	$(PY) main.py $(ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy .

test: llama-server lint
	$(VENV)/bin/pytest -q

bench: llama-server
	for script in bench/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done
