# cytonet: `make run` installs and runs the demo; `make test` installs and runs the tests.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.cytonet-installed

.PHONY: install run test bench clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps petabtests==0.0.1  # the PEtab test suite's cases (data; its pysb extra is not needed)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

run: install
	$(VENV)/bin/cytonet demo --out results/demo

test: install
	$(PY) -m pytest -q -n 2 --dist loadfile

bench: install
	$(PY) benchmarks/kb.py
	$(PY) benchmarks/engine.py
	$(PY) benchmarks/population.py --quick

clean:
	rm -rf $(VENV) results .pytest_cache
