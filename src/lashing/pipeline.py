"""scan(target, options, progress) -> Report: wires the stages together.

Never prints, never exits: the CLI renders the Report it returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO

from lashing import __version__
from lashing.catalog import CATALOGERS, Cataloger, catalog, sniffed_globs, wanted_globs
from lashing.errors import InputError
from lashing.fs import FileTree, tree_from_directory, tree_from_image, want_globs
from lashing.fs.build import Sniffed
from lashing.model import (
    Issue,
    LayerInfo,
    Location,
    OSInfo,
    Package,
    Report,
    Target,
    TargetKind,
)
from lashing.options import SourceOptions
from lashing.osinfo import OS_FILES, detect_os
from lashing.progress import NullProgress, Progress
from lashing.source.image import Image
from lashing.source.open import open_image
from lashing.source.resolve import IMAGE_TYPES, ResolvedTarget, TargetType
from lashing.source.sbom import read_sbom


@dataclass(frozen=True)
class ScanOptions:
    source: SourceOptions = field(default_factory=SourceOptions)
    catalogers: tuple[Cataloger, ...] = CATALOGERS


@dataclass(frozen=True)
class _Contents:
    """What the content stages found in one tree."""

    os: OSInfo | None
    packages: tuple[Package, ...]
    issues: tuple[Issue, ...]


def scan(target: ResolvedTarget, options: ScanOptions | None = None,
         progress: Progress | None = None, stdin: IO[bytes] | None = None) -> Report:
    options = options or ScanOptions()
    progress = progress or NullProgress()
    want = want_globs(*OS_FILES, *wanted_globs(options.catalogers))
    binary_globs, magics = sniffed_globs(options.catalogers)
    sniffed = Sniffed(want_globs(*binary_globs), magics) if binary_globs else None
    if target.type in IMAGE_TYPES:
        with open_image(target, options.source, progress, stdin) as image:
            tree = tree_from_image(image, want, options.source.limits, progress,
                                   sniffed=sniffed)
            with tree:
                found = _contents(tree, options, rootfs=True)
            return Report(targets=(_image_target(target, image, found),),
                          issues=found.issues, tool_version=__version__)
    if target.type is TargetType.DIRECTORY:
        assert target.path is not None
        if not target.path.is_dir():
            raise InputError(f"{target.text}: not a directory")
        tree = tree_from_directory(target.path, want_globs(
            *OS_FILES, *wanted_globs(options.catalogers), *binary_globs), options.source.limits)
        with tree:
            found = _contents(tree, options, rootfs=any(p in tree for p in OS_FILES))
        t = Target(name=target.text, kind=TargetKind.FILESYSTEM, os=found.os,
                   packages=found.packages)
        return Report(targets=(t,), issues=found.issues, tool_version=__version__)
    if target.type is TargetType.SBOM:
        assert target.path is not None
        sbom = read_sbom(target.path, target.text)
        issues: tuple[Issue, ...] = ()
        if sbom.os is not None and not sbom.os.supported:
            issues = (Issue(stage="os", plugin="sbom", location=Location(path=str(target.path)),
                            message=f"{sbom.os.name} is not covered: its OS packages are not "
                                    "checked for vulnerabilities"),)
        t = Target(name=target.text, kind=TargetKind.SBOM, image_id=sbom.image_id,
                   os=sbom.os, packages=sbom.packages)
        return Report(targets=(t,), issues=issues, tool_version=__version__)
    raise InputError(
        f"{target.text}: a {target.type.value} target; this version of lashing scans "
        "images (docker-archive, oci, oci-archive, registry references), directories and SBOMs")


def _contents(tree: FileTree, options: ScanOptions, rootfs: bool) -> _Contents:
    os_info, os_issues = detect_os(tree) if rootfs else (None, [])
    packages, cat_issues = catalog(tree, options.catalogers, os_info)
    return _Contents(os_info, tuple(packages), (*tree.issues, *os_issues, *cat_issues))


def _image_target(target: ResolvedTarget, image: Image, found: _Contents) -> Target:
    layers = tuple(
        LayerInfo(diff_id=layer.diff_id, digest=layer.digest, media_type=layer.media_type,
                  size=layer.size, created_by=layer.created_by)
        for layer in image.layers
    )
    return Target(
        name=target.text,
        kind=TargetKind.IMAGE,
        image_id=image.image_id,
        manifest_digest=image.manifest_digest,
        repo_digests=image.repo_digests,
        platform=str(image.platform),
        os=found.os,
        layers=layers,
        packages=found.packages,
    )
