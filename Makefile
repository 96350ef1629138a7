# The project's commands. `make test` is what CI runs (.ci/run).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup example lint images test cluster cluster-binaries crds docs clean evidently bench-drift

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# The first command: the jobs' dependencies only (no test tools), then the bike-sharing example.
example: $(VENV)/.jobs-installed
	$(BIN)/kubedrift run examples/bike-sharing/driftcheck-local.yaml

$(VENV)/.jobs-installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[jobs]'
	touch $@

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The operator and jobs images, built with buildah from images/*/Dockerfile (cached by content
# under $$KUBEDRIFT_CACHE/images; see TESTING.md); prints each image's docker archive for containerd.
images: setup
	$(BIN)/python -m tests.cluster.images

# What the tests need is built before pytest starts, never inside a test: the cluster's binaries,
# the images (the real node runs them) and the Evidently venv (the compatibility tests need it).
test: lint cluster-binaries images evidently
	$(BIN)/pytest

# Build (or find in the cache) the cluster's binaries before any test runs: a cold build takes minutes.
cluster-binaries:
	tests/cluster/gobuild/build.sh >/dev/null

# Start the test cluster (control plane and a real node with kubedrift's images) and keep it up.
cluster: setup cluster-binaries images
	$(BIN)/python -m tests.cluster up

# Regenerate the CRDs in the chart from the resource models, and the models' table of
# scikit-learn's param constraints (the operator checks grids with it, without scikit-learn).
crds: setup
	$(BIN)/kubedrift crds
	$(BIN)/python -m kubedrift_jobs.train.param_table

# Regenerate the resource reference (docs/reference.md) from the resource models.
docs: setup
	$(BIN)/kubedrift docs

# Evidently 0.7 in its own venv (it needs pandas < 3): for the compatibility tests and the benchmark.
evidently:
	bash scripts/evidently-venv.sh

# The drift benchmark (not a test): see bench/README.md.
bench-drift: setup evidently
	$(BIN)/python bench/drift_bench.py

clean:
	rm -rf $(VENV) .venv-evidently build *.egg-info .pytest_cache .mypy_cache .ruff_cache
