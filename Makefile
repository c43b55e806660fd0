# Two commands a newcomer needs: `make site` and `make test`. Both install what is missing first.
VENV   := .venv
BIN    := $(VENV)/bin
export NO_MKDOCS_2_WARNING := 1

.PHONY: site test bootstrap lint bench serve dist clean

bootstrap:
	@scripts/bootstrap.sh

# Korean first: its build cleans site/; the English edition then builds into site/en.
site: bootstrap
	$(BIN)/mkdocs build --strict
	$(BIN)/mkdocs build --strict -f mkdocs.en.yml

test: bootstrap
	$(BIN)/pytest

lint: bootstrap
	$(BIN)/ruff check snippet_runner tests scripts
	$(BIN)/mypy

bench: bootstrap
	$(BIN)/python scripts/bench_build.py
	$(BIN)/python scripts/bench_sandbox.py
	$(BIN)/python scripts/bench_serve.py
	$(BIN)/python scripts/bench_scale.py

serve: bootstrap
	$(BIN)/mkdocs serve

# The sdist and wheel a user installs (the plugin's CSS/JS inside), checked as PyPI would.
dist: bootstrap
	rm -rf dist
	$(BIN)/python -m build --outdir dist
	$(BIN)/twine check --strict dist/*

clean:
	rm -rf site .cache dist
