"""The Helm values files, checked without Helm: every key set must be one the
chart documents (chart-keys/<chart>.yaml) with a value of the documented
type; resources must be Kubernetes resource requirements; images pinned; and
the cluster values must give the topology the deployment promises."""

import yaml

import quantity

TYPES = {"string": str, "integer": int, "boolean": bool, "object": dict, "array": list}


def check_all(values_dir, keys_dir, report):
    """Checks values/<chart>/<overlay>.yaml; returns {chart: {overlay: values}}."""
    loaded = {}
    for keys_file in sorted(keys_dir.glob("*.yaml")):
        reference = yaml.safe_load(keys_file.read_text())
        chart, documented = reference["chart"], reference["keys"]
        for values_file in sorted((values_dir / chart).glob("*.yaml")):
            values = yaml.safe_load(values_file.read_text()) or {}
            problems = list(unknown_or_mistyped(values, documented, ""))
            problems += resource_problems(values, documented)
            problems += image_problems(values)
            subject = f"values/{chart}/{values_file.name}  ({count_keys(values, documented)} keys set)"
            report.check(not problems, subject, "; ".join(problems))
            loaded.setdefault(chart, {})[values_file.stem] = values
    return loaded


def unknown_or_mistyped(values, documented, prefix):
    for key, value in values.items():
        path = f"{prefix}{key}"
        expected = documented.get(path)
        if expected is not None:
            python_type = TYPES[expected]
            if not isinstance(value, python_type) or (python_type is int and isinstance(value, bool)):
                yield f"{path} should be {expected}, is {type(value).__name__}"
        elif isinstance(value, dict):
            yield from unknown_or_mistyped(value, documented, f"{path}.")
        else:
            yield f"{path} is not a documented key of the chart"


def count_keys(values, documented, prefix=""):
    return sum(
        1 if f"{prefix}{k}" in documented or not isinstance(v, dict) else count_keys(v, documented, f"{prefix}{k}.")
        for k, v in values.items()
    )


def leaves(values, prefix=""):
    for key, value in values.items():
        if isinstance(value, dict):
            yield from leaves(value, f"{prefix}{key}.")
        yield f"{prefix}{key}", value


def resource_problems(values, documented):
    problems = []
    for path, value in leaves(values):
        if not path.endswith("resources") or documented.get(path) != "object":
            continue
        for bound, amounts in value.items():
            if bound not in ("requests", "limits") or not isinstance(amounts, dict):
                problems.append(f"{path}.{bound} is not requests or limits")
                continue
            for resource, amount in amounts.items():
                if quantity.parse(amount) is None:
                    problems.append(f"{path}.{bound}.{resource}={amount!r} is not a quantity")
    return problems


def image_problems(values):
    problems = []
    for path, value in leaves(values):
        if path.endswith("image") and isinstance(value, dict) and "repository" in value:
            tag = str(value.get("tag", ""))
            if not tag or tag == "latest":
                problems.append(f"{path}.tag is not pinned")
    return problems


def get(values, path, default=None):
    for key in path.split("."):
        if not isinstance(values, dict) or key not in values:
            return default
        values = values[key]
    return values


def check_topology(values, rendered, report):
    mongodb = values.get("mongodb-sharded", {}).get("cluster", {})
    shape = (get(mongodb, "shards"), get(mongodb, "shardsvr.dataNode.replicaCount"),
             get(mongodb, "configsvr.replicaCount"), get(mongodb, "mongos.replicaCount"))
    report.check(shape == (3, 3, 3, 2), "cluster  MongoDB: 3 shards x 3 data nodes, 3 config servers, "
                 "2 mongos", f"shards, data nodes, config servers, routers are {shape}")
    by_kind = {d["kind"]: d for d in rendered["cluster"]}
    rabbitmq = get(by_kind.get("RabbitmqCluster", {}), "spec.replicas")
    report.check(rabbitmq == 3, "cluster  RabbitMQ: a 3-node cluster", f"replicas is {rabbitmq}")
    instances = get(by_kind.get("Cluster", {}), "spec.instances")
    report.check(isinstance(instances, int) and instances >= 2,
                 "cluster  PostgreSQL: a primary and replicas", f"instances is {instances}")
    check_job_image(values, rendered, report)


def check_job_image(values, rendered, report):
    """The sharding Job runs the servers' own mongosh: its image must follow the chart's."""
    for overlay, chart_values in sorted(values.get("mongodb-sharded", {}).items()):
        job = next((d for d in rendered.get(overlay, []) if d["kind"] == "Job"), None)
        used = job["spec"]["template"]["spec"]["containers"][0]["image"] if job else None
        image = get(chart_values, "image", {})
        wanted = f"{image.get('registry')}/{image.get('repository')}:{image.get('tag')}"
        report.check(used == wanted, f"{overlay}  the sharding Job runs the chart's image {wanted}",
                     f"the Job runs {used}")
