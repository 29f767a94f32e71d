"""The CPU budget of the cluster overlay: the sum of every CPU limit the system
can reach must stay within CPU_BUDGET (versions.env).

Counted at the maximum: each service at its HPA's maxReplicas, each data store
at its replica count, one-shot Jobs as if they all ran at once, plus the
ingress controller and the two operators, which run beside the system. A
container without a CPU limit fails the check: it could take a whole node.
"""

from fractions import Fraction

import quantity
from charts import get

# The RabbitmqCluster CRD's default when spec.resources is left out.
RABBITMQ_DEFAULT_CPU = "2000m"


class Budget:
    def __init__(self):
        self.items = []
        self.problems = []

    def add(self, label, replicas, cpu_limit):
        if isinstance(cpu_limit, Fraction):
            cpu = cpu_limit
        else:
            cpu = quantity.parse(cpu_limit) if cpu_limit is not None else None
        if cpu is None:
            self.problems.append(f"{label} has no CPU limit")
            return
        self.items.append((label, replicas, cpu))

    def total(self):
        return sum((replicas * cpu for _, replicas, cpu in self.items), Fraction(0))


def pod_cpu(pod_spec):
    """What a pod may use: its containers together, or its largest init container."""
    limits = [quantity.parse(c.get("resources", {}).get("limits", {}).get("cpu"))
              for c in pod_spec.get("containers", [])]
    if any(limit is None for limit in limits):
        return None
    init = [quantity.parse(c.get("resources", {}).get("limits", {}).get("cpu")) or 0
            for c in pod_spec.get("initContainers", [])]
    return max([sum(limits, Fraction(0))] + init)


def add_workloads(budget, documents):
    maxima = {h["spec"]["scaleTargetRef"]["name"]: h["spec"]["maxReplicas"]
              for h in documents if h["kind"] == "HorizontalPodAutoscaler"}
    for document in documents:
        kind, name = document["kind"], document["metadata"]["name"]
        if kind in ("Deployment", "StatefulSet"):
            replicas = maxima.get(name, document["spec"].get("replicas", 1))
            budget.add(f"{kind} {name}", replicas, pod_cpu(document["spec"]["template"]["spec"]))
        elif kind == "Job":
            budget.add(f"Job {name}", document["spec"].get("parallelism", 1),
                       pod_cpu(document["spec"]["template"]["spec"]))
        elif kind == "RabbitmqCluster":
            cpu = get(document, "spec.resources.limits.cpu", RABBITMQ_DEFAULT_CPU)
            budget.add(f"RabbitMQ {name}", get(document, "spec.replicas", 1), cpu)
        elif kind == "Cluster":
            budget.add(f"PostgreSQL {name}", get(document, "spec.instances", 1),
                       get(document, "spec.resources.limits.cpu"))


def add_mongodb(budget, values):
    shards = get(values, "shards", 2)
    budget.add("MongoDB shard data nodes", shards * get(values, "shardsvr.dataNode.replicaCount", 1),
               get(values, "shardsvr.dataNode.resources.limits.cpu"))
    arbiters = shards * get(values, "shardsvr.arbiter.replicaCount", 0)
    if arbiters:
        budget.add("MongoDB arbiters", arbiters, get(values, "shardsvr.arbiter.resources.limits.cpu"))
    budget.add("MongoDB config servers", get(values, "configsvr.replicaCount", 1),
               get(values, "configsvr.resources.limits.cpu"))
    budget.add("MongoDB mongos routers", get(values, "mongos.replicaCount", 1),
               get(values, "mongos.resources.limits.cpu"))
    if get(values, "metrics.enabled", False):
        pods = shards * get(values, "shardsvr.dataNode.replicaCount", 1) + get(values, "configsvr.replicaCount", 1)
        budget.add("MongoDB metrics sidecars", pods, get(values, "metrics.resources.limits.cpu"))


def add_ingress(budget, values):
    if get(values, "controller.autoscaling.enabled", False):
        replicas = get(values, "controller.autoscaling.maxReplicas")
    else:
        replicas = get(values, "controller.replicaCount", 1)
    budget.add("ingress-nginx controllers", replicas, get(values, "controller.resources.limits.cpu"))
    if get(values, "controller.admissionWebhooks.enabled", True):
        for job in ("createSecretJob", "patchWebhookJob"):
            budget.add(f"ingress-nginx {job}", 1,
                       get(values, f"controller.admissionWebhooks.{job}.resources.limits.cpu"))


def check(documents, values, versions, report):
    budget = Budget()
    add_workloads(budget, documents)
    add_mongodb(budget, values.get("mongodb-sharded", {}).get("cluster", {}))
    add_ingress(budget, values.get("ingress-nginx", {}).get("cluster", {}))
    budget.add("CloudNativePG operator", 1, versions["CNPG_OPERATOR_CPU_LIMIT"])
    budget.add("RabbitMQ cluster operator", 1, versions["RABBITMQ_OPERATOR_CPU_LIMIT"])
    for label, replicas, cpu in budget.items:
        report.info(f"{float(replicas * cpu):6.2f} CPU  {label}: {replicas} x {float(cpu):g}")
    limit = Fraction(versions["CPU_BUDGET"])
    total = budget.total()
    report.check(not budget.problems, "cluster  every container has a CPU limit", "; ".join(budget.problems))
    report.check(total <= limit, f"cluster  sum of CPU limits: {float(total):g} of {limit} CPUs",
                 f"{float(total):g} CPUs is over the budget of {limit}")
