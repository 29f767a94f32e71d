"""Offline check of deploy/: `python3 deploy/k8s/validate` (check.sh runs it).

Layout:
  report.py      one line per thing checked, and the closing summary line
  manifests.py   renders the overlays with `kubectl kustomize`; validates each
                 document against the Kubernetes schemas (kubernetes-validate)
                 or a vendored CRD schema (crds/), plus the repository's rules
  charts.py      checks the Helm values files against the charts' documented
                 keys (chart-keys/) and the topology the cluster must have
  shard_job.py   checks that the sharding Job shards, as root, the database,
                 collection and key the order service checks for at start-up
  netpol.py      checks the NetworkPolicies by meaning: the default deny, that
                 selectors match pods, that ports are containerPorts, that the
                 paths the manifests use are open and the others closed
  budget.py      sums the CPU limits of the cluster overlay against the budget
  quantity.py    Kubernetes quantities ("500m", "1Gi") as exact numbers
  compose.py     checks deploy/docker-compose.yml, its nginx.conf and the
                 Dockerfile without Docker
Exits non-zero when anything failed.
"""

import sys
from pathlib import Path

# The modules below are imported from this directory: leave no __pycache__ in
# the work tree, however this is started.
sys.dont_write_bytecode = True

import budget  # noqa: E402
import charts  # noqa: E402
import compose  # noqa: E402
import manifests  # noqa: E402
import netpol  # noqa: E402
import shard_job  # noqa: E402
from report import Report  # noqa: E402

K8S_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = K8S_DIR.parent.parent
OVERLAYS = ("laptop", "cluster")


def read_versions(path):
    """versions.env: KEY=VALUE lines, comments and blanks ignored."""
    versions = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            versions[key] = value
    return versions


def main():
    report = Report()
    versions = read_versions(K8S_DIR / "versions.env")
    kubernetes_version = versions["KUBERNETES_VERSION"]
    rendered = {}
    for overlay in OVERLAYS:
        documents = manifests.render(K8S_DIR / "overlays" / overlay, report, overlay)
        manifests.validate_all(documents, overlay, kubernetes_version, report)
        netpol.check(documents, overlay, report)
        shard_job.check(documents, overlay, REPO_DIR, report)
        rendered[overlay] = documents
    values = charts.check_all(K8S_DIR / "values", K8S_DIR / "validate" / "chart-keys", report)
    charts.check_topology(values, rendered, report)
    budget.check(rendered["cluster"], values, versions, report)
    compose.check(REPO_DIR, report)
    report.summary("k8s check")
    return 0 if report.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
