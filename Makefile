# The webshop's commands. `make up` brings the system up on
# http://127.0.0.1:8000; `make test` runs every check CI runs.
SHELL := /bin/bash
.DEFAULT_GOAL := help
LOCAL := deploy/local
REPORTS := target/reports
# The local server's superuser as deploy/local/infra.sh sets it up: the
# tests create their databases with it, and the benchmark its monolith. The
# code's defaults carry no password; these are the local development ones.
LOCAL_PG := postgres://postgres:$(or $(DB_PASSWORD),postgres)@127.0.0.1:5432
export TEST_DATABASE_URL ?= $(LOCAL_PG)/postgres
export MONOLITH_URL ?= $(LOCAL_PG)
export BENCH_DATABASE_URL ?= $(LOCAL_PG)
# The harness, built like the system `make up` runs.
HARNESS := cargo run --quiet --release --locked -p consistency-test --

.PHONY: help up down ps test fmt lint unit-test smoke-test infra api-test config-test compose-test consistency-test chaos bench bench-checkout \
	bench-messaging bench-floor bench-compare sqlx-prepare sqlx-check parked replay-parked deploy-k8s undeploy-k8s deploy-k8s-check \
	cluster-up cluster-down cluster-test chaos-cluster bench-scale

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

up: ## Install what is missing, build (release) and start every replica and the gateway
	@$(LOCAL)/up.sh

down: ## Stop what `make up` started
	@$(LOCAL)/down.sh

ps: ## One line per process: <name> <pid> 127.0.0.1:<port> <state>
	@$(LOCAL)/ps.sh

infra: ## Install and start PostgreSQL and RabbitMQ where they are missing or down
	@$(LOCAL)/infra.sh

test: infra fmt sqlx-check lint deploy-k8s-check config-test unit-test smoke-test cluster-test api-test compose-test ## Everything CI runs: formatting, lints, manifests, all tests

fmt: ## Check formatting
	cargo fmt --all --check

sqlx-prepare: infra ## Write .sqlx/, the query data sqlx's macros check the SQL against, after changing a statement or a migration
	@$(LOCAL)/sqlx-prepare.sh

sqlx-check: infra ## Fail when .sqlx/ is stale: the statements checked against a database migrated from scratch
	@$(LOCAL)/sqlx-prepare.sh --check

lint: ## Clippy over every crate and target, warnings as errors
	cargo clippy --workspace --all-targets --locked -- -D warnings
	cargo clippy -p order --all-targets --features mongodb --locked -- -D warnings

unit-test: infra ## Unit and integration tests against the real PostgreSQL and RabbitMQ
	@command -v cargo-nextest >/dev/null || { echo "cargo-nextest is required: cargo install cargo-nextest --locked"; exit 1; }
	@$(LOCAL)/drop-test-databases.sh
	cargo nextest run --workspace --locked --no-fail-fast -E 'not (binary(broker_restart) | binary(database_outage))'
	@# The order service built with its MongoDB store: the store's tests run
	@# against PostgreSQL, and against MongoDB only when MONGODB_URL is set
	@# (without it, nextest lists the `requires_mongodb` tests as skipped).
	cargo nextest run -p order --features mongodb --locked --no-fail-fast \
		--run-ignored $(if $(MONGODB_URL),all,default) -E 'binary(store) | kind(lib)'
	@# Restart RabbitMQ, and stop PostgreSQL for seconds, under every test
	@# running beside them: one at a time, on their own, last.
	cargo nextest run --workspace --locked --test-threads 1 -E 'binary(broker_restart) | binary(database_outage)'

smoke-test: infra ## The scripts and the gateway end to end, on ports of their own
	@$(LOCAL)/smoke-test.sh

config-test: infra ## Each container of deploy/k8s and the compose file, started as its manifest says, answers its probes
	@deploy/config-test.sh

compose-test: ## deploy/docker-compose.yml up under podman (root, 127.0.0.1:8000 free), the course scenario with order-1 killed
	@deploy/compose-test.sh

cluster-up: ## Start the three-node RabbitMQ cluster (.run/rabbitmq, AMQP 127.0.0.1:5681-5683); BROKER=cluster make up runs the system on it
	@$(LOCAL)/rabbitmq-cluster.sh start

cluster-down: ## Stop the three-node RabbitMQ cluster (its data stays); make down does it too when the system ran on it
	@$(LOCAL)/rabbitmq-cluster.sh stop

cluster-test: infra ## The system on a three-node RabbitMQ cluster of its own, the node leading the most queues killed mid-run
	@$(LOCAL)/cluster-test.sh

api-test: infra ## The API against docs/openapi.json: schemathesis through the gateway, JSON errors (API_TEST_EXAMPLES=200 for a longer run)
	@$(LOCAL)/api-test.sh

consistency-test: up ## The course scenario and its multi-item variant against `make up`'s system
	$(HARNESS) consistency --report $(REPORTS)/consistency.json
	$(HARNESS) consistency --multi-item --report $(REPORTS)/consistency-multi-item.json

chaos: up ## The scenarios with each fault injected mid-run: replicas killed, broker and database restarted
	$(HARNESS) chaos --multi-item-too --report $(REPORTS)/chaos.json

chaos-cluster: ## make chaos on the three-node cluster: the leading node killed, a replica paused past the heartbeat, replicas killed, the database crashed
	@BROKER=cluster $(LOCAL)/up.sh
	BROKER=cluster $(HARNESS) chaos --multi-item-too --faults broker-leader-kill@5,pause:stock-1@25,kill:stock-1,kill:order-1,database,broker-cut:order-1 --report $(REPORTS)/chaos-cluster.json

bench: bench-checkout bench-floor bench-messaging ## Every benchmark (release build)

bench-checkout: up ## Saga checkouts/s at stepped concurrency beside one-transaction checkouts (pgbench), p99 at half load
	$(HARNESS) bench --plots $(REPORTS)/bench --report $(REPORTS)/bench.json

bench-scale: infra ## Checkouts/s with 1, 2, 4 replicas each capped at SCALE_CPU_PERCENT (5) % of a core, AMQP_PARTITIONS=1 beside 8: table, JSON, plot (root)
	@$(LOCAL)/bench-scale.sh

bench-floor: infra ## The checkout's three hops with the saga's guarantees and nothing else, straight on PostgreSQL and RabbitMQ: the bound from below
	$(HARNESS) floor --report $(REPORTS)/floor.json

bench-compare: infra ## bench-checkout for BASE=<rev> and HEAD (or OTHER=<rev>), alternating BENCH_ROUNDS times, one table
	@$(LOCAL)/bench-compare.sh $(or $(BASE),$(error BASE=<revision> is required)) $(or $(OTHER),HEAD)

bench-messaging: infra ## Outbox relay throughput and commit-to-consumer latency, side by side
	cargo bench -p idempotency --bench messaging --locked

parked: ## Queues holding parked messages, with their counts
	@$(LOCAL)/fault.sh list-queues | awk '$$1 ~ /\.parked$$/'

replay-parked: ## Replay a queue's parked messages: make replay-parked QUEUE=stock.checkout
	@test -n "$(QUEUE)" || { echo "usage: make replay-parked QUEUE=<queue>"; exit 1; }
	cargo run -q -p idempotency --bin parking-lot -- list $(QUEUE)
	cargo run -q -p idempotency --bin parking-lot -- replay $(QUEUE)

deploy-k8s: ## Install into the current kube context (OVERLAY=laptop|cluster, WEBSHOP_IMAGE=<image>)
	@deploy/k8s/deploy.sh

undeploy-k8s: ## Remove what deploy-k8s installed from the current kube context, data included
	@deploy/k8s/undeploy.sh

deploy-k8s-check: ## Render and validate every Kubernetes manifest, Helm values and the compose file, offline
	@deploy/k8s/check.sh
