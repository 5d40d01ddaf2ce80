# Tessera — the README's commands.
#   make run    build the web UI and the desktop app, and start it
#   make cli    build the `tessera` command line and run its first-run helper
#   make test   install what the tests need, then lint and run every test
#   make bench  run the benchmarks (installs the peers they compare against)
#   make soak   the crash-safety test with thousands of kills
#   make fuzz   the import parsers' property-based fuzz targets, longer
#   make package  the desktop app as a .deb (in $(CARGO_TARGET_DIR)/release/bundle/deb)

SHELL := /bin/bash
CARGO ?= cargo
# Build cache outside the clone, shared by clean clones on this machine.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/tessera/target
export CARGO_TERM_COLOR ?= never

.PHONY: run cli package test bench soak fuzz lint ui ui-check build clean

# The desktop app. The web UI is built first: Tauri embeds ui/dist.
run:
	scripts/setup.sh run
	$(MAKE) --no-print-directory ui
	$(CARGO) build --release --locked -p tessera-desktop -p tessera-cli -p tessera-browser
	"$(CARGO_TARGET_DIR)/release/tessera-desktop"

cli:
	scripts/setup.sh cli
	$(CARGO) build --release --locked -p tessera-cli -p tessera-browser
	scripts/first-run.sh "$(CARGO_TARGET_DIR)/release/tessera"

package:
	scripts/setup.sh run
	$(MAKE) --no-print-directory ui
	# The browser extension's host ships in the .deb beside the app (/usr/bin).
	$(CARGO) build --release --locked -p tessera-browser
	mkdir -p src-tauri/bundle-bin
	cp "$(CARGO_TARGET_DIR)/release/tessera-browser-host" src-tauri/bundle-bin/
	cd src-tauri && ../ui/node_modules/.bin/tauri build --bundles deb --ci
	@ls -1 "$(CARGO_TARGET_DIR)"/release/bundle/deb/*.deb

ui:
	cd ui && npm ci --no-audit --no-fund --loglevel=error && npm run build

lint:
	test -f ui/dist/index.html || $(MAKE) --no-print-directory ui
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

# The desktop web UI: install from the lockfile, lint, type-check, unit and
# component tests, build.
ui-check:
	cd ui && npm ci --no-audit --no-fund --loglevel=error
	cd ui && npm run lint && npm run check && npm test && npm run build

build:
	test -f ui/dist/index.html || $(MAKE) --no-print-directory ui
	$(CARGO) build --workspace --bins --locked

test:
	scripts/setup.sh test
	$(MAKE) --no-print-directory ui-check
	cd tests/browser-e2e && npm ci --no-audit --no-fund --loglevel=error
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory build
	if command -v cargo-nextest >/dev/null; then \
	  $(CARGO) nextest run --workspace --locked --no-fail-fast; \
	else \
	  $(CARGO) test --workspace --locked --no-fail-fast --lib --bins --tests; \
	fi
	$(CARGO) test --workspace --locked --doc

bench:
	scripts/setup.sh bench
	$(MAKE) --no-print-directory ui
	$(CARGO) build --release --locked -p tessera-bench -p tessera-cli -p tessera-server -p tessera-desktop -p tessera-browser -p tessera-piv-sim
	"$(CARGO_TARGET_DIR)/release/tessera-bench" $(BENCH_ARGS)

soak:
	$(MAKE) --no-print-directory build
	TESSERA_CRASH_KILLS=$${TESSERA_CRASH_KILLS:-3000} $(CARGO) test --locked -p tessera-tests --test crash -- --nocapture

# Every parser's `fuzz_*` target runs 256 cases in `make test`; here, many more.
fuzz:
	TESSERA_FUZZ_CASES=$${TESSERA_FUZZ_CASES:-200000} $(CARGO) test --locked --release -p tessera-interop --lib fuzz_

clean:
	$(CARGO) clean
