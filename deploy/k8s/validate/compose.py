"""deploy/docker-compose.yml, its gateway configuration and the Dockerfile,
checked without Docker (there is none where CI runs): references resolve,
the topology is the promised one, and every image is pinned."""

import re

import yaml

SERVICES = {"order": ("8101", "/orders/health"), "stock": ("8201", "/stock/health"),
            "payment": ("8301", "/payment/health")}


def check(repo_dir, report):
    compose_file = repo_dir / "deploy" / "docker-compose.yml"
    compose = yaml.safe_load(compose_file.read_text())
    services = compose.get("services", {})
    report.check(not list(reference_problems(compose, compose_file.parent)),
                 f"deploy/docker-compose.yml  {len(services)} services, references resolve",
                 "; ".join(reference_problems(compose, compose_file.parent)))
    check_topology(services, report)
    check_gateway(services, compose_file.parent / "docker" / "nginx.conf", report)
    check_dockerfile(repo_dir / "Dockerfile", report)


def reference_problems(compose, base_dir):
    services = compose.get("services", {})
    volumes = compose.get("volumes", {}) or {}
    for name, service in services.items():
        for dependency, condition in (service.get("depends_on") or {}).items():
            optional = isinstance(condition, dict) and condition.get("required") is False
            if dependency not in services and not optional:
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
    if "mongodb" not in services.get("mongodb", {}).get("profiles", []):
        problems.append("mongodb is not behind the mongodb profile")
    for name, service in services.items():
        for port in published(service):
            if not port.startswith("127.0.0.1:"):
                problems.append(f"{name} publishes {port} beyond loopback by default")
    report.check(not problems, "deploy/docker-compose.yml  two replicas per service, PostgreSQL, "
                 "RabbitMQ, gateway on 127.0.0.1:8000 (nothing else published), MongoDB profile",
                 "; ".join(problems))


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
