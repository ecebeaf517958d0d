"""Scan one manifest file or stream: sniff Kubernetes vs compose, run the rules,
turn YAML problems into Issues naming the file and line."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from lashing.manifests.compose import (
    ComposeProject,
    load_compose,
    load_compose_text,
    looks_like_compose,
)
from lashing.manifests.kubernetes import objects_of
from lashing.manifests.yaml import YamlError, YamlLimits, YamlProblem, load_all
from lashing.model import Check, Finding, Issue, Location
from lashing.rules.compose import scan_compose
from lashing.rules.framework import RuleConfig
from lashing.rules.kubernetes import scan_kubernetes

__all__ = ["MANIFEST_GLOBS", "compose_files_for", "scan_compose_files", "scan_manifest_file",
           "scan_manifest_stream"]

# Files a directory scan should offer to scan_manifest_file.
MANIFEST_GLOBS = ("**/*.yaml", "**/*.yml", "**/*.json")
COMPOSE_BASES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")

Result = tuple[list[Finding], list[Check], list[Issue]]
_MANIFEST_WORDS = (b"apiVersion", b"services")
_MANIFEST_HINT = (b"apiVersion:", b"kind:", b"services:", b'"apiVersion"', b'"services"')


def _issue(plugin: str, name: str, line: int | None, message: str) -> Issue:
    return Issue(stage="rules", plugin=plugin, location=Location(path=name, line=line),
                 message=message)


def _problem_issues(plugin: str, problems: list[YamlProblem]) -> list[Issue]:
    return [_issue(plugin, p.name, p.line, p.message) for p in problems]


def _error_issue(plugin: str, exc: YamlError) -> Issue:
    return _issue(plugin, exc.name, exc.line, exc.message)


def scan_manifest_file(path: str, data: bytes, config: RuleConfig | None = None,
                       skip: Collection[str] = frozenset(), limits: YamlLimits | None = None,
                       env: dict[str, str] | None = None,
                       included: set[str] | None = None) -> Result:
    """Kubernetes or compose YAML in `data` (the file at `path`).

    A file that is neither (no `apiVersion`+`kind` objects, no `services:`) gives
    nothing; one that looks like a manifest but cannot be read gives an Issue.
    A compose file is read with its `.env` and directory (for `extends: file:`);
    the files its `include:` read are added to `included` (resolved paths), so a
    directory scan can leave out their findings as files of their own."""
    return _scan(path, data, config or RuleConfig(), frozenset(skip), limits, env,
                 Path(path) if Path(path).is_file() else None, included)


def scan_manifest_stream(text: str | bytes, name: str = "-", config: RuleConfig | None = None,
                         skip: Collection[str] = frozenset(), limits: YamlLimits | None = None,
                         ) -> Result:
    """Kubernetes or compose YAML read from a stream (stdin)."""
    return _scan(name, text, config or RuleConfig(), frozenset(skip), limits, {}, None)


def scan_compose_files(paths: list[Path], config: RuleConfig | None = None,
                       skip: Collection[str] = frozenset(), limits: YamlLimits | None = None,
                       env: dict[str, str] | None = None) -> Result:
    """A compose project of several files (base, then overrides in order)."""
    project = load_compose(paths, env, limits)
    return _compose_result(project, config or RuleConfig(), frozenset(skip))


def compose_files_for(path: Path) -> list[Path] | None:
    """The files compose would load for `path`: a default-named file plus its sibling
    `*.override.y[a]ml`; None for an override whose base is next to it (the base's scan
    covers it)."""
    name = path.name
    for base in COMPOSE_BASES:
        stem = base.rsplit(".", 1)[0]
        if name in (f"{stem}.override.yaml", f"{stem}.override.yml"):
            has_base = any((path.parent / f"{stem}.{e}").is_file() for e in ("yaml", "yml"))
            return None if has_base else [path]
        if name == base:
            overrides = [path.parent / f"{stem}.override.{e}" for e in ("yaml", "yml")]
            return [path, *[o for o in overrides if o.is_file()][:1]]
    return [path]


def _compose_result(project: ComposeProject, config: RuleConfig, skip: frozenset[str]) -> Result:
    issues = _problem_issues("compose", project.problems)
    issues += [_error_issue("compose", e) for e in project.errors]
    findings, checks = scan_compose(project, config, skip) if project.services else ([], [])
    return findings, checks, issues


def _scan(name: str, data: str | bytes, config: RuleConfig, skip: frozenset[str],
          limits: YamlLimits | None, env: dict[str, str] | None, path: Path | None,
          included: set[str] | None = None) -> Result:
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "replace")
    if not any(h in raw for h in _MANIFEST_WORDS):
        return [], [], []  # cannot be a manifest: not worth parsing
    hinted = any(h in raw for h in _MANIFEST_HINT)
    try:
        docs, problems, error = load_all(data, name, limits)
    except YamlError as exc:
        return [], [], [_error_issue("manifest", exc)] if hinted else []
    objects, _ = objects_of(docs, name)
    if objects:
        issues = _problem_issues("kubernetes", problems)
        if error is not None:
            issues.append(_error_issue("kubernetes", error))
        findings, checks = scan_kubernetes(name, objects, config, skip)
        return findings, checks, issues
    if docs and looks_like_compose(docs[0]):
        if path is not None:
            files = compose_files_for(path)
            if files is None:
                return [], [], []
            project = load_compose(files, env, limits)
            if included is not None:
                included.update(str(Path(f).resolve()) for f in project.included)
        else:
            project = load_compose_text(data, name, env or {}, limits)
        return _compose_result(project, config, skip)
    if error is not None and hinted:
        return [], [], [_error_issue("manifest", error)]
    return [], [], []
