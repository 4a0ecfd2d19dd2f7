# Makefile: top-level entry points: build, demo cluster, test suite (C is compiled in c_src/Makefile).

SHELL := /bin/bash
.DEFAULT_GOAL := all

.PHONY: all deps build demo demo-stop test unit integration sanitize erlang clean

all: build

# Install the Debian packages the build and the tests need (idempotent).
deps:
	@scripts/install-deps.sh

build:
	$(MAKE) -C c_src

# The main job on a built-in default: a local 3-node demo cluster probed by beamprobe.
demo: deps
	@$(MAKE) -s -C c_src >/dev/null
	@scripts/demo.sh

demo-stop:
	@scripts/demo.sh stop

# The whole suite: unit tests, dialyzer, integration tests against real nodes (the NIF's
# eunit suite among them), then unit and integration again under AddressSanitizer +
# UndefinedBehaviorSanitizer.
test: deps
	@$(MAKE) -s unit erlang integration
	@$(MAKE) -s sanitize
	@echo "make test: all suites passed"

unit:
	$(MAKE) -C c_src tests
	@scripts/run-unit.sh build

# The Erlang API: rebar3 builds it (the NIF through c_src/Makefile), dialyzer checks it, and
# its VM-only eunit tests run (test_nif.sh runs them all in a demo node with peers).
erlang:
	rebar3 compile
	rebar3 dialyzer
	rebar3 eunit

integration: build
	@BEAMPROBE=$(CURDIR)/priv/beamprobe test/integration/run.sh

sanitize:
	$(MAKE) -C c_src SAN=1 tests nif
	@scripts/run-unit.sh build-san
	@BEAMPROBE=$(CURDIR)/build-san/beamprobe BP_SANITIZED=1 test/integration/run.sh

clean:
	$(MAKE) -C c_src clean
