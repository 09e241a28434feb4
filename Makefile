# assist — build, test, demo, bench, fuzz, dist.
GO        ?= go
BIN       := bin
FUZZTIME  ?= 10s
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
PLATFORMS := linux/amd64 linux/arm64 windows/amd64 windows/arm64 darwin/amd64 darwin/arm64

.PHONY: all deps build test demo bench fuzz dist clean

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

bench: build
	@scripts/bench.sh

# fuzz runs every fuzz target for FUZZTIME each.
fuzz: deps
	@scripts/fuzz.sh $(FUZZTIME)

# dist cross-compiles the technician's assist for every platform the help desk offers at /download.
dist:
	@mkdir -p dist
	@for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
		echo "dist/assist-$$os-$$arch$$ext"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -ldflags '$(LDFLAGS)' -o dist/assist-$$os-$$arch$$ext ./cmd/assist || exit 1; \
	done

clean:
	rm -rf $(BIN) dist
