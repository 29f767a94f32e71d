# syntax=docker/dockerfile:1
#
# One image for the three services: the binaries share every dependency, so
# one build compiles them once, and a deployment picks the binary with its
# command (`order`, `stock` or `payment`).
#
#   docker build -t webshop:dev .
#   docker run --rm -e HTTP_PORT=8201 -e HEALTH_PATH=/stock/health webshop:dev stock

# Debian 13 on both sides: the binaries link against the builder's glibc, so
# the runtime must not be older.
FROM rust:1.95.0-slim-trixie AS build
WORKDIR /src
COPY . .
# The cache mounts keep the registry and the target directory between builds
# (BuildKit): a code change recompiles our crates, not the dependencies. The
# target directory is a cache, so the binaries are copied out of it.
# `cargo build-services` (.cargo/config.toml) holds the packages and features.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build-services --release \
    && mkdir -p /out \
    && cp target/release/order target/release/stock target/release/payment /out/

FROM debian:trixie-20260202-slim AS runtime
# A fixed numeric uid, so Kubernetes' runAsNonRoot can verify it without
# reading /etc/passwd.
RUN groupadd --system --gid 10001 webshop \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin webshop
COPY --from=build /out/order /out/stock /out/payment /usr/local/bin/
COPY --chmod=0755 deploy/docker/healthcheck.sh /usr/local/bin/healthcheck
USER 10001:10001
# Inside a container the services must listen beyond loopback.
ENV HTTP_HOST=0.0.0.0
# bash's /dev/tcp asks GET $HEALTH_PATH on $HTTP_PORT: no curl in the image.
# Compose sets HEALTH_PATH per service; Kubernetes ignores HEALTHCHECK and
# uses its own probes.
HEALTHCHECK --interval=10s --timeout=4s --start-period=30s --retries=3 CMD ["healthcheck"]
# No default service: the command names one.
CMD ["sh", "-c", "echo 'give the service to run: order, stock or payment' >&2; exit 64"]
