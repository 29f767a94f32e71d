"""What each deployment hands each service container, read the way
Kubernetes or Compose would read it: the command, the environment (image
ENV, ConfigMaps, Secrets and `$(VAR)` references resolved), the port and
the paths its probes ask; and what the deployment's datastores must hold for
those credentials to be right (roles, databases, broker users)."""
import base64
import functools
import re
import secrets
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S_OVERLAYS = ("laptop", "cluster")
COMPOSE_FILE = ROOT / "deploy" / "docker-compose.yml"
# What the project's image is called in each deployment.
K8S_IMAGE = "webshop"
COMPOSE_IMAGE = "webshop:"


def _random() -> str:
    return secrets.token_hex(24)


# Secrets no overlay keeps in git, and who makes them in a real cluster.
# A manifest that references any other missing Secret fails the test.
GENERATED_SECRETS = {
    # deploy.sh's ensure_secrets
    **{
        f"webshop-pg-{service}": (lambda service=service: {"username": f"webshop_{service}", "password": _random()})
        for service in ("order", "stock", "payment")
    },
    "orders-mongodb-auth": lambda: {
        "mongodb-root-password": _random(),
        "mongodb-replica-set-key": _random(),
        "mongodb-app-password": _random(),
    },
    # the RabbitMQ cluster operator, for RabbitmqCluster webshop-rabbitmq
    "webshop-rabbitmq-default-user": lambda: {"username": "default_user_" + _random()[:20], "password": _random()},
}


@dataclass
class Container:
    deployment: str
    name: str
    command: list[str]
    env: dict[str, str]
    port: int
    # Kubernetes: the paths its probes GET on `port`.
    probe_paths: list[str] = field(default_factory=list)
    # Compose: the health check command, run beside the service.
    healthcheck: list[str] | None = None


@dataclass
class Deployment:
    name: str
    containers: list[Container]
    # role -> (password, superuser)
    roles: dict[str, tuple[str, bool]] = field(default_factory=dict)
    # database -> owner
    databases: dict[str, str] = field(default_factory=dict)
    # SQL and shell scripts the database runs at its first start (Compose's
    # /docker-entrypoint-initdb.d), with the environment they see.
    init_scripts: list[tuple[Path, dict[str, str]]] = field(default_factory=list)
    broker_users: dict[str, str] = field(default_factory=dict)

    def host_names(self) -> set[str]:
        """Every host name the containers' URLs name: mapped to the sandbox."""
        names = set()
        for container in self.containers:
            for value in container.env.values():
                for host in re.findall(r"[a-z][a-z0-9+.-]*://(?:[^@/\s]*@)?([A-Za-z0-9.-]+)", value):
                    if not re.fullmatch(r"[0-9.]+|localhost", host):
                        names.add(host)
        return names


@functools.cache
def runtime_stage() -> tuple[str, ...]:
    """The lines of the Dockerfile's last stage: the image that runs."""
    return tuple((ROOT / "Dockerfile").read_text().split("\nFROM ")[-1].splitlines())


def image_env() -> dict[str, str]:
    """The `ENV` lines of the runtime stage."""
    env: dict[str, str] = {}
    for line in runtime_stage():
        if line.startswith("ENV "):
            for pair in line[4:].split():
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def expand_k8s(value: str, defined: dict[str, str]) -> str:
    """Kubernetes' `$(VAR)`: replaced when VAR was defined before, kept
    as written otherwise; `$$` is a literal `$`."""

    def one(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        return defined.get(match.group(1), match.group(0))

    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)", one, value)


def k8s(overlay: str) -> Deployment:
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(ROOT / "deploy" / "k8s" / "overlays" / overlay)],
        check=True, capture_output=True, text=True,
    ).stdout
    docs = [doc for doc in yaml.safe_load_all(rendered) if doc]
    config_maps = {d["metadata"]["name"]: d.get("data", {}) for d in docs if d["kind"] == "ConfigMap"}
    secret_data = {d["metadata"]["name"]: _secret(d) for d in docs if d["kind"] == "Secret"}
    for name, make in GENERATED_SECRETS.items():
        secret_data.setdefault(name, make())

    def secret(name: str, key: str) -> str:
        if name not in secret_data or key not in secret_data[name]:
            raise LookupError(f"{overlay}: Secret {name} key {key} is neither in the overlay nor made by deploy.sh or an operator")
        return secret_data[name][key]

    deployment = Deployment(name=f"k8s {overlay}", containers=[])
    for doc in docs:
        if doc["kind"] != "Deployment":
            continue
        for spec in doc["spec"]["template"]["spec"]["containers"]:
            if spec["image"].split(":")[0] == K8S_IMAGE:
                deployment.containers.append(_k8s_container(deployment.name, spec, config_maps, secret))
    for doc in docs:
        if doc["kind"] == "Cluster":
            initdb = doc["spec"]["bootstrap"]["initdb"]
            owner = initdb["owner"]
            deployment.roles[owner] = (secret(initdb["secret"]["name"], "password"), False)
            deployment.databases[initdb["database"]] = owner
            for role in doc["spec"].get("managed", {}).get("roles", []):
                password = secret(role["passwordSecret"]["name"], "password")
                deployment.roles[role["name"]] = (password, role.get("superuser", False))
        elif doc["kind"] == "Database":
            deployment.databases[doc["spec"]["name"]] = doc["spec"]["owner"]
        elif doc["kind"] == "RabbitmqCluster":
            user = f"{doc['metadata']['name']}-default-user"
            deployment.broker_users[secret(user, "username")] = secret(user, "password")
    return deployment


def _secret(doc: dict) -> dict[str, str]:
    data = {k: base64.b64decode(v).decode() for k, v in (doc.get("data") or {}).items()}
    data.update(doc.get("stringData") or {})
    return data


def _k8s_container(deployment: str, spec: dict, config_maps: dict, secret) -> Container:
    env = image_env()
    for source in spec.get("envFrom", []):
        env.update(config_maps[source["configMapRef"]["name"]])
    for var in spec.get("env", []):
        if "value" in var:
            env[var["name"]] = expand_k8s(var["value"], env)
        else:
            ref = var["valueFrom"]["secretKeyRef"]
            env[var["name"]] = secret(ref["name"], ref["key"])
    ports = {p.get("name"): p["containerPort"] for p in spec["ports"]}
    probes = [spec[p]["httpGet"] for p in ("startupProbe", "readinessProbe", "livenessProbe") if p in spec]
    port_numbers = {ports.get(probe["port"], probe["port"]) for probe in probes}
    if len(port_numbers) != 1:
        raise ValueError(f"{deployment} {spec['name']}: probes on ports {port_numbers}, expected one")
    return Container(
        deployment=deployment,
        name=spec["name"],
        command=spec.get("command", []) + spec.get("args", []),
        env=env,
        port=int(port_numbers.pop()),
        probe_paths=sorted({probe["path"] for probe in probes}),
    )


def interpolate_compose(value, shell: dict[str, str]):
    """Compose's `${VAR}`, `${VAR:-default}`, `${VAR-default}` and `$$`,
    from `shell` (the test gives none: every default applies)."""
    if isinstance(value, dict):
        return {k: interpolate_compose(v, shell) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate_compose(v, shell) for v in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, default = match.group(1), match.group(2), match.group(3) or ""
        current = shell.get(name)
        if op == ":-":
            return current or default
        if op == "-":
            return default if current is None else current
        return current or ""

    return re.sub(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:-|-)([^}]*))?\}", one, value)


def compose() -> Deployment:
    file = interpolate_compose(yaml.safe_load(COMPOSE_FILE.read_text()), {})
    services = file["services"]
    deployment = Deployment(name="compose", containers=[])
    for name, service in services.items():
        if service.get("profiles") or not str(service.get("image", "")).startswith(COMPOSE_IMAGE):
            continue
        env = image_env()
        env.update({k: str(v) for k, v in _compose_env(service).items()})
        test = service["healthcheck"]["test"]
        healthcheck = test[1:] if test[0] == "CMD" else ["/bin/sh", "-c", test[1]]
        deployment.containers.append(Container(
            deployment="compose",
            name=name,
            command=service["command"],
            env=env,
            port=int(env["HTTP_PORT"]),
            healthcheck=healthcheck,
        ))
    pg = _compose_env(services["postgres"])
    user = pg.get("POSTGRES_USER", "postgres")
    deployment.roles[user] = (pg["POSTGRES_PASSWORD"], True)
    deployment.databases[pg.get("POSTGRES_DB", user)] = user
    for volume in services["postgres"].get("volumes", []):
        source, _, target = str(volume).partition(":")
        if target.split(":")[0].startswith("/docker-entrypoint-initdb.d"):
            path = (COMPOSE_FILE.parent / source).resolve()
            scripts = sorted(path.iterdir()) if path.is_dir() else [path]
            deployment.init_scripts += [(script, pg) for script in scripts]
    broker = _compose_env(services["rabbitmq"])
    deployment.broker_users[broker.get("RABBITMQ_DEFAULT_USER", "guest")] = broker.get("RABBITMQ_DEFAULT_PASS", "guest")
    return deployment


def _compose_env(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def all_deployments() -> list[Deployment]:
    return [k8s(overlay) for overlay in K8S_OVERLAYS] + [compose()]
