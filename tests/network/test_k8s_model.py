"""Building the network model: workloads, namespaces, policies, services,
and every kind of bad input turned into an Issue while the rest is analysed."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

import pytest

from lashing.model import Endpoint, EndpointKind
from lashing.network import NetworkModel, connections

BuildModel = Callable[[str], NetworkModel]  # the k8s fixture (conftest.py)

WORKLOADS = """
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: a}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: c
        image: nginx
        ports:
        - {name: http, containerPort: 8080}
        - {containerPort: 53, protocol: UDP, hostPort: 5353}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: jobs}
spec:
  jobTemplate:
    spec:
      template:
        metadata: {labels: {app: nightly}}
        spec:
          hostNetwork: true
          containers: [{name: c, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata:
  name: web-7d9f-abcde
  namespace: shop
  labels: {app: cache}
  ownerReferences: [{kind: ReplicaSet, name: web-7d9f, controller: true}]
spec:
  containers: [{name: c, image: redis}]
---
apiVersion: v1
kind: PodTemplate
metadata: {name: template-only}
template:
  spec:
    containers: [{name: c, image: x}]
"""


def test_workloads_from_every_kind(k8s: BuildModel) -> None:
    model = k8s(WORKLOADS)
    assert [w.endpoint for w in model.workloads] == [
        Endpoint(EndpointKind.WORKLOAD, "shop", "web", "Deployment"),
        Endpoint(EndpointKind.WORKLOAD, "jobs", "nightly", "CronJob"),
        Endpoint(EndpointKind.WORKLOAD, "shop", "web-7d9f", "ReplicaSet"),
    ]
    web, nightly, owned = model.workloads
    assert web.labels == {"app": "web"} and owned.labels == {"app": "cache"}
    assert [(p.name, p.number, p.protocol) for p in web.ports] == [
        (None, 53, "UDP"), ("http", 8080, "TCP")]
    assert [(h.port, h.protocol) for h in web.host_ports] == [(5353, "UDP")]
    assert nightly.host_network and not web.host_network
    assert (web.path, web.line) == ("cluster.yaml", 6)
    assert model.issues == []


def test_namespaces_get_their_name_label_declared_or_not(k8s: BuildModel) -> None:
    model = k8s(WORKLOADS)
    assert model.namespaces["shop"] == {"team": "a", "kubernetes.io/metadata.name": "shop"}
    assert model.namespaces["jobs"] == {"kubernetes.io/metadata.name": "jobs"}
    assert "default" not in model.namespaces


def test_policy_defaults(k8s: BuildModel) -> None:
    model = k8s("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: only-ingress}
spec: {podSelector: {}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: both}
spec:
  podSelector: {matchLabels: {app: a}}
  egress: [{}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: egress-only}
spec:
  podSelector: {}
  policyTypes: [Egress]
  ingress: [{}]
""")
    a, b, c = model.policies
    assert a.policy_types == ("Ingress",) and a.ingress == () and a.namespace == "default"
    assert b.policy_types == ("Ingress", "Egress") and len(b.egress) == 1
    assert c.policy_types == ("Egress",) and c.ingress == ()  # rules of an absent type are unused
    assert "default" in model.namespaces


@pytest.mark.parametrize("name", ["AdminNetworkPolicy", "BaselineAdminNetworkPolicy"])
def test_admin_network_policies_are_not_evaluated(k8s: BuildModel, name: str) -> None:
    model = k8s(f"""
apiVersion: policy.networking.k8s.io/v1alpha1
kind: {name}
metadata: {{name: x}}
spec: {{}}
""")
    assert model.policies == []
    assert [i.message for i in model.issues] == [
        f"{name} (admin network policy, policy.networking.k8s.io/v1alpha1) is not evaluated; "
        "reachability ignores it"]


@pytest.mark.parametrize(("api", "kind", "what"), [
    ("projectcalico.org/v3", "NetworkPolicy", "Calico policy"),
    ("crd.projectcalico.org/v1", "GlobalNetworkPolicy", "Calico policy"),
    ("cilium.io/v2", "CiliumNetworkPolicy", "Cilium policy"),
    ("cilium.io/v2", "CiliumClusterwideNetworkPolicy", "Cilium policy"),
])
def test_cni_policies_are_recognised_and_not_evaluated(k8s: BuildModel, api: str, kind: str,
                                                        what: str) -> None:
    model = k8s(f"apiVersion: {api}\nkind: {kind}\nmetadata: {{name: p, namespace: n}}\n")
    assert model.policies == []
    (issue,) = model.issues
    assert issue.stage == "network" and what in issue.message and "not evaluated" in issue.message
    assert (issue.location.path, issue.location.line) == ("cluster.yaml", 1)


def test_other_policy_apis_are_reported(k8s: BuildModel) -> None:
    model = k8s("apiVersion: crd.antrea.io/v1beta1\nkind: ClusterNetworkPolicy\n"
                "metadata: {name: p}\n---\n"
                "apiVersion: extensions/v1beta1\nkind: NetworkPolicy\n"
                "metadata: {name: old}\nspec: {podSelector: {}}\n")
    assert [p.name for p in model.policies] == ["old"]  # the old API had the same schema
    assert [i.message for i in model.issues] == [
        "ClusterNetworkPolicy (crd.antrea.io/v1beta1) is not evaluated; reachability ignores it"]


def test_a_calico_non_policy_object_is_silently_skipped(k8s: BuildModel) -> None:
    assert k8s("apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p}\n"
               ).issues == []


GOOD = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: good}
spec: {podSelector: {}, ingress: [{ports: [{port: 80}]}]}
"""


@pytest.mark.parametrize(("spec", "message"), [
    ("{podSelector: {matchExpressions: [{key: a, operator: Like, values: [b]}]}}",
     "unknown operator 'Like'"),
    ("{podSelector: {matchLabels: {'a b': c}}}", "invalid label key"),
    ("{podSelector: {}, ingress: [{ports: [{port: 70000}]}]}", "out of range"),
    ("{podSelector: {}, ingress: [{ports: [{port: 0}]}]}", "out of range"),
    ("{podSelector: {}, ingress: [{ports: [{port: 9000, endPort: 8000}]}]}",
     "endPort 8000 is below port 9000"),
    ("{podSelector: {}, ingress: [{ports: [{port: http, endPort: 8000}]}]}",
     "endPort cannot be used with the named port"),
    ("{podSelector: {}, ingress: [{ports: [{port: 80, protocol: ICMP}]}]}",
     "unknown protocol 'ICMP'"),
    ("{podSelector: {}, ingress: [{ports: [{port: 'not a name'}]}]}", "valid port name"),
    ("{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 300.0.0.0/8}}]}]}",
     "not a valid CIDR"),
    ("{podSelector: {}, egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [11.0.0.0/16]}}]}]}",
     "not strictly inside"),
    ("{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]}]}",
     "ipBlock cannot be combined"),
    ("{podSelector: {}, ingress: [{from: [{}]}]}", "a peer needs"),
    ("{podSelector: {}, policyTypes: [Inbound]}", "unknown type 'Inbound'"),
    ("[]", "spec must be a mapping"),
])
def test_bad_policy_is_an_issue_and_the_rest_is_analysed(k8s: BuildModel, spec: str,
                                                         message: str) -> None:
    model = k8s(f"""{GOOD}---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: bad, namespace: shop}}
spec: {spec}
""")
    assert [p.name for p in model.policies] == ["good"]
    (issue,) = model.issues
    assert issue.stage == "network" and message in issue.message
    assert issue.location.path == "cluster.yaml" and issue.location.line == 7
    assert issue.location.resource == "NetworkPolicy/shop/bad"


def test_duplicate_names_keep_the_first(k8s: BuildModel) -> None:
    model = k8s(GOOD + "---" + GOOD.replace("port: 80", "port: 81") + """---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec: {template: {spec: {containers: [{name: c, image: x}]}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec: {template: {spec: {containers: [{name: c, image: x}]}}}
""")
    assert len(model.policies) == 1 and model.policies[0].ingress[0].ports[0].port == 80
    assert len(model.workloads) == 1
    assert [i.message.split(" (")[0] for i in model.issues] == [
        "duplicate NetworkPolicy default/good", "duplicate Deployment default/web"]
    assert "first declared at cluster.yaml:2" in model.issues[0].message


def test_bad_container_port_is_an_issue_and_the_workload_stays(k8s: BuildModel) -> None:
    model = k8s("""
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: c
    image: x
    ports:
    - {containerPort: 99999}
    - {containerPort: 80}
""")
    assert [p.number for p in model.workloads[0].ports] == [80]
    assert [(i.location.line, i.message) for i in model.issues] == [
        (10, "container c: ports[0]: containerPort: port 99999 is out of range 1-65535; "
             "port ignored")]


def test_ip_blocks_are_noted_once(k8s: BuildModel) -> None:
    policy = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: NAME}
spec: {podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8}}]}]}
"""
    model = k8s(policy.replace("NAME", "a") + "---" + policy.replace("NAME", "b"))
    assert [i.message for i in model.issues] == [
        "pod IPs are not known from manifests: ipBlock peers are matched against addresses "
        "outside the cluster only"]


def test_services_ingresses_and_routes(k8s: BuildModel) -> None:
    model = k8s("""
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http, nodePort: 30080}, {port: 99999}]
---
apiVersion: v1
kind: Service
metadata: {name: weird}
spec: {type: Magic}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  defaultBackend: {service: {name: web, port: {name: http}}}
  rules:
  - host: shop.example
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: route.openshift.io/v1
kind: Route
metadata: {name: web}
spec: {to: {kind: Service, name: web}, port: {targetPort: http}}
""")
    (svc,) = model.services
    assert (svc.type, svc.selector) == ("NodePort", {"app": "web"})
    assert [(p.port, p.target_port, p.node_port) for p in svc.ports] == [(80, "http", 30080)]
    ingress, route = model.ingresses
    assert [(b.service, b.port, b.host) for b in ingress.backends] == [
        ("web", "http", None), ("web", 80, "shop.example")]
    assert (route.kind, route.backends[0].port) == ("Route", "http")
    assert sorted(i.message for i in model.issues) == [
        "spec.ports[1].port: port 99999 is out of range 1-65535; port ignored",
        "unknown Service type 'Magic'; the service is ignored"]


def test_a_typed_list_from_the_api_yields_its_items(k8s: BuildModel) -> None:
    model = k8s("""
apiVersion: v1
kind: PodList
items:
- metadata: {name: a-1, namespace: x, labels: {app: a},
             ownerReferences: [{kind: ReplicaSet, name: a-5f}]}
  spec: {containers: [{name: c, image: x}]}
""")
    assert [w.endpoint.name for w in model.workloads] == ["a-5f"]


@pytest.mark.parametrize(("spec", "message"), [
    ("{podSelector: {}, ingress: all}", "spec.ingress must be a list"),
    ("{podSelector: {}, ingress: [{from: {podSelector: {}}}]}", "spec.ingress[0].from must be "
     "a list"),
    ("{podSelector: {}, ingress: [{ports: [80]}]}", "spec.ingress[0].ports[0] must be a mapping"),
    ("{podSelector: [app]}", "spec.podSelector must be a mapping"),
    ("{podSelector: {matchLabels: {app: [a, b]}}}", "label value must be a string"),
    ("{podSelector: {matchExpressions: {key: a}}}", "matchExpressions must be a list"),
    ("{podSelector: {}, egress: [{to: [{ipBlock: [10.0.0.0/8]}]}]}", "ipBlock must be a mapping"),
    ("{podSelector: {}, ingress: [{ports: [{port: true}]}]}", "is not a port number"),
])
def test_malformed_structures_are_refused_not_crashed(k8s: BuildModel, spec: str,
                                                      message: str) -> None:
    model = k8s(f"""apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: hostile}}
spec: {spec}
""")
    assert model.policies == []
    (issue,) = model.issues
    assert message in issue.message and issue.location.line == 1


def test_many_excepts_stay_bounded(k8s: BuildModel) -> None:
    excepts = ", ".join(f"2001:db8::{i:x}/128" for i in range(0, 400, 2))
    model = k8s(f"""apiVersion: v1
kind: Pod
metadata: {{name: p}}
spec: {{containers: [{{name: c, image: x}}]}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: many}}
spec:
  podSelector: {{}}
  policyTypes: [Egress]
  egress: [{{to: [{{ipBlock: {{cidr: 2001:db8::/64, except: [{excepts}]}}}}]}}]
""")
    conns = [c for c in connections(model) if c.source.kind == EndpointKind.WORKLOAD]
    cidrs = {c.destination.cidr for c in conns}
    # the 200 single-address gaps between the holes plus the rest of the /64 in at most
    # one CIDR per prefix length: never an address-by-address list
    assert 200 < len(cidrs) <= 200 + 64
    block = ipaddress.ip_network("2001:db8::/64")
    assert all(ipaddress.ip_network(str(c)).subnet_of(block) for c in cidrs)  # type: ignore[arg-type]
    assert {c.protocol for c in conns} == {"TCP", "UDP", "SCTP"}
