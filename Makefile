# cytonet: `make run` installs and runs the demo; `make test` installs and runs the tests.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.cytonet-installed

.PHONY: install browser run test bench clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps petabtests==0.0.1  # the PEtab test suite's cases (data; its pysb extra is not needed)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

# The browser tests drive Debian's Chromium (never a downloaded browser build); installed once if missing.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { echo "installing Debian's chromium for the browser tests"; \
	    SUDO=$$([ "$$(id -u)" = 0 ] || echo "sudo -n"); \
	    ($$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null) || \
	    echo "could not install chromium: the browser tests will be skipped"; }

run: install
	$(VENV)/bin/cytonet demo --out results/demo
	@echo "Explore the network, scenarios, therapies and populations in a browser:"
	@echo "  $(VENV)/bin/cytonet serve --open"

test: install browser
	$(PY) -m pytest -q -n 2 --dist loadfile

bench: install
	$(PY) benchmarks/kb.py
	$(PY) benchmarks/engine.py
	$(PY) benchmarks/population.py --quick
	$(PY) benchmarks/web.py

clean:
	rm -rf $(VENV) results .pytest_cache
