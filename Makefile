# Hearth: `make demo` serves the system with demo data; `make test` runs the tests.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed
ASSETS := static_build/vendor/.installed
export DJANGO_SETTINGS_MODULE ?= config.settings.local

.PHONY: setup demo test check lint bench bench-smoke assets messages browser-deps fonts clean

setup: fonts $(STAMP) $(ASSETS) messages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

# Front-end packages come from npm at setup and are copied into static files; nothing loads from a CDN.
$(ASSETS): package.json
	npm install --no-audit --no-fund --silent
	mkdir -p static_build/vendor
	cp node_modules/bootstrap/dist/css/bootstrap.min.css node_modules/bootstrap/dist/css/bootstrap.min.css.map \
	   node_modules/bootstrap/dist/js/bootstrap.bundle.min.js node_modules/bootstrap/dist/js/bootstrap.bundle.min.js.map \
	   node_modules/htmx.org/dist/htmx.min.js node_modules/echarts/dist/echarts.min.js static_build/vendor/
	touch $(ASSETS)

assets: $(ASSETS)

messages: $(STAMP)
	$(BIN)/python manage.py compilemessages --ignore '.venv/*' --ignore 'node_modules/*' -v 0

# The CJK font the PDF notices embed (WeasyPrint), from Debian's packages, at setup only and only when missing.
fonts:
	@fc-list 2>/dev/null | grep -qi 'Noto Sans CJK' || (apt-get update -qq && apt-get install -y -qq fonts-noto-cjk >/dev/null) \
	  || (echo "fonts-noto-cjk is needed for the PDF notices: install it with apt-get as root" >&2; exit 1)

# Chromium for the browser test, from Debian's packages, installed only when missing.
browser-deps:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)
	@fc-list 2>/dev/null | grep -qi 'Noto Sans CJK' || (apt-get install -y -qq fonts-noto-cjk >/dev/null || true)

demo: setup
	HEARTH_DEMO=1 $(BIN)/python manage.py migrate --no-input -v 0
	HEARTH_DEMO=1 $(BIN)/python manage.py collectstatic --no-input -v 0
	HEARTH_DEMO=1 $(BIN)/python manage.py load_demo
	HEARTH_DEMO=1 PORT=$(PORT) ./scripts/serve

test: setup browser-deps
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py makemigrations --check --dry-run -v 1
	$(BIN)/lint-imports

check: setup lint test

bench: setup
	$(BIN)/python -m bench.run --persons $${PERSONS:-1000000}

bench-smoke: setup
	$(BIN)/python -m bench.run --persons 10000

clean:
	rm -rf $(VENV) node_modules static_build var
