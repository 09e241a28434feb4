# assist — build, test, demo, bench, fuzz, dist.
GO        ?= go
BIN       := bin
FUZZTIME  ?= 10s
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
PLATFORMS := linux/amd64 linux/arm64 windows/amd64 windows/arm64 darwin/amd64 darwin/arm64

.PHONY: all deps build test demo demo-cluster bench fuzz dist clean

all: build

deps:
	@scripts/deps.sh

build: deps
	@mkdir -p $(BIN)
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/assistd ./cmd/assistd
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/assist ./cmd/assist
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/assist-agent ./cmd/assist-agent

test: deps
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

demo: build
	@scripts/demo.sh

# demo-cluster runs the loop across three gateways on a 3-member etcd (embedded in bin/etcdcluster,
# a demo helper, not for production) and kills one gateway under its agent.
demo-cluster: build
	$(GO) build -o $(BIN)/etcdcluster ./internal/cmd/etcdcluster
	@scripts/cluster-demo.sh

bench: build
	@scripts/bench.sh

# fuzz runs every fuzz target for FUZZTIME each and fails on any crash; .ci/run runs it after test.
fuzz: deps
	@scripts/fuzz.sh $(FUZZTIME)

# dist cross-compiles the technician's assist for every platform the help desk offers at /download,
# and the person's assist-agent for those /help offers: Windows x86-64 in pure Go (Gio draws its
# windows with Direct3D through syscalls) and Linux x86-64 with cgo (X11 and Wayland headers: on a
# Linux x86-64 machine with scripts/deps.sh's packages). /help stamps each download; these stay
# unstamped. The Windows agent is a GUI-subsystem program (-H=windowsgui), so no console window
# opens beside the app; from cmd or PowerShell it attaches to their console for the terminal mode.
dist:
	@mkdir -p dist
	@for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
		echo "dist/assist-$$os-$$arch$$ext"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -ldflags '$(LDFLAGS)' -o dist/assist-$$os-$$arch$$ext ./cmd/assist || exit 1; \
	done
	@echo "dist/assist-agent-windows-amd64.exe"
	@CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GO) build -ldflags '$(LDFLAGS) -H=windowsgui' -o dist/assist-agent-windows-amd64.exe ./cmd/assist-agent
	@echo "dist/assist-agent-linux-amd64"
	@CGO_ENABLED=1 GOOS=linux GOARCH=amd64 $(GO) build -ldflags '$(LDFLAGS)' -o dist/assist-agent-linux-amd64 ./cmd/assist-agent

clean:
	rm -rf $(BIN) dist
