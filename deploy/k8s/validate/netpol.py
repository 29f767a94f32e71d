"""The NetworkPolicies of an overlay, checked by what they mean, not only by
their schema (manifests.py does that):

  (a) a default deny: a policy selecting every pod, for ingress and egress,
      with no rule;
  (b) every pod and namespace selector matches something: a pod template
      the overlay renders, or a pod of an operator or chart as KNOWN_PODS
      declares it (its labels as of the versions in versions.env);
  (c) every port a policy opens to one of the project's pods (the rendered
      Deployments and Jobs) is a containerPort of that pod;
  (d) every path the manifests use is open at both ends: the Ingress
      backends from the ingress controller, each host:port in a container's
      environment, ConfigMaps or --host/--port arguments, DNS, the Prometheus
      scrape, and the operators' and data stores' own traffic (OPERATOR_PATHS);
  (e) paths nothing needs stay closed (CLOSED_PATHS).

The evaluation follows the NetworkPolicy semantics: a pod selected by no
policy of a direction is open in that direction; a selected one accepts only
what some rule of a selecting policy allows (source or destination, port and
protocol). Only the policies of the rendered namespace exist here: pods of
other namespaces are unrestricted at their end. Addresses outside the cluster
(the API server, the internet) match only rules without peers or ipBlock
peers. Policies a chart may add at install time (mongodb-sharded's own) are
not modelled: they only add paths.
"""

import re
from dataclasses import dataclass, field

from manifests import containers_in, template_of

NAMESPACE = "webshop"
# The label a namespace needs for its pods (Prometheus) to scrape /metrics;
# deploy/k8s/README.md tells it too.
SCRAPE_LABEL = {"webshop/scrape-metrics": "true"}

# Namespaces the policies may name, with the labels they carry. monitoring
# stands for any namespace labelled for scraping; other-namespace for any
# other namespace, with nothing but its name.
NAMESPACES = {
    NAMESPACE: {},
    "kube-system": {},
    "ingress-nginx": {},
    "cnpg-system": {},
    "rabbitmq-system": {},
    "monitoring": SCRAPE_LABEL,
    "other-namespace": {},
}
NAMESPACES = {name: {"kubernetes.io/metadata.name": name, **labels} for name, labels in NAMESPACES.items()}

EXTERNAL = "(outside the cluster)"


@dataclass
class Pod:
    key: str
    namespace: str
    labels: dict
    ports: dict = field(default_factory=dict)  # containerPort name (or str(number)) -> number

    @property
    def external(self):
        return self.namespace == EXTERNAL


_MONGODB = {"app.kubernetes.io/name": "mongodb-sharded", "app.kubernetes.io/instance": "orders-mongodb",
            "app.kubernetes.io/managed-by": "Helm"}
_CNPG = {"cnpg.io/cluster": "webshop-pg"}

# Pods no manifest here renders, with the labels their operator or chart puts
# on them (CloudNativePG 1.30, RabbitMQ cluster operator 2.19, the
# ingress-nginx and bitnami/mongodb-sharded charts of versions.env) and the
# ports they listen on. The one table the selectors of (b) may match beside
# the rendered pod templates.
KNOWN_PODS = [
    Pod("webshop-pg primary", NAMESPACE,
        {**_CNPG, "cnpg.io/podRole": "instance", "cnpg.io/instanceRole": "primary", "role": "primary"},
        {"postgresql": 5432, "status": 8000, "metrics": 9187}),
    Pod("webshop-pg replica", NAMESPACE,
        {**_CNPG, "cnpg.io/podRole": "instance", "cnpg.io/instanceRole": "replica", "role": "replica"},
        {"postgresql": 5432, "status": 8000, "metrics": 9187}),
    # initdb on the first instance's volume, pg_basebackup for each replica.
    Pod("webshop-pg join Job", NAMESPACE, {**_CNPG, "cnpg.io/jobRole": "join"}),
    Pod("webshop-rabbitmq node", NAMESPACE,
        {"app.kubernetes.io/name": "webshop-rabbitmq", "app.kubernetes.io/component": "rabbitmq",
         "app.kubernetes.io/part-of": "rabbitmq"},
        {"epmd": 4369, "amqp": 5672, "management": 15672, "prometheus": 15692, "cluster-links": 25672}),
    Pod("mongos", NAMESPACE, {**_MONGODB, "app.kubernetes.io/component": "mongos"}, {"mongodb": 27017}),
    Pod("mongodb config server", NAMESPACE, {**_MONGODB, "app.kubernetes.io/component": "configsvr"},
        {"mongodb": 27017}),
    Pod("mongodb shard member", NAMESPACE, {**_MONGODB, "app.kubernetes.io/component": "shardsvr", "shard": "0"},
        {"mongodb": 27017}),
    Pod("ingress-nginx controller", "ingress-nginx",
        {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/instance": "ingress-nginx",
         "app.kubernetes.io/component": "controller"}, {"http": 80, "https": 443}),
    Pod("cluster DNS", "kube-system", {"k8s-app": "kube-dns"}, {"dns": 53, "dns-tcp": 53}),
    Pod("CloudNativePG operator", "cnpg-system", {"app.kubernetes.io/name": "cloudnative-pg"}),
    Pod("RabbitMQ cluster operator", "rabbitmq-system",
        {"app.kubernetes.io/name": "rabbitmq-cluster-operator", "app.kubernetes.io/component": "rabbitmq-operator"}),
    Pod("Prometheus", "monitoring", {"app.kubernetes.io/name": "prometheus"}),
    Pod("a pod of another namespace", "other-namespace", {"app": "anything"}),
    Pod("the API server", EXTERNAL, {}, {"https": 443, "https-endpoint": 6443}),
    Pod("the internet", EXTERNAL, {}, {"https": 443, "http": 80}),
]

# Services the operators and charts create (not rendered here): the pods they
# select; their ports are the pods' own.
KNOWN_SERVICES = {
    "webshop-pg-rw": {**_CNPG, "cnpg.io/instanceRole": "primary"},
    "webshop-pg-ro": {**_CNPG, "cnpg.io/instanceRole": "replica"},
    "webshop-pg-r": _CNPG,
    "webshop-rabbitmq": {"app.kubernetes.io/name": "webshop-rabbitmq"},
    # Headless: the services name each node as <pod>.webshop-rabbitmq-nodes.
    "webshop-rabbitmq-nodes": {"app.kubernetes.io/name": "webshop-rabbitmq"},
    "orders-mongodb": {"app.kubernetes.io/name": "mongodb-sharded", "app.kubernetes.io/instance": "orders-mongodb",
                       "app.kubernetes.io/component": "mongos"},
}

# What the operators and data stores do among themselves or from their
# namespaces (source, destination, port, protocol), beyond what the rendered
# manifests show.
OPERATOR_PATHS = [
    ("CloudNativePG operator", "webshop-pg primary", 8000, "TCP"),
    ("CloudNativePG operator", "webshop-pg replica", 8000, "TCP"),
    ("CloudNativePG operator", "webshop-pg primary", 5432, "TCP"),
    ("webshop-pg replica", "webshop-pg primary", 5432, "TCP"),
    ("webshop-pg join Job", "webshop-pg primary", 5432, "TCP"),
    # The instance manager works through the Kubernetes API: the kubernetes
    # Service (443) and, after its NAT, the API server's own port (6443 on
    # most distributions).
    *[(pod, "the API server", port, "TCP") for pod in ("webshop-pg primary", "webshop-pg replica",
                                                       "webshop-pg join Job") for port in (443, 6443)],
    ("webshop-rabbitmq node", "webshop-rabbitmq node", 4369, "TCP"),
    ("webshop-rabbitmq node", "webshop-rabbitmq node", 25672, "TCP"),
    ("RabbitMQ cluster operator", "webshop-rabbitmq node", 15672, "TCP"),
    ("mongos", "mongodb config server", 27017, "TCP"),
    ("mongos", "mongodb shard member", 27017, "TCP"),
    ("mongodb shard member", "mongodb shard member", 27017, "TCP"),
    ("mongodb shard member", "mongodb config server", 27017, "TCP"),
    ("mongodb shard member", "mongos", 27017, "TCP"),
    ("mongodb config server", "mongodb config server", 27017, "TCP"),
    ("mongodb config server", "mongodb shard member", 27017, "TCP"),
    ("Prometheus", "webshop-pg primary", 9187, "TCP"),
    ("Prometheus", "webshop-rabbitmq node", 15692, "TCP"),
]

# Paths nothing needs, which must stay closed. A project pod as source or
# destination is named by its workload (`Deployment/order`); "*" stands for
# every project service (each Deployment, on each containerPort).
CLOSED_PATHS = [
    ("a pod of another namespace", "*", None, "TCP"),
    ("a pod of another namespace", "webshop-pg primary", 5432, "TCP"),
    ("a pod of another namespace", "webshop-rabbitmq node", 5672, "TCP"),
    ("ingress-nginx controller", "webshop-pg primary", 5432, "TCP"),
    ("ingress-nginx controller", "webshop-rabbitmq node", 5672, "TCP"),
    ("ingress-nginx controller", "mongos", 27017, "TCP"),
    ("Prometheus", "webshop-pg primary", 5432, "TCP"),
    ("Deployment/stock", "Deployment/payment", None, "TCP"),
    ("Deployment/payment", "Deployment/stock", None, "TCP"),
    ("Deployment/stock", "Deployment/order", None, "TCP"),
    ("Deployment/stock", "mongos", 27017, "TCP"),
    ("Deployment/payment", "mongos", 27017, "TCP"),
    ("Deployment/order", "mongodb shard member", 27017, "TCP"),
    ("Deployment/order", "webshop-rabbitmq node", 25672, "TCP"),
    ("Job/orders-mongodb-shard", "webshop-pg primary", 5432, "TCP"),
    ("Deployment/order", "the internet", 443, "TCP"),
    ("Deployment/stock", "the internet", 443, "TCP"),
    ("Deployment/payment", "the internet", 443, "TCP"),
    ("Job/orders-mongodb-shard", "the internet", 443, "TCP"),
    ("webshop-rabbitmq node", "the internet", 443, "TCP"),
]

# scheme://[user[:password]@]host:port...
URL = re.compile(r"^[a-z][a-z0-9+.-]*://(?:[^@/\s]*@)?([A-Za-z0-9.-]+):(\d+)")


def selects(selector, labels):
    """A label selector (matchLabels and matchExpressions) against labels; {} selects everything."""
    if selector is None:
        return True
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def is_empty(selector):
    return not (selector or {}).get("matchLabels") and not (selector or {}).get("matchExpressions")


def rendered_pods(documents):
    pods = []
    for document in documents:
        template = template_of(document)
        if template is None:
            continue
        ports = {}
        for container in containers_in(template):
            for port in container.get("ports", []):
                ports[port.get("name") or str(port["containerPort"])] = port["containerPort"]
        pods.append(Pod(f"{document['kind']}/{document['metadata']['name']}",
                        document["metadata"].get("namespace", NAMESPACE),
                        template.get("metadata", {}).get("labels", {}), ports))
    return pods


def policy_types(policy):
    spec = policy["spec"]
    return spec.get("policyTypes") or (["Ingress"] + (["Egress"] if "egress" in spec else []))


def peer_matches(peer, policy_namespace, pod):
    if "ipBlock" in peer:
        return pod.external
    if pod.external:
        return False
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], NAMESPACES.get(pod.namespace, {})):
            return False
    elif pod.namespace != policy_namespace:
        return False
    return selects(peer.get("podSelector"), pod.labels)


def port_matches(rule_ports, destination, port, protocol):
    if not rule_ports:
        return True
    for allowed in rule_ports:
        if allowed.get("protocol", "TCP") != protocol:
            continue
        value = allowed.get("port")
        if value is None:
            return True
        if isinstance(value, int):
            if value <= port <= allowed.get("endPort", value):
                return True
        elif destination.ports.get(value) == port:
            return True
    return False


def side_allows(policies, selected, peer, destination, port, protocol, direction):
    """None when `selected`'s policies of `direction` let the connection through, else why not."""
    peers_key = "from" if direction == "Ingress" else "to"
    rules_key = direction.lower()
    governing = [p for p in policies
                 if selected.namespace == p["metadata"].get("namespace", NAMESPACE)
                 and direction in policy_types(p) and selects(p["spec"].get("podSelector"), selected.labels)]
    if not governing:
        return None
    for policy in governing:
        for rule in policy["spec"].get(rules_key) or []:
            peers = rule.get(peers_key)
            namespace = policy["metadata"].get("namespace", NAMESPACE)
            if (not peers or any(peer_matches(p, namespace, peer) for p in peers)) \
                    and port_matches(rule.get("ports"), destination, port, protocol):
                return None
    return f"no {direction.lower()} rule of {', '.join(p['metadata']['name'] for p in governing)} allows it"


def blocked(policies, source, destination, port, protocol):
    """None when the connection is allowed, else why not."""
    why = None if source.external else side_allows(policies, source, destination, destination, port, protocol,
                                                   "Egress")
    if why is None and not destination.external:
        why = side_allows(policies, destination, source, destination, port, protocol, "Ingress")
    return why


def check(documents, overlay, report):
    policies = [d for d in documents if d["kind"] == "NetworkPolicy"]
    if not policies:
        report.fail(f"{overlay}  NetworkPolicies", "none rendered")
        return
    project = rendered_pods(documents)
    pods = project + KNOWN_PODS
    check_default_deny(policies, overlay, report)
    for policy in policies:
        check_selectors(policy, pods, overlay, report)
    for pod in project:
        check_ports(policies, pod, overlay, report)
    check_paths(documents, policies, project, pods, overlay, report)


def check_default_deny(policies, overlay, report):
    deny = [p["metadata"]["name"] for p in policies
            if p["metadata"].get("namespace", NAMESPACE) == NAMESPACE
            and is_empty(p["spec"].get("podSelector"))
            and set(p["spec"].get("policyTypes") or []) == {"Ingress", "Egress"}
            and not p["spec"].get("ingress") and not p["spec"].get("egress")]
    report.check(bool(deny), f"{overlay}  NetworkPolicy default deny of ingress and egress for every pod in "
                 f"{NAMESPACE} ({', '.join(deny) or 'none'})",
                 "no policy with an empty podSelector, both policyTypes and no rule")


def check_selectors(policy, pods, overlay, report):
    namespace = policy["metadata"].get("namespace", NAMESPACE)
    problems, count = [], 1
    selector = policy["spec"].get("podSelector")
    if not any(p.namespace == namespace and selects(selector, p.labels) for p in pods):
        problems.append(f"podSelector {selector} matches no pod")
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        for rule in policy["spec"].get(direction) or []:
            for peer in rule.get(peers_key) or []:
                if "ipBlock" in peer:
                    continue
                count += 1
                if "namespaceSelector" in peer:
                    matched = [n for n, labels in NAMESPACES.items() if selects(peer["namespaceSelector"], labels)]
                    if not matched:
                        problems.append(f"{direction} namespaceSelector {peer['namespaceSelector']} matches no "
                                        "namespace")
                        continue
                else:
                    matched = [namespace]
                if "podSelector" in peer and not any(
                        p.namespace in matched and selects(peer["podSelector"], p.labels) for p in pods):
                    problems.append(f"{direction} podSelector {peer['podSelector']} matches no pod in "
                                    f"{', '.join(matched)}")
    report.check(not problems, f"{overlay}  NetworkPolicy/{policy['metadata']['name']}: its {count} selectors "
                 "match rendered or known pods", "; ".join(problems))


def rule_ports(rule):
    """The ports a rule opens; "every port" when it lists none (or one without a port)."""
    ports = rule.get("ports") or [{}]
    return {p["port"] if "port" in p else "every port" for p in ports}


def opened_ports(policies, pod):
    """The ports policies open to `pod`: ingress rules of policies selecting it,
    egress rules whose peers select it by its labels."""
    opened = set()
    for policy in policies:
        namespace = policy["metadata"].get("namespace", NAMESPACE)
        if pod.namespace == namespace and "Ingress" in policy_types(policy) \
                and selects(policy["spec"].get("podSelector"), pod.labels):
            for rule in policy["spec"].get("ingress") or []:
                opened |= rule_ports(rule)
        for rule in policy["spec"].get("egress") or []:
            if any("podSelector" in peer and peer_matches(peer, namespace, pod) for peer in rule.get("to") or []):
                opened |= rule_ports(rule)
    return opened


def check_ports(policies, pod, overlay, report):
    opened = opened_ports(policies, pod)
    own = set(pod.ports) | set(pod.ports.values())
    stray = sorted(str(p) for p in opened - own)
    shown = ", ".join(sorted(str(p) for p in opened)) or "none"
    report.check(not stray, f"{overlay}  {pod.key}: the ports policies open to it ({shown}) are its "
                 "containerPorts", f"{', '.join(stray)} not among its containerPorts "
                 f"{sorted(pod.ports.values()) or 'none'}")


def services_of(documents):
    """Service name -> (selector, ports): ports maps each Service port (its
    number and its name) to its targetPort; None for the operators' and
    charts' Services, whose ports are their pods' own."""
    services = {name: (selector, None) for name, selector in KNOWN_SERVICES.items()}
    for service in (d for d in documents if d["kind"] == "Service"):
        ports = {}
        for port in service["spec"].get("ports", []):
            target = port.get("targetPort", port["port"])
            ports[port["port"]] = target
            if port.get("name"):
                ports[port["name"]] = target
        services[service["metadata"]["name"]] = (service["spec"].get("selector") or {}, ports)
    return services


def endpoints(services, pods, name, port):
    """The (pod, port number) pairs a connection to Service `name` on `port`
    (a number or a port name) reaches; empty when none."""
    if name not in services:
        return []
    selector, ports = services[name]
    reached = []
    for pod in pods:
        if pod.namespace != NAMESPACE or not selector or not selects({"matchLabels": selector}, pod.labels):
            continue
        target = port if ports is None else ports.get(port)
        if isinstance(target, str):
            target = pod.ports.get(target)
        if target is not None:
            reached.append((pod, target))
    return reached


def addresses(template, config_maps):
    """The host:port pairs a pod template names: URLs in its environment (values
    and ConfigMaps it loads), and --host/--port arguments."""
    found = set()
    for container in containers_in(template):
        values = [e.get("value", "") for e in container.get("env", [])]
        for source in container.get("envFrom", []):
            values += list(config_maps.get(source.get("configMapRef", {}).get("name"), {}).values())
        for value in values:
            match = URL.match(str(value))
            if match:
                found.add((match.group(1), int(match.group(2))))
        words = [str(w) for w in container.get("command", []) + container.get("args", [])]
        if "--host" in words and "--port" in words:
            host, port = words[words.index("--host") + 1], words[words.index("--port") + 1]
            if port.isdigit():
                found.add((host, int(port)))
    return found


def required_paths(documents, project, pods):
    """(source, destination, port, protocol, what) for every path the manifests
    use, plus unresolved references as (source, None, ..., why)."""
    services = services_of(documents)
    config_maps = {d["metadata"]["name"]: d.get("data", {}) for d in documents if d["kind"] == "ConfigMap"}
    by_key = {p.key: p for p in pods}
    paths = []
    controller = by_key["ingress-nginx controller"]
    for ingress in (d for d in documents if d["kind"] == "Ingress"):
        for rule in ingress["spec"].get("rules", []):
            for path in rule.get("http", {}).get("paths", []):
                backend = path["backend"]["service"]
                port = backend["port"].get("number", backend["port"].get("name"))
                reached = endpoints(services, pods, backend["name"], port)
                if not reached:
                    paths.append((controller, None, None, "TCP", f"Ingress {path['path']} -> "
                                  f"{backend['name']}:{port}: no pod behind it"))
                for pod, target in reached:
                    paths.append((controller, pod, target, "TCP", f"ingress {path['path']}"))
    documents_by_key = {f"{d['kind']}/{d['metadata']['name']}": d for d in documents if template_of(d)}
    for source in project:
        for host, port in sorted(addresses(template_of(documents_by_key[source.key]), config_maps)):
            # <service>[.namespace...], or a StatefulSet pod's own name,
            # <pod>.<headless service>[...].
            labels = host.split(".")
            reached = endpoints(services, pods, labels[0], port)
            if not reached and len(labels) > 1:
                reached = endpoints(services, pods, labels[1], port)
            if not reached:
                paths.append((source, None, None, "TCP", f"{host}:{port}: no Service or pod known behind it"))
            for pod, target in reached:
                paths.append((source, pod, target, "TCP", f"{host}:{port}"))
    dns = by_key["cluster DNS"]
    for source in pods:
        if source.namespace == NAMESPACE:
            paths += [(source, dns, 53, "UDP", "DNS"), (source, dns, 53, "TCP", "DNS")]
    prometheus = by_key["Prometheus"]
    for pod in project:
        if pod.key.startswith("Deployment/"):
            paths += [(prometheus, pod, port, "TCP", "GET /metrics") for port in sorted(set(pod.ports.values()))]
    for source, destination, port, protocol in OPERATOR_PATHS:
        paths.append((by_key[source], by_key[destination], port, protocol, "operator or data store"))
    return paths


def check_paths(documents, policies, project, pods, overlay, report):
    by_source = {}
    for source, destination, port, protocol, what in required_paths(documents, project, pods):
        reached, problems = by_source.setdefault(source.key, ({}, []))
        if destination is None:
            problems.append(what)
            continue
        protocols = reached.setdefault(f"{destination.key}:{port}", [])
        if protocol not in protocols:
            protocols.append(protocol)
        why = blocked(policies, source, destination, port, protocol)
        if why:
            problems.append(f"{destination.key}:{port}/{protocol} ({what}) blocked: {why}")
    for source, (reached, problems) in by_source.items():
        shown = ", ".join(target if protocols == ["TCP"] else f"{target}/{'+'.join(protocols)}"
                          for target, protocols in reached.items())
        report.check(not problems, f"{overlay}  open: {source} -> {shown}", "; ".join(problems))
    by_key = {p.key: p for p in pods}
    closed, opened = 0, []
    for source_key, destination_key, port, protocol in CLOSED_PATHS:
        destinations = [p for p in project if p.key.startswith("Deployment/")] if destination_key == "*" \
            else [by_key[destination_key]]
        for destination in destinations:
            for number in ([port] if port else sorted(set(destination.ports.values()))):
                closed += 1
                if blocked(policies, by_key[source_key], destination, number, protocol) is None:
                    opened.append(f"{source_key} -> {destination.key}:{number}")
    report.check(not opened, f"{overlay}  closed: {closed} paths nothing needs (other namespaces to the services "
                 "and data stores, the ingress controller to the data stores, between stock and payment, "
                 "to the internet)", "open: " + ", ".join(opened))
