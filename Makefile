# wingnode: `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
GOTEST_FLAGS ?= -count=1 -timeout 15m

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# The addresses of `make run`'s screens, site port and off-board port.
SCREENS ?= 127.0.0.1:8080
SITE_PORT ?= 127.0.0.1:8443
API_PORT ?= 127.0.0.1:9443

.PHONY: run
run: build ## run a simulated wing appliance with its screen on http://localhost:8080 and its off-board port on https://localhost:9443 (SCREENS=, SITE_PORT=, API_PORT= to move them)
	./bin/wingnode run -simulate -data data -listen $(SCREENS) -site-listen $(SITE_PORT) -api-listen $(API_PORT)

.PHONY: site
site: build ## run a three-wing simulated site on loopback (screens on http://localhost:8081-8083) until Ctrl-C
	$(GO) build -o bin/wingsite ./sync/cmd/wingsite
	./bin/wingsite -binary bin/wingnode -dir site

.PHONY: build
build: ## build a static bin/wingnode for this machine
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/wingnode ./appliance/cmd/wingnode

.PHONY: generate
generate: ## regenerate templ output (commit the result)
	$(GO) tool templ generate

.PHONY: lint
lint: ## gofmt, go vet, staticcheck, and stale or unformatted templ output
	@bad=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$bad" ]; then echo "gofmt needed: $$bad"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	$(GO) tool templ generate -check
	$(GO) tool templ fmt -fail ui

.PHONY: test
test: deps lint ## the whole suite: lint, every test with the race detector, browser tests
	$(GO) test $(GOTEST_FLAGS) -race ./...

.PHONY: test-short
test-short: ## the fast tier for the edit loop (no browser, no crash tests)
	$(GO) test -short ./...

SOAK ?= 10m
FUZZTIME ?= 10s

.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZTIME each (default 10s): make fuzz FUZZTIME=1m
	@set -e; for pkg in $$($(GO) list ./...); do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "fuzz $$pkg $$target"; \
			out=$$($(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg 2>&1) || { echo "$$out"; exit 1; }; \
		done; \
	done

.PHONY: bench
bench: deps build ## print the performance figures, one "name value unit" per line (SOAK=10m: the soak's length)
	$(GO) run ./appliance/cmd/wingbench -binary bin/wingnode -soak-for $(SOAK)
	@set -o pipefail; $(GO) test -count=1 -run 'TestBootToWingScreen/^screen$$' -v ./images/ | sed -n -e 's/.*\(image_boot_to_ui_s [0-9.]*\).*/\1 s/p' -e 's/.*\(image_size_mb [0-9.]*\).*/\1 MB/p' 

.PHONY: deps
deps: deps-qemu deps-central ## install what the tests need (Chromium, QEMU, PostgreSQL, promtool) when missing and running as root
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 chromium >/dev/null; \
	else echo "chromium is missing and this is not root: browser tests will be skipped (they fail under CI=true)"; fi

.PHONY: clean
clean: ## remove build output, images and the local data folders of `make run` and `make site`
	rm -rf bin build data site

WING ?= A
BUILD ?= 1
# Optional provisioning, each a file: TRUST (update signing keys),
# WING_CONFIG, SITEIT_TOKEN_HASH, ENROL_TOKEN (see images/README.md).
IMAGE_FLAGS = $(if $(TRUST),-trust $(TRUST)) $(if $(WING_CONFIG),-wing-config $(WING_CONFIG)) \
	$(if $(SITEIT_TOKEN_HASH),-siteit-token-hash $(SITEIT_TOKEN_HASH)) $(if $(ENROL_TOKEN),-enrol-token $(ENROL_TOKEN))

.PHONY: image
image: ## build wing WING's amd64 disk image and update payload into build/image-WING; print how to boot and flash it (make image WING=A BUILD=1 [TRUST=FILE WING_CONFIG=FILE SITEIT_TOKEN_HASH=FILE ENROL_TOKEN=FILE])
	$(GO) run ./images/cmd/wingimage -wing $(WING) -out build/image-$(WING) -version $(VERSION) -build $(BUILD) $(IMAGE_FLAGS)

.PHONY: deps-central
deps-central: ## install PostgreSQL (the pull's PostgreSQL sink tests) and promtool (the metrics lint) when missing and running as root
	@pkgs=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || pkgs="$$pkgs postgresql"; \
	command -v promtool >/dev/null 2>&1 || pkgs="$$pkgs prometheus"; \
	if [ -z "$$pkgs" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's$$pkgs for the central sink and metrics tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 $$pkgs >/dev/null; \
	else echo "missing Debian packages$$pkgs and this is not root: the PostgreSQL sink and promtool tests will be skipped (they fail under CI=true)"; fi

.PHONY: deps-qemu
deps-qemu: ## install QEMU, OVMF and systemd-boot for the image boot tests when missing and running as root
	@pkgs=""; \
	command -v qemu-system-x86_64 >/dev/null 2>&1 || pkgs="$$pkgs qemu-system-x86 qemu-utils"; \
	[ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] || pkgs="$$pkgs ovmf"; \
	[ -f /usr/lib/systemd/boot/efi/systemd-bootx64.efi ] || pkgs="$$pkgs systemd-boot-efi"; \
	if [ -z "$$pkgs" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's$$pkgs for the image boot tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 $$pkgs >/dev/null; \
	else echo "missing Debian packages$$pkgs and this is not root: the image boot tests will be skipped (they fail under CI=true)"; fi

.PHONY: screenshots
screenshots: deps ## write PNGs of the main screens at 800×480 and 1280×800 into build/screenshots/, and the shift's screens with their printed A4 form into build/screenshots/shift/, to look at
	rm -rf build/screenshots
	$(GO) run ./appliance/cmd/wingshots -out build/screenshots
	mkdir -p build/screenshots/shift
	BROWSERTEST_SCREENSHOTS=$(CURDIR)/build/screenshots/shift $(GO) test -count=1 -run 'TestBrowser(RecordsACheckInTwoTaps|PresenceAtTheDoorPromptsForTheOutcome|CountsAndSignsTheRoll|SignsAHandover|ShiftScreensAtTheSmallestScreen)$$' ./ui/
