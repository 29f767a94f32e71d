# The webshop's commands. `make up` brings the system up on
# http://127.0.0.1:8000; `make test` runs every check CI runs.
SHELL := /bin/bash
.DEFAULT_GOAL := help
LOCAL := deploy/local

.PHONY: help up down ps test fmt lint unit-test smoke-test infra bench bench-messaging parked replay-parked

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

up: ## Install what is missing, build (release) and start every replica and the gateway
	@$(LOCAL)/up.sh

down: ## Stop what `make up` started
	@$(LOCAL)/down.sh

ps: ## One line per process: <name> <pid> 127.0.0.1:<port> <state>
	@$(LOCAL)/ps.sh

infra: ## Install and start PostgreSQL and RabbitMQ where they are missing or down
	@$(LOCAL)/infra.sh

test: infra fmt lint unit-test smoke-test ## Everything CI runs: formatting, lints, all tests

fmt: ## Check formatting
	cargo fmt --all --check

lint: ## Clippy over every crate and target, warnings as errors
	cargo clippy --workspace --all-targets --locked -- -D warnings

unit-test: infra ## Unit and integration tests against the real PostgreSQL and RabbitMQ
	@command -v cargo-nextest >/dev/null || { echo "cargo-nextest is required: cargo install cargo-nextest --locked"; exit 1; }
	@$(LOCAL)/drop-test-databases.sh
	cargo nextest run --workspace --locked --no-fail-fast -E 'not binary(broker_restart)'
	@# Restarts RabbitMQ under every test running beside it: on its own, last.
	cargo nextest run --workspace --locked -E 'binary(broker_restart)'

smoke-test: infra ## The scripts and the gateway end to end, on ports of their own
	@$(LOCAL)/smoke-test.sh

bench: bench-messaging ## Every benchmark (release build)

bench-messaging: infra ## Outbox relay throughput and commit-to-consumer latency, side by side
	cargo bench -p idempotency --bench messaging --locked

parked: ## Queues holding parked messages, with their counts
	@rabbitmqctl -q list_queues name messages | awk '$$1 ~ /\.parked$$/'

replay-parked: ## Replay a queue's parked messages: make replay-parked QUEUE=stock.checkout
	@test -n "$(QUEUE)" || { echo "usage: make replay-parked QUEUE=<queue>"; exit 1; }
	cargo run -q -p idempotency --bin parking-lot -- list $(QUEUE)
	cargo run -q -p idempotency --bin parking-lot -- replay $(QUEUE)
