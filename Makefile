# Two commands: `make run` sets everything up and starts ModelDeck; `make test` sets up and runs every check.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: run test setup llama-server lint bench chromium css

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

# The Tailwind utilities the pages use, built ahead into ui/styles/tailwind.css (committed): run after changing
# classes in ui/ (tests/test_stylesheet.py says when it is needed). Needs Node.js; Tailwind's CLI, the version
# NiceGUI bundles, goes in a cache folder once.
TAILWIND := $(HOME)/.cache/modeldeck/tailwind-4.1.13
css:
	@[ -x $(TAILWIND)/node_modules/.bin/tailwindcss ] || npm install --prefix $(TAILWIND) --no-audit --no-fund \
		@tailwindcss/cli@4.1.13 tailwindcss@4.1.13
	NODE_PATH=$(TAILWIND)/node_modules $(TAILWIND)/node_modules/.bin/tailwindcss --minify \
		-i ui/styles/tailwind.input.css -o ui/styles/tailwind.css

# A worker per core, at most 4; a file's tests stay on one worker, so its module fixtures (a running app) start once.
test: llama-server lint chromium
	$(VENV)/bin/pytest -q --durations=15 --numprocesses=auto --maxprocesses=4 --dist=loadfile

bench: llama-server
	for script in bench/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done
