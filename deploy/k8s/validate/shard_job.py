"""The sharding Job against the order service it prepares: the service's user
has readWrite only, so the Job (as the chart's root user) is the one step
that shards the orders, and it must shard the database and collection the
service uses, by the key the service checks for at start-up."""

import re
from urllib.parse import urlsplit

from manifests import containers_of

JOB = "orders-mongodb-shard"
SCRIPT = "shard-orders.js"
# The collection the order service keeps its orders in
# (services/order/src/storage/mongo/setup.rs).
ORDERS_COLLECTION = "orders"
# Where the service names the key it checks for.
SERVICE_KEY_SOURCE = "services/order/src/storage/mongo/sharding.rs"


def env_of(document):
    container = next(iter(containers_of(document)), {})
    return {e["name"]: e for e in container.get("env", [])}


def find(documents, kind, name):
    """The document of that kind and name (a generated ConfigMap's name has a hash suffix)."""
    names = (name, ) if kind != "ConfigMap" else ()
    return next((d for d in documents if d["kind"] == kind
                 and (d["metadata"]["name"] in names or d["metadata"]["name"].startswith(f"{name}-"))), None)


def service_database(order):
    """The database in the order Deployment's MONGODB_URL, and its user."""
    url = env_of(order).get("MONGODB_URL", {}).get("value", "") if order else ""
    parts = urlsplit(url)
    return parts.path.lstrip("/"), parts.username


def service_key(repo_dir):
    source = (repo_dir / SERVICE_KEY_SOURCE).read_text()
    match = re.search(r'SHARD_KEY_FIELD: &str = "(\w+)"', source)
    return match.group(1) if match else None


def check(documents, overlay, repo_dir, report):
    job, order = find(documents, "Job", JOB), find(documents, "Deployment", "order")
    script = (find(documents, "ConfigMap", "orders-mongodb-scripts") or {}).get("data", {}).get(SCRIPT, "")
    env = env_of(job) if job else {}
    database, user = service_database(order)
    named = (env.get("ORDERS_DB", {}).get("value"), env.get("ORDERS_COLLECTION", {}).get("value"))
    report.check(named == (database, ORDERS_COLLECTION),
                 f"{overlay}  the sharding Job shards {database}.{ORDERS_COLLECTION}, the order service's",
                 f"the Job names {named[0]}.{named[1]}")
    root = env.get("MONGODB_ROOT_PASSWORD", {}).get("valueFrom", {}).get("secretKeyRef", {})
    as_root = root.get("key") == "mongodb-root-password" and "auth('root'" in script
    report.check(as_root, f"{overlay}  the sharding Job runs as the chart's root user",
                 "no auth('root', ...) with the mongodb-root-password secret")
    field = service_key(repo_dir)
    key = f"const key = {{ {field}: 'hashed' }};"
    steps = all(s in script for s in (key, "sh.enableSharding(dbName)", "sh.shardCollection(ns, key)"))
    report.check(steps, f"{overlay}  the sharding Job runs enableSharding and shardCollection by "
                 f"{{ {field}: 'hashed' }}, the key the service checks for",
                 f"{SCRIPT} lacks one of: {key!r}, sh.enableSharding(dbName), sh.shardCollection(ns, key)")
    read_write = f"createUser({{ user: '{user}'" in script and "roles: [{ role: 'readWrite', db: dbName }]" in script
    report.check(read_write, f"{overlay}  the service's user {user} is created with readWrite on its database only",
                 f"{SCRIPT} does not create {user} with readWrite alone")
