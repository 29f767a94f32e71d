"""Renders an overlay and validates every document it produces.

Built-in kinds go through kubernetes-validate in strict mode (unknown fields
are errors, as with the API server's strict field validation); the operators'
custom resources through the vendored CRD schemas in crds/, made strict the
same way. Then the rules this deployment relies on: probes on /<prefix>/health,
requests and limits, an HPA and a PDB per service, the ingress routes and
their TLS, pinned images.
"""

import functools
import subprocess
from pathlib import Path

import jsonschema
import kubernetes_validate.utils as kv
import yaml

CRD_DIR = Path(__file__).resolve().parent / "crds"
# Each service answers only its own prefixed paths.
PREFIXES = {"order": "orders", "stock": "stock", "payment": "payment"}
# The annotations with which cert-manager issues an Ingress's certificates.
CERT_MANAGER_ISSUERS = ("cert-manager.io/cluster-issuer", "cert-manager.io/issuer")

# kubernetes-validate re-reads the multi-megabyte definitions file for every
# document; reading it once keeps the whole check within seconds.
kv.schema_contents = functools.lru_cache(maxsize=None)(kv.schema_contents)


def render(overlay_dir, report, overlay):
    result = subprocess.run(["kubectl", "kustomize", str(overlay_dir)], capture_output=True, text=True)
    if result.returncode != 0:
        report.fail(f"{overlay}  kustomize build", result.stderr.strip())
        return []
    documents = [d for d in yaml.safe_load_all(result.stdout) if d]
    report.ok(f"{overlay}  kustomize build ({len(documents)} documents)")
    return documents


def strict(schema):
    """The schema with unknown properties rejected wherever it lists properties."""
    if isinstance(schema, dict):
        schema = {key: strict(value) for key, value in schema.items()}
        lists_properties = "properties" in schema and "additionalProperties" not in schema
        if lists_properties and not schema.get("x-kubernetes-preserve-unknown-fields"):
            schema["additionalProperties"] = False
    elif isinstance(schema, list):
        schema = [strict(item) for item in schema]
    return schema


@functools.lru_cache(maxsize=None)
def crd_schemas():
    schemas = {}
    for path in sorted(CRD_DIR.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        schemas[(crd["apiVersion"], crd["kind"])] = strict(crd["spec"])
    return schemas


def validate_document(document, kubernetes_version):
    """None when the document is valid, else why not."""
    key = (document.get("apiVersion"), document.get("kind"))
    if key in crd_schemas():
        if not document.get("metadata", {}).get("name"):
            return "metadata.name is missing"
        errors = sorted(jsonschema.Draft7Validator(crd_schemas()[key]).iter_errors(document.get("spec", {})),
                        key=lambda e: list(e.path))
        return "; ".join(f"{'.'.join(['spec', *map(str, e.path)])}: {e.message}" for e in errors) or None
    try:
        kv.validate(document, kubernetes_version, strict=True)
    except kv.ValidationError as error:
        return f"{'.'.join(map(str, error.path))}: {error.message}"
    except kv.SchemaNotFoundError as error:
        return f"no schema to validate it against ({error.message})"
    return None


def validate_all(documents, overlay, kubernetes_version, report):
    minor = ".".join(kubernetes_version.split(".")[:2])
    for document in documents:
        name = f"{document.get('kind')}/{document.get('metadata', {}).get('name')}"
        crd = (document.get("apiVersion"), document.get("kind")) in crd_schemas()
        against = "vendored CRD schema" if crd else f"Kubernetes {minor} schema"
        error = validate_document(document, kubernetes_version)
        report.check(error is None, f"{overlay}  {name}  ({against})", error)
    check_images(documents, overlay, report)
    check_services(documents, overlay, report)
    check_ingress(documents, overlay, report)
    check_tls(documents, overlay, report)


# The kinds whose pods come from a pod template (a CronJob's, one level down).
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job")


def template_of(document):
    """The pod template of a workload, or None for anything else."""
    if document["kind"] == "CronJob":
        return document["spec"]["jobTemplate"]["spec"]["template"]
    if document["kind"] in WORKLOAD_KINDS:
        return document["spec"]["template"]
    return None


def containers_in(template):
    spec = template.get("spec", {})
    return spec.get("initContainers", []) + spec.get("containers", [])


def containers_of(document):
    template = template_of(document)
    return containers_in(template) if template else []


def check_images(documents, overlay, report):
    unpinned = [
        f"{d['metadata']['name']}: {c['image']}"
        for d in documents
        for c in containers_of(d)
        if ":" not in c["image"].rsplit("/", 1)[-1] or c["image"].endswith(":latest")
    ]
    report.check(not unpinned, f"{overlay}  every image has a pinned tag", ", ".join(unpinned))


def check_services(documents, overlay, report):
    by_kind = {}
    for document in documents:
        by_kind.setdefault(document["kind"], []).append(document)
    for service, prefix in PREFIXES.items():
        deployment = next((d for d in by_kind.get("Deployment", []) if d["metadata"]["name"] == service), None)
        if deployment is None:
            report.fail(f"{overlay}  {service} service", "no Deployment")
            continue
        problems = service_problems(deployment, prefix, by_kind)
        report.check(not problems, f"{overlay}  {service}: probes on /{prefix}/health, resources, "
                     "non-root, HPA, PDB", "; ".join(problems))


def service_problems(deployment, prefix, by_kind):
    problems = []
    pod = deployment["spec"]["template"]["spec"]
    if not pod.get("securityContext", {}).get("runAsNonRoot"):
        problems.append("pod securityContext.runAsNonRoot is not true")
    for container in pod["containers"]:
        for probe in ("readinessProbe", "livenessProbe"):
            path = container.get(probe, {}).get("httpGet", {}).get("path")
            if path != f"/{prefix}/health":
                problems.append(f"{container['name']} {probe} path is {path}")
        resources = container.get("resources", {})
        for bound in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                if resource not in resources.get(bound, {}):
                    problems.append(f"{container['name']} has no {resource} {bound[:-1]}")
    name = deployment["metadata"]["name"]
    if not any(h["spec"]["scaleTargetRef"]["name"] == name for h in by_kind.get("HorizontalPodAutoscaler", [])):
        problems.append("no HorizontalPodAutoscaler targets it")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    if not any(selects(p["spec"]["selector"], labels) for p in by_kind.get("PodDisruptionBudget", [])):
        problems.append("no PodDisruptionBudget selects its pods")
    return problems


def selects(selector, labels):
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def check_ingress(documents, overlay, report):
    routes, retries = {}, {}
    for ingress in (d for d in documents if d["kind"] == "Ingress"):
        annotation = ingress["metadata"].get("annotations", {}).get("nginx.ingress.kubernetes.io/proxy-next-upstream")
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                routes[path["path"]] = path["backend"]["service"]["name"]
                retries[path["path"]] = annotation or ""
    wanted = {f"/{prefix}/": service for service, prefix in PREFIXES.items()}
    wanted["/orders/checkout/"] = "order"
    report.check(all(routes.get(p) == s for p, s in wanted.items()), f"{overlay}  ingress routes "
                 "/orders/, /stock/, /payment/ and /orders/checkout/", f"routes are {routes}")
    resent = [p for p, value in retries.items() if "non_idempotent" in value.split()]
    report.check(resent == ["/orders/checkout/"], f"{overlay}  only /orders/checkout/ is resent after a "
                 "replica died mid-request (non_idempotent)", f"non_idempotent on {resent}")


def check_tls(documents, overlay, report):
    """Every Ingress names its certificate Secret; the hosts of its rules and of
    its `tls` are the same (ingress-nginx serves a certificate only for hosts
    its rules carry; a rule host missing from `tls` would be plain HTTP); a
    cert-manager issuer only where `tls` names hosts (it certifies those), and
    on one Ingress per Secret (cert-manager names the Certificate after the
    Secret: two Ingresses would fight over it)."""
    problems, secrets, hosts, issuers = [], set(), set(), {}
    for ingress in (d for d in documents if d["kind"] == "Ingress"):
        name, spec = ingress["metadata"]["name"], ingress["spec"]
        tls = spec.get("tls") or []
        if not tls or not all(t.get("secretName") for t in tls):
            problems.append(f"{name} names no certificate Secret in tls")
        rule_hosts = {r["host"] for r in spec.get("rules", []) if r.get("host")}
        tls_hosts = {h for t in tls for h in t.get("hosts", [])}
        if rule_hosts != tls_hosts:
            problems.append(f"{name}: rules serve hosts {sorted(rule_hosts)}, tls covers {sorted(tls_hosts)}")
        secrets.update(t["secretName"] for t in tls if t.get("secretName"))
        hosts |= rule_hosts
        annotations = ingress["metadata"].get("annotations", {})
        issuer = next((f"{a.split('/')[1]} {annotations[a]}" for a in CERT_MANAGER_ISSUERS if a in annotations), None)
        if issuer:
            if not tls_hosts:
                problems.append(f"{name} asks cert-manager for a certificate but tls names no host")
            for secret in {t.get("secretName") for t in tls}:
                issuers.setdefault(secret, []).append((name, issuer))
    for secret, requests in issuers.items():
        if len(requests) > 1:
            problems.append(f"cert-manager is asked for Secret {secret} by {', '.join(n for n, _ in requests)}")
    if hosts:
        issued = "; ".join(f"{s} issued by cert-manager ({r[0][1]})" for s, r in issuers.items()) \
            or "no cert-manager issuer (the Secret is provided by hand)"
        subject = f"HTTPS for {', '.join(sorted(hosts))} with Secret {', '.join(sorted(secrets))}, {issued}"
    else:
        subject = (f"tls names Secret {', '.join(sorted(secrets))}; no host in the rules, so ingress-nginx keeps "
                   "its own certificate and HTTP is not redirected (no cert-manager needed)")
    report.check(not problems, f"{overlay}  ingress TLS: {subject}", "; ".join(problems))
    for host in sorted(h for h in hosts if h == "example.com" or h.endswith(".example.com")):
        report.info(f"{overlay}  ingress host {host} is a placeholder: set the real one in overlays/{overlay}")
