"""Renders an overlay and validates every document it produces.

Built-in kinds go through kubernetes-validate in strict mode (unknown fields
are errors, as with the API server's strict field validation); the operators'
custom resources through the vendored CRD schemas in crds/, made strict the
same way. Then the rules this deployment relies on: probes on /<prefix>/health,
requests and limits, an HPA and a PDB per service, the ingress routes, pinned
images.
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


def containers_of(document):
    spec = document.get("spec", {}).get("template", {}).get("spec", {})
    return spec.get("initContainers", []) + spec.get("containers", [])


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
