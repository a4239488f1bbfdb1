# Two commands: `make run` sets everything up and starts ModelDeck; `make test` sets up and runs every check.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: run test setup llama-server lint bench chromium

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP)

# Finds a llama-server (MODELDECK_LLAMA_SERVER, PATH, cache) or builds one from source (~13 min on 2 cores, once).
llama-server: setup
	$(PY) -m runner.llama_build

# Serves the UI at once; without a llama-server the runner builds one in the background (every page shows it).
run: setup
	$(PY) main.py $(ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy .

# The browser tests drive Debian's Chromium through chromedriver: installed once, when missing (CI runs as root).
chromium:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update && $$SUDO apt-get install -y --no-install-recommends chromium chromium-driver; fi

test: llama-server lint chromium
	$(VENV)/bin/pytest -q --durations=15

bench: llama-server
	for script in bench/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done
