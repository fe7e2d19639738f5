# Warden: build, run and test. `make help` lists the targets.
# Everything runs on Debian 12; scripts/deps.sh installs the system packages (as root).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

# Go lives in /usr/local/go/bin on the build machines; put it first so that is the go we use.
export PATH := /usr/local/go/bin:$(PATH)
# No VCS stamping: CI machines may lack git, and the binary does not need it.
ifeq ($(findstring buildvcs,$(GOFLAGS)),)
export GOFLAGS := $(strip $(GOFLAGS) -buildvcs=false)
endif

# Tags of the desktop binary: production is required by Wails, webkit2_41 selects the
# WebKitGTK 4.1 that Debian 12 ships (docs/desktop-recipe.md §2).
DESKTOP_TAGS := desktop,production,webkit2_41
BIN := build/bin/warden

# step prints a header so each part of `make test` is easy to find in a CI log.
step = @printf '\n==> %s\n' "$(1)"

.PHONY: help deps build run test bench clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

deps: ## install missing Debian packages (as root) and e2e node packages
	$(call step,deps)
	bash scripts/deps.sh

build: deps ## build the desktop binary build/bin/warden
	$(call step,build $(BIN))
	go build -tags $(DESKTOP_TAGS) -ldflags "-s -w" -o $(BIN) .

run: build ## open the window on the built-in demo organization
	./$(BIN) --demo

test: build ## vet, unit tests, keychain, browser and desktop end-to-end tests
	$(call step,go vet ./... (no tags))
	go vet ./...
	$(call step,go vet ./... (desktop tags))
	go vet -tags $(DESKTOP_TAGS) ./...
	$(call step,go vet ./backend/... with CGO_ENABLED=0)
	CGO_ENABLED=0 go vet ./backend/...
	$(call step,go test -race ./...)
	WARDEN_REQUIRE_GEO=1 bash scripts/with-keyring.sh go test -race -count=1 ./...
	$(call step,keychain against a real Secret Service)
	bash scripts/test-keyring.sh
	$(call step,browser end-to-end test)
	if [ -f scripts/test-e2e.sh ]; then bash scripts/test-e2e.sh; \
	else echo "scripts/test-e2e.sh not present; skipped"; fi
	$(call step,desktop smoke test)
	bash e2e/desktop-smoke.sh
	$(call step,all tests passed)

bench: ## run the benchmarks (scripts/bench.sh, or every Go benchmark)
	$(call step,bench)
	if [ -f scripts/bench.sh ]; then bash scripts/bench.sh; \
	else go test -run '^$$' -bench . -benchmem ./...; fi

clean: ## remove build output and test artefacts
	rm -rf build/bin e2e/out
