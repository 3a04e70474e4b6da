# A newcomer needs two commands: `make run` and `make test` (see README.md).
PORT ?= 5000
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := APP_ENV=sandbox PORT=$(PORT) $(BIN)/flask --app app
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
WORKERS ?= 2

.PHONY: run test test-only install install-test chromium migrate demo-data bench clean demo fonts-ja

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

# The pharmacy-system client package (clients/python/) too: its tests run against the live server.
$(VENV)/.installed-test: pyproject.toml clients/python/pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[test]' -e clients/python
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# Debian's Chromium: Playwright's own browser download cannot work on these machines.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "Installing Debian's chromium (once)..."; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium; \
	fi

migrate: install
	$(FLASK) db upgrade

demo-data: migrate
	$(FLASK) demo load

run: demo-data
	@echo "Serving in sandbox mode on http://localhost:$(PORT), with the webhook worker  (Ctrl-C stops both)"
	@# web.gunicorn_conf: every log line JSON on stdout (gunicorn's too), no access log (the app
	@# logs one line per request, without concrete paths). The webhook delivery worker runs beside
	@# it and stops with it (a background job ignores Ctrl-C: the trap ends it).
	$(FLASK) webhooks deliver & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	APP_ENV=sandbox PORT=$(PORT) $(BIN)/gunicorn -c python:web.gunicorn_conf --no-control-socket \
		--workers $(WORKERS) --bind 127.0.0.1:$(PORT) 'app:create_app()'

test: install-test chromium test-only

# PYTEST_ARGS narrows a run (.ci/run's PostgreSQL pass: -m "not database_independent").
test-only:
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# A Japanese font for Chromium, so the demo's screenshots show text rather than boxes.
fonts-ja:
	@if ! fc-list :lang=ja 2>/dev/null | grep -q .; then \
		echo "Installing a Japanese font (fonts-ipafont-gothic, once)..."; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends fonts-ipafont-gothic; \
	fi

# Scripted walkthrough in real Chromium (own server, fresh database): numbered screenshots in
# $(DEMO_OUT)/, and the README's images in docs/images/ regenerated.
DEMO_OUT ?= demo-screenshots
demo: install-test chromium fonts-ja
	$(BIN)/python -m e2e.walkthrough --out $(DEMO_OUT) --docs-images docs/images

bench: install
	@for script in bench/[a-z]*.py; do case $$script in bench/bare_*) continue;; esac; \
		echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) instance .pytest_cache
