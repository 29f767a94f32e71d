"""deploy/docker-compose.yml with its MongoDB override, its gateway
configuration and the Dockerfile, checked without Docker (there is none where
CI runs): references resolve, the topology is the promised one, every image
is pinned, and nothing needs a Compose newer than v1 (`make compose-test`
runs the file with v1 docker-compose under podman)."""

import re

import yaml

SERVICES = {"order": ("8101", "/orders/health"), "stock": ("8201", "/stock/health"),
            "payment": ("8301", "/payment/health")}


def check(repo_dir, report):
    compose_file = repo_dir / "deploy" / "docker-compose.yml"
    override_file = repo_dir / "deploy" / "docker-compose.mongodb.yml"
    compose = yaml.safe_load(compose_file.read_text())
    override = yaml.safe_load(override_file.read_text())
    services = compose.get("services", {})
    for name, document in (("docker-compose.yml", compose), ("docker-compose.mongodb.yml", merged(compose, override))):
        problems = list(reference_problems(document, compose_file.parent))
        report.check(not problems, f"deploy/{name}  {len(document.get('services', {}))} services, references resolve",
                     "; ".join(problems))
    problems = [f"{name}: {problem}" for name, document in (("docker-compose.yml", compose),
                                                             ("docker-compose.mongodb.yml", override))
                for problem in v1_problems(document)]
    report.check(not problems, "deploy/docker-compose*.yml  read by Compose v1 and podman 4.3 alike "
                 "(no top-level name, no optional dependency, no CMD argument with spaces)", "; ".join(problems))
    check_topology(services, report)
    check_mongodb_override(services, override.get("services", {}), report)
    check_gateway(services, compose_file.parent / "docker" / "nginx.conf", report)
    check_dockerfile(repo_dir / "Dockerfile", report)


def merged(base, override):
    """The two files as Compose merges them, as far as these checks look:
    a service's mappings (environment, depends_on) merged key by key."""
    services = {name: dict(service) for name, service in base.get("services", {}).items()}
    for name, service in override.get("services", {}).items():
        into = services.setdefault(name, {})
        for key, value in service.items():
            into[key] = {**into.get(key, {}), **value} if isinstance(value, dict) else value
    volumes = {**(base.get("volumes") or {}), **(override.get("volumes") or {})}
    return {"services": services, "volumes": volumes}


def v1_problems(compose):
    if "name" in compose:
        yield "a top-level name (give -p instead)"
    for name, service in compose.get("services", {}).items():
        for dependency, condition in (service.get("depends_on") or {}).items():
            if isinstance(condition, dict) and "required" in condition:
                yield f"{name}'s dependency on {dependency} says required"
        test = (service.get("healthcheck") or {}).get("test")
        if isinstance(test, list) and test[:1] == ["CMD"] and any(" " in str(arg) for arg in test[1:]):
            yield f"{name}'s health check has a CMD argument with spaces (use CMD-SHELL)"


def reference_problems(compose, base_dir):
    services = compose.get("services", {})
    volumes = compose.get("volumes", {}) or {}
    for name, service in services.items():
        for dependency in service.get("depends_on") or {}:
            if dependency not in services:
                yield f"{name} depends on unknown service {dependency}"
        for mount in service.get("volumes", []):
            source = mount.split(":", 1)[0]
            if source.startswith("."):
                if not (base_dir / source).exists():
                    yield f"{name} mounts missing {source}"
            elif source not in volumes:
                yield f"{name} mounts undeclared volume {source}"
        build = service.get("build")
        if build and not (base_dir / build["context"] / build.get("dockerfile", "Dockerfile")).exists():
            yield f"{name} builds from a missing Dockerfile"
        image = service.get("image", "")
        if not build and (":" not in image or image.endswith(":latest")):
            yield f"{name} image {image!r} is not pinned"


def check_topology(services, report):
    problems = []
    for service, (port, health) in SERVICES.items():
        for replica in (f"{service}-1", f"{service}-2"):
            environment = services.get(replica, {}).get("environment", {})
            if environment.get("HTTP_PORT") != port or environment.get("HEALTH_PATH") != health:
                problems.append(f"{replica} is missing or not on port {port} with health {health}")
    for infrastructure in ("postgres", "rabbitmq", "gateway"):
        if infrastructure not in services:
            problems.append(f"no {infrastructure}")
    if "127.0.0.1:8000:8000" not in published(services.get("gateway", {})):
        problems.append("the gateway does not publish :8000 on 127.0.0.1")
    if "mongodb" in services:
        problems.append("mongodb is in the base file; it belongs to the override")
    for name, service in services.items():
        for port in published(service):
            if not port.startswith("127.0.0.1:"):
                problems.append(f"{name} publishes {port} beyond loopback by default")
    report.check(not problems, "deploy/docker-compose.yml  two replicas per service, PostgreSQL, "
                 "RabbitMQ, gateway on 127.0.0.1:8000 (nothing else published)",
                 "; ".join(problems))


def check_mongodb_override(services, override, report):
    problems = []
    if "mongodb" not in override:
        problems.append("the override has no mongodb service")
    for replica in ("order-1", "order-2"):
        if services.get(replica, {}).get("environment", {}).get("ORDER_STORE") != "postgres":
            problems.append(f"{replica} is not on postgres in the base file")
        changes = override.get(replica, {})
        if changes.get("environment", {}).get("ORDER_STORE") != "mongodb":
            problems.append(f"the override does not put {replica} on mongodb")
        if "mongodb" not in (changes.get("depends_on") or {}):
            problems.append(f"the override does not make {replica} wait for mongodb")
    for name in override:
        if name not in services and name != "mongodb":
            problems.append(f"the override adds {name}, which the base file lacks")
    report.check(not problems, "deploy/docker-compose.mongodb.yml  both order replicas on MongoDB, "
                 "after it is healthy", "; ".join(problems))


def published(service):
    """The service's published ports as Compose reads them with no variable
    set: `${VAR:-default}` is its default."""
    return [re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]*)\}", r"\1", str(port))
            for port in service.get("ports", [])]


def check_gateway(services, nginx_conf, report):
    text = nginx_conf.read_text()
    problems = []
    for host, port in re.findall(r"^\s*server\s+([\w.-]+):(\d+)", text, re.MULTILINE):
        if services.get(host, {}).get("environment", {}).get("HTTP_PORT") != port:
            problems.append(f"upstream {host}:{port} is no compose service on that port")
    for prefix in ("/orders/", "/stock/", "/payment/", "/orders/checkout/"):
        if f"location {prefix} " not in text:
            problems.append(f"no location {prefix}")
    checkout = text.split("location /orders/checkout/", 1)[-1].split("}", 1)[0]
    if "non_idempotent" not in checkout or text.count("non_idempotent") != 1:
        problems.append("non_idempotent must be set for /orders/checkout/ only")
    report.check(not problems, "deploy/docker/nginx.conf  upstreams are the compose replicas, "
                 "checkout alone resent", "; ".join(problems))


def check_dockerfile(dockerfile, report):
    text = dockerfile.read_text()
    images = re.findall(r"^FROM\s+(\S+)", text, re.MULTILINE)
    unpinned = [i for i in images if ":" not in i or i.endswith(":latest")]
    problems = [f"base image {i} is not pinned" for i in unpinned]
    if not re.search(r"^USER\s+[1-9][0-9]*", text, re.MULTILINE):
        problems.append("the runtime user is not a numeric non-root uid")
    if "HEALTHCHECK" not in text:
        problems.append("no HEALTHCHECK")
    report.check(not problems, f"Dockerfile  {len(images)} stages on pinned images, non-root, health check",
                 "; ".join(problems))
