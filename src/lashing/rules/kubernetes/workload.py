"""Kubernetes rules on images, resources, probes, service accounts, secrets in the
environment and exposed Services."""

from __future__ import annotations

import re
from collections.abc import Iterator

from lashing.model import FindingKind, Severity, Surface
from lashing.rules import refs
from lashing.rules.dockerfile.subject import Configured
from lashing.rules.framework import Example, NotApplicable, RuleConfig, Violation, rule
from lashing.rules.kubernetes.examples import pod
from lashing.rules.kubernetes.subject import K8S_DOCS, falsy, line_at
from lashing.rules.kubernetes.subject import K8sSubject as K

IMAGES = K8S_DOCS + "concepts/containers/images/"
RESOURCES = K8S_DOCS + "concepts/configuration/manage-resources-containers/"
PROBES = K8S_DOCS + "tasks/configure-pod-container/configure-liveness-readiness-startup-probes/"
SA = K8S_DOCS + "tasks/configure-pod-container/configure-service-account/"
SECRET_NAME = re.compile(r"(?i)(pass(word|wd)?|secret|token|api_?key|private_?key|credential"
                         r"|auth)")
DIGEST = "@sha256:" + "0" * 64


@rule(
    id="LSH-K8S-030", title="Image uses the latest tag or no tag", severity=Severity.MEDIUM,
    nist=("4.1.5",),
    aliases=("checkov:CKV_K8S_14", "polaris:tagNotSpecified", "kube-score:container-image-tag",
             "kube-linter:latest-tag"),
    remediation="Use a specific version tag, better a digest.",
    references=(IMAGES,),
    examples=(Example(pod(image="nginx"), True), Example(pod(image="nginx:latest"), True),
              Example(pod(), False), Example(pod(image="nginx" + DIGEST), False)),
)
def latest_tag(k: K) -> Iterator[Violation]:
    """`latest` or no tag runs whatever was pushed last: builds are not reproducible and a
    rollback may not roll back."""
    for w in k.workloads():
        for c in w.containers():
            image = c.get("image")
            if not isinstance(image, str) or not image:
                continue
            name = refs.split_image(image)
            if name.digest is None and name.tag in (None, "latest"):
                yield k.violation(w.obj, f"image {image} is not pinned to a version",
                                  line_at(c.data, "image"), c)


@rule(
    id="LSH-K8S-031", title="Image not pinned by digest", severity=Severity.LOW,
    nist=("4.1.5",), aliases=("checkov:CKV_K8S_43",),
    remediation="Reference images by digest (`image@sha256:...`).",
    references=(IMAGES,),
    examples=(Example(pod(), True), Example(pod(image="nginx:1.27" + DIGEST), False)),
)
def no_digest(k: K) -> Iterator[Violation]:
    """A tag can be moved to different content; a digest cannot."""
    for w in k.workloads():
        for c in w.containers():
            image = c.get("image")
            if isinstance(image, str) and image and refs.split_image(image).digest is None:
                yield k.violation(w.obj, f"image {image} has no digest",
                                  line_at(c.data, "image"), c)


@rule(
    id="LSH-K8S-032", title="imagePullPolicy is not Always", severity=Severity.LOW,
    nist=("4.1.5",),
    aliases=("checkov:CKV_K8S_15", "polaris:pullPolicyNotAlways",
             "kube-score:container-image-pull-policy"),
    remediation="Set `imagePullPolicy: Always` so registry authorisation is checked on every "
    "start, or pin by digest.",
    references=(IMAGES + "#image-pull-policy",),
    examples=(Example(pod("imagePullPolicy: IfNotPresent"), True),
              Example(pod("imagePullPolicy: Always"), False),
              Example(pod("imagePullPolicy: IfNotPresent", image="nginx" + DIGEST), False,
                      "pinned by digest")),
)
def pull_policy(k: K) -> Iterator[Violation]:
    """A cached image is used without asking the registry whether this pod may pull it."""
    for w in k.workloads():
        for c in w.containers():
            policy = c.get("imagePullPolicy")
            image = c.get("image")
            if isinstance(image, str):
                name = refs.split_image(image)
                if name.digest is not None:
                    continue  # pinned content: the pull policy changes nothing
                if policy is None and name.tag in (None, "latest"):
                    continue  # defaults to Always
            if policy != "Always":
                yield k.violation(w.obj, f"imagePullPolicy is {policy or 'unset'}",
                                  line_at(c.data, "imagePullPolicy"), c)


@rule(
    id="LSH-K8S-033", title="Image from a registry not on the allow-list",
    severity=Severity.HIGH, nist=("4.1.5",),
    remediation="Pull images only from the registries in `trusted_registries`, or add the "
    "registry to the list.",
    references=(IMAGES,),
    examples=(Example(Configured(pod(image="evil.example.com/app:1"),
                                 RuleConfig(trusted_registries=("registry.example.com",))),
                      True),
              Example(Configured(pod(image="registry.example.com/app:1"),
                                 RuleConfig(trusted_registries=("registry.example.com",))),
                      False),
              Example(pod(image="evil.example.com/app:1"), False, "no list configured"),
              Example(pod(image="nginx:1.27"), False)),
)
def untrusted_registry(k: K) -> Iterator[Violation]:
    """Images from unknown registries have unknown provenance."""
    allowed = k.config.trusted_registries
    if not allowed:
        raise NotApplicable("no trusted registries configured")
    for w in k.workloads():
        for c in w.containers():
            image = c.get("image")
            if not isinstance(image, str) or not image:
                continue
            registry = refs.split_image(image).registry
            if not any(refs.registry_matches(registry, a) for a in allowed):
                yield k.violation(w.obj, f"image {image} comes from {registry}",
                                  line_at(c.data, "image"), c)


def _resource_examples(kind: str, amount: str) -> tuple[Example, ...]:
    value = "100m" if amount == "cpu" else "128Mi"
    return (Example(pod(), True),
            Example(pod(f"resources: {{{kind}: {{{amount}: {value}}}}}"), False))


@rule(
    id="LSH-K8S-040", title="CPU limit not set", severity=Severity.LOW, nist=("4.4.3",),
    aliases=("checkov:CKV_K8S_11", "polaris:cpuLimitsMissing"),
    remediation="Set `resources.limits.cpu`.", references=(RESOURCES,),
    examples=_resource_examples("limits", "cpu"),
)
def cpu_limit(k: K) -> Iterator[Violation]:
    """Without a CPU limit one container can starve the others on its node."""
    yield from _resources(k, "limits", "cpu")


@rule(
    id="LSH-K8S-041", title="Memory limit not set", severity=Severity.MEDIUM, nist=("4.4.3",),
    aliases=("checkov:CKV_K8S_13", "polaris:memoryLimitsMissing"),
    remediation="Set `resources.limits.memory`.", references=(RESOURCES,),
    examples=_resource_examples("limits", "memory"),
)
def memory_limit(k: K) -> Iterator[Violation]:
    """Without a memory limit one container can exhaust its node's memory."""
    yield from _resources(k, "limits", "memory")


@rule(
    id="LSH-K8S-042", title="CPU request not set", severity=Severity.LOW, nist=("4.4.3",),
    aliases=("checkov:CKV_K8S_10", "polaris:cpuRequestsMissing"),
    remediation="Set `resources.requests.cpu`.", references=(RESOURCES,),
    examples=_resource_examples("requests", "cpu"),
)
def cpu_request(k: K) -> Iterator[Violation]:
    """Without requests the scheduler cannot place pods sensibly."""
    yield from _resources(k, "requests", "cpu")


@rule(
    id="LSH-K8S-043", title="Memory request not set", severity=Severity.LOW, nist=("4.4.3",),
    aliases=("checkov:CKV_K8S_12", "polaris:memoryRequestsMissing"),
    remediation="Set `resources.requests.memory`.", references=(RESOURCES,),
    examples=_resource_examples("requests", "memory"),
)
def memory_request(k: K) -> Iterator[Violation]:
    """Without requests the scheduler cannot place pods sensibly."""
    yield from _resources(k, "requests", "memory")


def _resources(k: K, kind: str, amount: str) -> Iterator[Violation]:
    for w in k.workloads():
        for c in w.containers("container"):
            if c.get("resources", kind, amount) in (None, ""):
                yield k.violation(w.obj, f"no {amount} {kind[:-1]}",
                                  line_at(c.data, "resources"), c)


def _probe(k: K, key: str) -> Iterator[Violation]:
    for w in k.workloads():
        if w.obj.kind in ("Job", "CronJob"):
            continue
        for c in w.containers("container"):
            if c.get(key) is None:
                yield k.violation(w.obj, f"no {key}", c.line, c)


@rule(
    id="LSH-K8S-044", title="Liveness probe not set", severity=Severity.LOW, nist=("4.4.3",),
    aliases=("checkov:CKV_K8S_8", "polaris:livenessProbeMissing"),
    remediation="Add a livenessProbe.", references=(PROBES,),
    examples=(Example(pod(), True),
              Example(pod("livenessProbe: {httpGet: {path: /healthz, port: 8080}}"), False)),
)
def liveness(k: K) -> Iterator[Violation]:
    """Without a liveness probe a hung process is never restarted."""
    yield from _probe(k, "livenessProbe")


@rule(
    id="LSH-K8S-045", title="Readiness probe not set", severity=Severity.LOW, nist=("4.4.3",),
    aliases=("checkov:CKV_K8S_9", "polaris:readinessProbeMissing"),
    remediation="Add a readinessProbe.", references=(PROBES,),
    examples=(Example(pod(), True),
              Example(pod("readinessProbe: {httpGet: {path: /ready, port: 8080}}"), False)),
)
def readiness(k: K) -> Iterator[Violation]:
    """Without a readiness probe traffic reaches pods that cannot serve it."""
    yield from _probe(k, "readinessProbe")


@rule(
    id="LSH-K8S-046", title="Service account token mounted automatically",
    severity=Severity.MEDIUM, nist=("4.3.1", "4.4.3"),
    aliases=("checkov:CKV_K8S_38", "polaris:automountServiceAccountToken"),
    remediation="Set `automountServiceAccountToken: false` on the pod (or its service "
    "account) unless it talks to the API server.",
    references=(SA,),
    examples=(Example(pod(), True),
              Example(pod(spec="automountServiceAccountToken: false"), False)),
)
def automount_token(k: K) -> Iterator[Violation]:
    """A mounted token lets anyone who compromises the pod talk to the API server with
    the service account's permissions."""
    disabled = {str(o.name) for o in k.objects if o.kind == "ServiceAccount"
                and falsy(o.data.get("automountServiceAccountToken"))}
    for w in k.workloads():
        value = w.pod_get("automountServiceAccountToken")
        sa = str(w.pod_get("serviceAccountName") or w.pod_get("serviceAccount") or "default")
        if falsy(value) or (value is None and sa in disabled):
            continue
        yield k.violation(w.obj, "automountServiceAccountToken is not false",
                          line_at(w.spec, "automountServiceAccountToken"), anchor="automount")


@rule(
    id="LSH-K8S-047", title="Pod uses the default service account", severity=Severity.LOW,
    nist=("4.3.1",),
    remediation="Create a service account per application with only the permissions it needs.",
    references=(SA,),
    examples=(Example(pod(), True), Example(pod(spec="serviceAccountName: web"), False)),
)
def default_service_account(k: K) -> Iterator[Violation]:
    """Pods sharing the default service account share whatever it has been granted."""
    for w in k.workloads():
        sa = w.pod_get("serviceAccountName") or w.pod_get("serviceAccount")
        if sa in (None, "", "default"):
            yield k.violation(w.obj, "uses the default service account",
                              line_at(w.spec, "serviceAccountName"), anchor="serviceAccount")


@rule(
    id="LSH-K8S-048", title="Secret as a literal environment value", severity=Severity.HIGH,
    nist=("4.1.4",),
    aliases=("polaris:sensitiveContainerEnvVar", "kube-linter:env-var-secret"),
    remediation="Put the value in a Secret and reference it with `valueFrom.secretKeyRef` "
    "(or mount it as a file).",
    references=(K8S_DOCS + "concepts/configuration/secret/",),
    examples=(Example(pod("env: [{name: DB_PASSWORD, value: hunter2}]"), True),
              Example(pod("env: [{name: DB_PASSWORD, valueFrom: {secretKeyRef: "
                          "{name: db, key: password}}}]"), False)),
)
def literal_secret(k: K) -> Iterator[Violation]:
    """A literal in the manifest is readable by anyone who can read the manifest, the
    object or its history."""
    for w in k.workloads():
        for c in w.containers():
            env = c.get("env")
            if not isinstance(env, list):
                continue
            for i, item in enumerate(env):
                if not isinstance(item, dict):
                    continue
                name, value = str(item.get("name", "")), item.get("value")
                if SECRET_NAME.search(name) and isinstance(value, str) and value.strip():
                    yield k.violation(w.obj, f"env {name} holds a literal value",
                                      env.line_at(i) if hasattr(env, "line_at") else None, c,
                                      anchor=f"{c.name}/env/{name}")


@rule(
    id="LSH-K8S-050", title="Service exposed outside the cluster", severity=Severity.MEDIUM,
    surface=Surface.NETWORK, kind=FindingKind.EXPOSURE, nist=("4.4.2",),
    remediation="Use ClusterIP and an Ingress or gateway with authentication and TLS; "
    "restrict `loadBalancerSourceRanges` when a LoadBalancer is needed.",
    references=(K8S_DOCS + "concepts/services-networking/service/",),
    examples=(Example("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n"
                      "  type: NodePort\n  ports: [{port: 80}]\n", True),
              Example("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n"
                      "  ports: [{port: 80}]\n", False)),
)
def exposed_service(k: K) -> Iterator[Violation]:
    """NodePort and LoadBalancer Services are reachable from outside the cluster."""
    for obj in k.of_kind("Service"):
        stype = obj.data.get("spec", {}).get("type") if isinstance(
            obj.data.get("spec"), dict) else None
        if stype in ("NodePort", "LoadBalancer"):
            yield k.violation(obj, f"type {stype}", line_at(obj.data, "spec", "type"),
                              anchor="type")


RULES = (latest_tag, no_digest, pull_policy, untrusted_registry, cpu_limit, memory_limit,
         cpu_request, memory_request, liveness, readiness, automount_token,
         default_service_account, literal_secret, exposed_service)
