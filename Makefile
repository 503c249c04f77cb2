# medbridge: every entry point a user or CI needs. Targets install what they need.
# FABRIC_RUNTIME=native (default) runs Fabric as local processes on 127.0.0.1; FABRIC_RUNTIME=docker
# runs the same network in containers built here (network/DOCKER.md).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

export FABRIC_RUNTIME ?= native
NETWORK_SH := network/scripts/network.sh

CHROMIUM ?= /usr/bin/chromium

.PHONY: help deps build app chromium test-e2e fabric images network-up network-down network-status deploy test test-unit test-integration test-integration-docker test-integration-native test-multihost deploy-check demo bench bench-verify bench-consent bench-api bench-caliper lint clean game samples-up samples-down soak test-soak

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

# Native add-ons (the record store's SQLite driver) compile against the headers that ship
# beside the running node (Debian's nodejs, or an official tarball): never a header download.
NODE_PREFIX := $(shell node -p "require('path').resolve(process.execPath, '..', '..')" 2>/dev/null)
ifneq ($(wildcard $(NODE_PREFIX)/include/node/node_version.h),)
export npm_config_nodedir := $(NODE_PREFIX)
endif

node_modules/.installed: package.json package-lock.json chaincode/package.json gateway/package.json
	@command -v node >/dev/null || { echo "error: Node.js 20 (>= 20.19) is required: apt-get install nodejs npm" >&2; exit 1; }
	npm ci --no-fund --no-audit
	@touch $@

deps: node_modules/.installed ## install node dependencies (npm ci)

build: deps app ## compile chaincode and gateway (tsc -b) and bundle the patient app
	npx tsc -b chaincode gateway

app: deps ## bundle the patient app into gateway/app/dist (esbuild; gateway/APP.md)
	node gateway/app/build.mjs

chromium: ## Debian's chromium for the browser test (installed with apt-get when missing; no browser download)
	@test -x "$(CHROMIUM)" || { echo "chromium: installing Debian's chromium package"; { apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; }; }

fabric: ## build or reuse the pinned Fabric binaries (honours FABRIC_BIN)
	network/scripts/fabric-bin.sh

images: fabric ## build the local container images for FABRIC_RUNTIME=docker (nothing is pulled)
	network/docker/images.sh

network-up: build fabric ## start the embedded network, create channels, deploy chaincode
	$(NETWORK_SH) up

network-down: ## stop what network-up started and remove its state
	$(NETWORK_SH) down

network-status: ## show nodes, channels and chaincode of the running network
	$(NETWORK_SH) status

deploy: build ## redeploy changed chaincode with the next sequence, network stays up
	$(NETWORK_SH) deploy

test-unit: deps ## unit tests: rules, protocol, contracts on a fake stub
	npx jest --selectProjects unit

test-integration: build fabric ## integration tests against the real network
	npx jest --selectProjects integration --runInBand

test-integration-docker: build fabric images ## the integration suite against the dockerized network
	FABRIC_RUNTIME=docker npx jest --selectProjects integration --runInBand

test-integration-native: build fabric ## the integration suite against the native network
	FABRIC_RUNTIME=native npx jest --selectProjects integration --runInBand

# The chaos soak (network/RELIABILITY.md): load across chain-a <-> chain-b and chain-a <-> chain-c (net2),
# part of it through the hospital API, with a seeded schedule of process kills and a bad link, then a
# checker over the ledgers; exit 1 on a violation, with the seed to replay.
# SOAK_SEED, SOAK_PACKETS, SOAK_MINUTES, SOAK_RATE, SOAK_WORKERS, SOAK_FAULTS, SOAK_NET2 (gateway/src/soak/options.ts).
test-soak: build fabric ## the short chaos soak in make test: >= 200 packets under every node fault (native runtime)
	FABRIC_RUNTIME=native SOAK_PACKETS=$${SOAK_PACKETS:-200} network/scripts/soak.sh

soak: build fabric ## the long chaos soak: 30 minutes of load and faults by default (SOAK_MINUTES, SOAK_PACKETS, SOAK_SEED)
	SOAK_MINUTES=$${SOAK_MINUTES:-30} SOAK_PACKETS=$${SOAK_PACKETS:-200} network/scripts/soak.sh

# The patient app in a real headless Chromium against the embedded network (gateway/APP.md);
# screenshots of each step in test/e2e/output/.
test-e2e: build fabric chromium ## the patient app end to end in headless Chromium (native network)
	MEDBRIDGE_NET2=0 MEDBRIDGE_CHROMIUM="$(CHROMIUM)" npx jest --selectProjects e2e --runInBand

# Each org on its own host (network/NETWORKS.md, "Each organisation on its own host"); needs root.
# native: network namespaces on a bridge made here, nodes started in their org's namespace;
# docker: a docker bridge network with one container per host, node containers in their org's.
# Every runtime runs, even after one fails; the target fails if any did.
MULTIHOST_RUNTIMES ?= native docker
test-multihost: build fabric ## the multi-host suite on each of MULTIHOST_RUNTIMES (native docker): one host per org (root)
	@failed=""; for rt in $(MULTIHOST_RUNTIMES); do \
	  FABRIC_RUNTIME=$$rt network/scripts/multihost.sh test || failed="$$failed $$rt"; \
	done; \
	if [ -n "$$failed" ]; then echo "error: the multi-host suite failed on:$$failed" >&2; exit 1; fi

# The deployment chart of one org, checked without a cluster (network/DEPLOY.md).
deploy-check: ## helm lint + helm template + kubeconform of network/deploy/chart (tools built from Go modules once)
	network/deploy/check.sh

# CI: lint, unit tests, the deployment chart, then the whole integration suite against dockerized
# peers, then natively, then the short chaos soak, then the patient app in a browser, then the
# multi-host subset.
test: lint test-unit deploy-check test-integration-docker test-integration-native test-soak test-e2e test-multihost ## everything CI runs

demo: build fabric ## the main story end to end on the embedded network
	network/scripts/demo.sh

bench: build fabric ## benchmarks (verification, share latency and API load on the network); results in test/bench/results/
	network/scripts/bench.sh

# Not part of make test: autocannon against a real `medbridge serve` on loopback, bounded
# (BENCH_API_SECONDS per endpoint class, default 20); fails on any 5xx.
bench-api: build fabric ## the hospital gateway API under load (read, access check, patient-signed grants): api.* of test/bench/results/summary.json
	network/scripts/bench.sh api

# Not part of make test: Hyperledger Caliper 0.6.0 (installed on demand in test/bench/caliper) with its
# Fabric peer-gateway connector, plain puts and patient-signed consent grants (BENCH_CALIPER_SECONDS per round).
bench-caliper: build fabric ## Hyperledger Caliper: plain-put and consent-grant throughput and latency; test/bench/results/caliper.json
	network/scripts/bench.sh caliper

bench-verify: build ## verification in chaincode against the raw signature checks, and access decisions at scale; no network; test/bench/results/summary.json
	npx tsc -p test/bench/tsconfig.json
	node .runtime/bench/test/bench/verify.js
	node .runtime/bench/test/bench/consent.js
	BENCH_COMMAND="make bench-verify" node .runtime/bench/test/bench/summary.js

bench-consent: build ## access decisions at scale alone (no network): test/bench/results/consent.json, consent.* of summary.json
	npx tsc -p test/bench/tsconfig.json
	BENCH_COMMAND="make bench-consent" node .runtime/bench/test/bench/consent.js
	BENCH_ONLY_CONSENT=1 node .runtime/bench/test/bench/summary.js

lint: deps ## type-check everything (tests included) and run ESLint with type-aware rules
	npx tsc -p tsconfig.json --noEmit
	npx tsc -p gateway/app/tsconfig.json
	npx eslint --config test/lint/eslint.config.mjs chaincode/src gateway/src test

# fabric-samples' test-network with this project's binaries and images (network/DOCKER.md).
samples-up: build fabric ## medbridge on fabric-samples' test-network: FABRIC_SAMPLES=<checkout>
	FABRIC_SAMPLES="$(FABRIC_SAMPLES)" network/samples/samples-up.sh

samples-down: ## remove what samples-up made (containers, network, volumes, tags, files)
	network/samples/samples-down.sh

clean: network-down ## remove build output
	rm -rf chaincode/dist gateway/dist chaincode/*.tsbuildinfo gateway/*.tsbuildinfo

# The incentive game (chaincode/INCENTIVES.md): Python + matplotlib in a venv under the runtime dir.
GAME_VENV := $(or $(MEDBRIDGE_RUNTIME),$(CURDIR)/.runtime)/game-venv

$(GAME_VENV)/.installed: chaincode/game/requirements.txt
	@echo "game: creating $(GAME_VENV)"
	@python3 -m venv "$(GAME_VENV)" 2>/dev/null || { \
	  echo "game: python3 venv module missing; installing python3-venv"; \
	  apt-get install -y -q python3-venv >/dev/null && python3 -m venv "$(GAME_VENV)"; }
	"$(GAME_VENV)/bin/pip" install --quiet --disable-pip-version-check -r chaincode/game/requirements.txt
	@touch "$@"

game: $(GAME_VENV)/.installed ## simulate the incentive game: table + PNG in chaincode/game/out/ (ARGS="--preset unsafe --stake 900000")
	"$(GAME_VENV)/bin/python" chaincode/game/simulate.py $(ARGS)
