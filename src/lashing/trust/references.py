"""The provenance policy over the images a scan target names (`lashing scan --policy`).

Every function takes what the scan already loaded (an image, Kubernetes
objects, a compose project, a Dockerfile, or the text of a manifest) and
returns `(findings, issues)`: LSH-TRUST policy findings located at the file,
line and resource that names the image, and Issues for references that
cannot be checked (unparsable, or built from an ARG with no default). No
network is touched, unless `verify` source options are given to
`manifest_findings` / `file_findings` (`--verify-images`): then the images
Kubernetes manifests and compose files name are also verified through their
registries (`lashing.trust.images`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from lashing.errors import InputError
from lashing.manifests.compose import (
    ComposeProject,
    load_compose,
    load_compose_text,
    looks_like_compose,
)
from lashing.manifests.kubernetes import K8sObject, objects_of
from lashing.manifests.scan import compose_files_for
from lashing.manifests.yaml import YamlError, YamlLimits, load_all
from lashing.model import Finding, Issue, Location
from lashing.options import SourceOptions
from lashing.rules.dockerfile.parser import DockerfileError, parse
from lashing.rules.framework import evaluate
from lashing.rules.trust import POLICY_RULES, TrustSubject
from lashing.source.image import Image
from lashing.source.reference import Reference
from lashing.source.resolve import ResolvedTarget, TargetType
from lashing.trust.check import check_reference
from lashing.trust.images import ImageUse, verify_uses
from lashing.trust.policy import Policy

__all__ = ["compose_findings", "dockerfile_findings", "file_findings", "image_findings",
           "image_names", "kubernetes_findings", "manifest_findings"]

Result = tuple[list[Finding], list[Issue]]
_PLUGIN = "policy"
_AGE_RULES = tuple(r for r in POLICY_RULES if r.id == "LSH-TRUST-010")
_MANIFEST_WORDS = (b"apiVersion", b"services")


def _issue(location: Location, message: str) -> Issue:
    return Issue(stage="trust", plugin=_PLUGIN, location=location, message=message)


def _check(ref_text: str, policy: Policy, location: Location, target: str, identity: str,
           key: str, what: str, out: Result, uses: list[ImageUse] | None = None) -> None:
    """Check one image `what` names; an unparsable reference becomes an Issue.
    `uses` collects the images whose signatures are to be verified."""
    try:
        findings = check_reference(ref_text, policy, location=location, target=target)
    except InputError as exc:
        out[1].append(_issue(location, f"{what}: image {ref_text!r} is not checked against "
                                       f"the policy: {exc.message}"))
        return
    out[0].extend(replace(f, target_identity=identity, anchor=f"{key}:{f.anchor}")
                  for f in findings)
    if uses is not None:
        uses.append(ImageUse(ref_text.strip(), location, target, identity, key))


# -- images -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Unnamed(TrustSubject):
    """An image no registry name comes with (an OCI layout): only its age is judged."""

    @property
    def ref(self) -> Reference:
        return Reference(registry="local", repository=self.reference)


def image_names(target: ResolvedTarget, image: Image) -> tuple[str, ...]:
    """What the scanned image is called: the registry reference, or a docker
    archive's chosen or recorded tags. OCI layouts carry no registry name."""
    if target.type is TargetType.REGISTRY:
        return (target.reference or target.text,)
    if target.type is TargetType.DOCKER_ARCHIVE:
        return (target.tag,) if target.tag else image.repo_tags
    return ()


def image_findings(policy: Policy, target: str, identity: str, references: Sequence[str],
                   created: str | None) -> Result:
    """The image scanned as `target` (its config digest `identity`), named by
    `references` (the registry reference, or an archive's RepoTags). With no
    names only `max_age_days` applies, from the policy's defaults."""
    out: Result = ([], [])
    if not references:
        subject = _Unnamed(reference=target, policy=policy.defaults, created=created)
        findings, _ = evaluate(_AGE_RULES, subject, target, identity)
        out[0].extend(findings)
        return out
    for i, ref_text in enumerate(references):
        location = Location(resource=ref_text)
        try:
            # The age is one fact about the image: judged once, with the first name.
            found = check_reference(ref_text, policy, location=location, target=target,
                                    created=created if i == 0 else None)
        except InputError as exc:
            out[1].append(_issue(location, f"image name {ref_text!r} is not checked against "
                                           f"the policy: {exc.message}"))
            continue
        out[0].extend(replace(f, target_identity=identity) for f in found)
    return out


# -- manifests ----------------------------------------------------------------------


def kubernetes_findings(objects: Iterable[K8sObject], policy: Policy,
                        uses: list[ImageUse] | None = None) -> Result:
    """Every image a container, init container or ephemeral container names."""
    out: Result = ([], [])
    for obj in objects:
        for c in obj.containers():
            image = c.get("image")
            line = c.data.line_of("image") if "image" in c.data else c.line
            location = Location(path=obj.path, line=line, resource=obj.resource)
            if not isinstance(image, str) or not image.strip():
                if image is not None:
                    out[1].append(_issue(location, f"{c.role} {c.name}: image is not a "
                                                   "string; not checked against the policy"))
                continue
            _check(image, policy, location, obj.path, obj.path,
                   f"{obj.resource}:{c.role}/{c.name}", f"{c.role} {c.name}", out, uses)
    return out


def compose_findings(project: ComposeProject, policy: Policy,
                     uses: list[ImageUse] | None = None) -> Result:
    """Every image a compose service names (after interpolation and overrides)."""
    out: Result = ([], [])
    target = project.files[0] if project.files else project.name
    for s in project.services.values():
        image = s.get("image")
        if image is None:
            continue  # built from `build:` only
        path, line = s.data.source_of("image") or s.path, s.data.line_of("image")
        location = Location(path=path, line=line, resource=f"service/{project.name}/{s.name}")
        if not isinstance(image, str) or not image.strip():
            out[1].append(_issue(location, f"service {s.name}: image is not a string; not "
                                           "checked against the policy"))
            continue
        _check(image, policy, location, target, target, f"{project.name}/{s.name}",
               f"service {s.name}", out, uses)
    return out


def manifest_findings(name: str, data: str | bytes, policy: Policy,
                      limits: YamlLimits | None = None, env: dict[str, str] | None = None,
                      path: Path | None = None, read_issues: bool = False,
                      verify: SourceOptions | None = None) -> Result:
    """A Kubernetes manifest or compose file given as text (`path`: the file on disk,
    so that a compose file is read with its override and `.env`). With `verify`,
    the signatures of the images it names are verified through their registries.

    Text that cannot be read as YAML gives nothing unless `read_issues`: the
    misconfiguration scan reports it."""
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "replace")
    if not any(w in raw for w in _MANIFEST_WORDS):
        return [], []
    try:
        docs, _, error = load_all(data, name, limits)
    except YamlError as exc:
        docs, error = [], exc
    out: Result = ([], [])
    if read_issues and error is not None:
        out[1].append(_issue(Location(path=error.name, line=error.line),
                             f"{error.message}; images after it are not checked against "
                             "the policy"))
    objects, _ = objects_of(docs, name)
    uses: list[ImageUse] | None = [] if verify is not None else None
    if objects:
        found = kubernetes_findings(objects, policy, uses)
    elif docs and looks_like_compose(docs[0]):
        files = compose_files_for(path) if path is not None else [Path(name)]
        if files is None:
            return out  # an override: its base's project covers it
        project = (load_compose(files, env, limits) if path is not None
                   else load_compose_text(data, name, env or {}, limits))
        found = compose_findings(project, policy, uses)
        if read_issues:
            out[1].extend(_issue(Location(path=e.name, line=e.line), e.message)
                          for e in project.errors)
    else:
        return out
    if verify is not None and uses:
        signed = verify_uses(uses, policy, verify)
        found = (found[0] + signed[0], found[1] + signed[1])
    return out[0] + found[0], out[1] + found[1]


# -- Dockerfiles --------------------------------------------------------------------


def dockerfile_findings(path: str, text: str, policy: Policy,
                        read_issues: bool = False) -> Result:
    """Every FROM image that is not an earlier stage or `scratch`, with the global
    ARG defaults expanded. A Dockerfile that cannot be parsed gives nothing
    unless `read_issues` (the misconfiguration scan reports it)."""
    out: Result = ([], [])
    try:
        df = parse(path, text)
    except DockerfileError as exc:
        if read_issues:
            out[1].append(_issue(Location(path=path), exc.message))
        return out
    for stage in df.stages:
        location = Location(path=path, line=stage.line)
        if stage.parent is not None:
            continue
        if stage.resolved is None:
            out[1].append(_issue(location, f"FROM {stage.image}: a build argument without a "
                                           "default; the image is not checked against the "
                                           "policy"))
            continue
        if stage.resolved.strip().lower() == "scratch":
            continue
        _check(stage.resolved, policy, location, path, path, f"stage/{stage.index}",
               f"FROM {stage.image}", out)
    return out


def file_findings(path: str, data: bytes, policy: Policy, is_dockerfile: bool,
                  limits: YamlLimits | None = None, read_issues: bool = False,
                  verify: SourceOptions | None = None) -> Result:
    """A Dockerfile or manifest found in a directory, at `path` on disk (`verify`:
    see `manifest_findings`; Dockerfile base images are not verified)."""
    if not is_dockerfile:
        return manifest_findings(path, data, policy, limits,
                                 path=Path(path) if Path(path).is_file() else None,
                                 read_issues=read_issues, verify=verify)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return [], [_issue(Location(path=path), f"{path}: not UTF-8 text")] if read_issues else []
    return dockerfile_findings(path, text, policy, read_issues)
