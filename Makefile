# rewind — see README.md. `make run` starts the daemon on its embedded default;
# `make test` installs what the tests need and runs all of them.
GO       ?= go
BIN      := bin/rewind
PKGS     := ./...
# Packages cheap enough to run under the race detector.
RACE     := ./policy/... ./vault/... ./blockstore/... ./fileshare/...
DATA     ?= $(CURDIR)/.cache/run
# Static analysis, pinned; "go run" fetches and caches them (no go.mod entry).
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
INEFFASSIGN := github.com/gordonklaus/ineffassign@v0.2.0

export PATH := $(PATH):/usr/sbin:/sbin

.PHONY: all build lint test test-deps bench bench-compare soak run install clean
PREFIX   ?= /usr/local

all: build

build:
	$(GO) build -o $(BIN) ./cmd/rewind

test-deps:
	./scripts/install-test-deps.sh
	./scripts/minio.sh install

# go vet, staticcheck (default checks, SA4006 among them) and ineffassign: any finding fails.
lint:
	$(GO) vet $(PKGS)
	$(GO) run $(STATICCHECK) $(PKGS)
	$(GO) run $(INEFFASSIGN) $(PKGS)

test: test-deps build lint
	$(GO) test -race -timeout 20m $(RACE)
	$(GO) test -timeout 25m $$($(GO) list $(PKGS) | grep -v -E '/(policy|vault|blockstore|fileshare)(/|$$)')

# Go benchmarks of every package that has them → .cache/bench/new.txt, benchstat against a baseline.
bench:
	./scripts/bench.sh

# rewind against restic and borg on generated data → docs/bench-compare.md (BENCH_COMPARE_FLAGS="-runs 5 -keep" …)
bench-compare:
	$(GO) run ./tests/benchcompare $(BENCH_COMPARE_FLAGS)

# Long runs kept out of make test: crash loops, the million-file tree, fuzzing (FUZZTIME=2m each).
soak: build
	./scripts/soak.sh

run: build
	mkdir -p $(DATA)
	$(BIN) daemon --data $(DATA) --socket $(DATA)/rewind.sock

# Installs under $(DESTDIR) only; the host is changed (the "rewind" group
# created) only when DESTDIR is empty. With a DESTDIR, systemd-sysusers makes
# the group from the installed sysusers.d file at the target's next boot.
install: build
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/rewind
	install -D -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/rewind/README.md
	install -D -m 0644 etc/rewind.toml $(DESTDIR)/etc/rewind/rewind.toml.example
	test -e $(DESTDIR)/etc/rewind/rewind.toml || install -D -m 0640 etc/rewind.toml $(DESTDIR)/etc/rewind/rewind.toml
	install -d $(DESTDIR)/etc/systemd/system
	sed 's|/usr/local|$(PREFIX)|g' etc/rewind.service > $(DESTDIR)/etc/systemd/system/rewind.service
	chmod 0644 $(DESTDIR)/etc/systemd/system/rewind.service
	install -D -m 0644 etc/rewind.sysusers $(DESTDIR)/usr/lib/sysusers.d/rewind.conf
	if [ -z "$(DESTDIR)" ]; then systemd-sysusers /usr/lib/sysusers.d/rewind.conf 2>/dev/null || getent group rewind >/dev/null || groupadd --system rewind; fi
	@echo "installed; now: systemctl daemon-reload && systemctl enable --now rewind"

clean:
	rm -rf bin .cache
