#!/usr/bin/env python3
"""Benchmark `lashing sbom` (CycloneDX) against `syft scan` and `trivy image`.

Run with the project's virtualenv so that `lashing` is the working tree's:

    .venv/bin/python bench/bench_sbom.py [--runs 3]

Two images:

1. the Debian 12 benchmark image of bench_scan.py (bench/build_image.py), as a
   docker-archive and as an OCI layout: 122 dpkg and 5 Python packages;
2. a "large irrelevant files" image, built once into bench/.work/large-image:
   an OCI layout whose first layer is a tiny Debian 12 system (os-release and a
   three-package dpkg status) and whose second layer holds a few large files
   of random bytes under /data (about 1 GiB, incompressible, gzip level 1).
   No package lives in them, so the time a tool spends there is the cost of
   reading a layer: decompressing it and hashing it.

For every tool and form: one untimed run writing the CycloneDX document to a
temporary file, whose components are counted side by side by purl type (and
compared name by name, purl by purl); then --runs timed cold runs, interleaved,
writing to /dev/null, measuring wall time, CPU time and the peak RSS of the
process tree (the helpers of bench_scan.py).  Ratios are lashing/tool.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import platform
import shutil
import statistics
import sys
import tarfile
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import bench_scan  # noqa: E402  (sibling module: tools, versions and measured runs)
import build_image  # noqa: E402
from bench_scan import BenchError, Case, log, mb  # noqa: E402

WORK = build_image.WORK
LARGE_DIR = WORK / "large-image"
LARGE_OCI = LARGE_DIR / "oci"
LARGE_STAMP = LARGE_DIR / "build.json"
LARGE_TAG = "large"
CHUNK = 1 << 20  # 1 MiB of os.urandom at a time
CREATED = "2025-01-01T00:00:00Z"
MTIME = 1735689600

TRIVY_FLAGS = ("--offline-scan", "--skip-db-update", "--skip-java-db-update", "--no-progress",
               "--cache-dir", "{CACHE}")

LARGE_OS_RELEASE = (
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
    'VERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n'
)
LARGE_DPKG_STATUS = """\
Package: base-files
Essential: yes
Status: install ok installed
Priority: required
Section: admin
Maintainer: Santiago Vila <sanvila@debian.org>
Architecture: amd64
Version: 12.4+deb12u5
Description: Debian base system miscellaneous files

Package: libc6
Status: install ok installed
Priority: optional
Section: libs
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Architecture: amd64
Source: glibc
Version: 2.36-9+deb12u4
Description: GNU C Library: Shared libraries

Package: zlib1g
Status: install ok installed
Priority: optional
Section: libs
Maintainer: Mark Brown <broonie@debian.org>
Architecture: amd64
Source: zlib
Version: 1:1.2.13.dfsg-1
Description: compression library - runtime
"""


# --------------------------------------------------------------------------- images


@dataclass(frozen=True)
class Image:
    label: str  # row label, e.g. "debian-12 docker-archive"
    lashing_target: str
    syft_source: str
    trivy_input: str
    compressed: int  # bytes of layer blobs as stored
    uncompressed: int  # bytes of layer tars


class _HashingWriter(io.RawIOBase):
    """Counts and hashes what passes through to a file."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.sha = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self.sha.update(view)
        self.size += len(view)
        self.out.write(view)
        return len(view)


def _tar_header(name: str, size: int, kind: bytes = tarfile.REGTYPE, mode: int = 0o644) -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.type, info.mode, info.mtime = size, kind, mode, MTIME
    info.uname = info.gname = "root"
    return info.tobuf(tarfile.PAX_FORMAT)


def _write_layer(blobs: Path, members: Sequence[tuple[str, int, bytes | None]]) -> dict[str, Any]:
    """A gzip (level 1) layer streamed to a blob: members are (name, size, data);
    data None is `size` random bytes, written 1 MiB at a time; a name ending in /
    is a directory.  Returns diff_id, digest and both sizes."""
    tmp = blobs / "layer.partial"
    diff = hashlib.sha256()
    raw_size = 0
    with open(tmp, "wb") as out:
        sink = _HashingWriter(out)
        with gzip.GzipFile(fileobj=sink, mode="wb", compresslevel=1, mtime=0) as gz:

            def emit(data: bytes) -> None:
                nonlocal raw_size
                diff.update(data)
                raw_size += len(data)
                gz.write(data)

            for name, size, data in members:
                if name.endswith("/"):
                    emit(_tar_header(name, 0, tarfile.DIRTYPE, 0o755))
                    continue
                emit(_tar_header(name, size))
                if data is not None:
                    emit(data)
                else:
                    left = size
                    while left:
                        n = min(CHUNK, left)
                        emit(os.urandom(n))
                        left -= n
                if size % 512:
                    emit(b"\0" * (512 - size % 512))
            emit(b"\0" * 1024)
    digest = "sha256:" + sink.sha.hexdigest()
    tmp.rename(blobs / digest.split(":", 1)[1])
    return {"diff_id": "sha256:" + diff.hexdigest(), "digest": digest, "size": sink.size,
            "uncompressed": raw_size}


def _put_json(blobs: Path, doc: dict[str, Any]) -> tuple[str, int]:
    data = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    (blobs / digest.split(":", 1)[1]).write_bytes(data)
    return digest, len(data)


def build_large(files: int, file_mib: int, rebuild: bool) -> dict[str, Any]:
    """The large image in bench/.work/large-image/oci (tag `large`), reused when
    built with the same recipe."""
    recipe = {"recipe_version": 1, "files": files, "file_mib": file_mib, "gzip_level": 1}
    if not rebuild and LARGE_STAMP.exists() and (LARGE_OCI / "index.json").exists():
        stamp: dict[str, Any] = json.loads(LARGE_STAMP.read_text())
        if stamp.get("recipe") == recipe:
            log(f"reusing large image in {LARGE_OCI}")
            return stamp
    if LARGE_DIR.exists():
        shutil.rmtree(LARGE_DIR)
    blobs = LARGE_OCI / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    log(f"building the large image: {files} x {file_mib} MiB of random bytes under /data")
    start = time.perf_counter()
    os_release = LARGE_OS_RELEASE.encode()
    status = LARGE_DPKG_STATUS.encode()
    base = _write_layer(blobs, [
        ("etc/", 0, None), ("etc/debian_version", 5, b"12.5\n"),
        ("etc/os-release", len(os_release), os_release),
        ("var/", 0, None), ("var/lib/", 0, None), ("var/lib/dpkg/", 0, None),
        ("var/lib/dpkg/status", len(status), status),
    ])
    data = _write_layer(blobs, [("data/", 0, None)] + [
        (f"data/blob-{i + 1}.bin", file_mib * CHUNK, None) for i in range(files)])
    layers = [base, data]
    config = {
        "architecture": "amd64", "os": "linux", "created": CREATED,
        "config": {"Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [layer["diff_id"] for layer in layers]},
        "history": [{"created": CREATED, "created_by": "base: os-release, dpkg status"},
                    {"created": CREATED, "created_by": f"{files} random files in /data"}],
    }
    config_digest, config_size = _put_json(blobs, config)
    manifest_digest, manifest_size = _put_json(blobs, {
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": layer["digest"], "size": layer["size"]} for layer in layers],
    })
    (LARGE_OCI / "index.json").write_text(json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": manifest_digest, "size": manifest_size,
                       "annotations": {"org.opencontainers.image.ref.name": LARGE_TAG},
                       "platform": {"architecture": "amd64", "os": "linux"}}],
    }))
    (LARGE_OCI / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    stamp = {"recipe": recipe, "config": config_digest, "manifest": manifest_digest,
             "compressed": sum(layer["size"] for layer in layers),
             "uncompressed": sum(layer["uncompressed"] for layer in layers),
             "build_seconds": round(time.perf_counter() - start, 1)}
    LARGE_STAMP.write_text(json.dumps(stamp, indent=2) + "\n")
    log(f"built in {stamp['build_seconds']} s")
    return stamp


def layer_sizes(oci_dir: Path) -> tuple[int, int]:
    """(compressed, uncompressed) bytes of the layers of the layout's only image."""
    blobs = oci_dir / "blobs" / "sha256"
    index = json.loads((oci_dir / "index.json").read_text())
    manifest = json.loads((blobs / index["manifests"][0]["digest"].split(":", 1)[1]).read_text())
    compressed = uncompressed = 0
    for layer in manifest["layers"]:
        path = blobs / layer["digest"].split(":", 1)[1]
        compressed += path.stat().st_size
        with gzip.open(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                uncompressed += len(chunk)
    return compressed, uncompressed


def calibrate() -> tuple[float, float]:
    """This machine's single-core SHA-256 and gunzip speed in MB/s, right now, on
    64 MiB of random bytes compressed like the large image's layer."""
    data = os.urandom(64 * CHUNK)
    start = time.perf_counter()
    hashlib.sha256(data).digest()
    sha = len(data) / 1e6 / (time.perf_counter() - start)
    packed = gzip.compress(data, compresslevel=1, mtime=0)
    start = time.perf_counter()
    inflate = zlib.decompressobj(31)
    for i in range(0, len(packed), CHUNK):
        inflate.decompress(packed[i:i + CHUNK])
    gunzip = len(data) / 1e6 / (time.perf_counter() - start)
    return sha, gunzip


# --------------------------------------------------------------------------- cases


def make_cases(lashing: list[str], tools: dict[str, Path], image: Image) -> list[Case]:
    return [
        Case("lashing", image.label,
             (*lashing, "sbom", image.lashing_target, "--format", "cyclonedx", "--no-progress",
              "--cache-dir", "{CACHE}", "-o", "{OUT}"),
             reference=False),
        Case("syft", image.label,
             (str(tools["syft"]), "scan", image.syft_source, "--quiet",
              "-o", "cyclonedx-json={OUT}")),
        Case("trivy", image.label,
             (str(tools["trivy"]), "image", "--input", image.trivy_input, "--format", "cyclonedx",
              *TRIVY_FLAGS, "--output", "{OUT}")),
    ]


@dataclass
class Result:
    case: Case
    image: Image
    wall: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    doc: dict[str, Any] = field(default_factory=dict)  # the CycloneDX of the untimed run


# --------------------------------------------------------------------------- counting


def components(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every component, nested ones too (not metadata.component: the subject)."""
    out: list[dict[str, Any]] = []
    stack = list(doc.get("components") or [])
    while stack:
        c = stack.pop()
        if isinstance(c, dict):
            out.append(c)
            stack.extend(c.get("components") or [])
    return out


def category(c: dict[str, Any]) -> str:
    """A component's purl type (deb, pypi, ...), or `(type)` without a purl."""
    purl = c.get("purl")
    if isinstance(purl, str) and purl.startswith("pkg:"):
        return purl[4:].split("/", 1)[0].split("@", 1)[0]
    return f"({c.get('type', '?')})"


def counts(doc: dict[str, Any]) -> Counter[str]:
    return Counter(category(c) for c in components(doc))


def packages(doc: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(category(c), str(c.get("name")), str(c.get("version"))) for c in components(doc)
            if c.get("purl")}


def purls(doc: dict[str, Any]) -> dict[tuple[str, str, str], str]:
    return {(category(c), str(c.get("name")), str(c.get("version"))): str(c["purl"])
            for c in components(doc) if c.get("purl")}


def os_components(doc: dict[str, Any]) -> list[str]:
    return [f"{c.get('name')} {c.get('version')}" for c in components(doc)
            if c.get("type") == "operating-system"]


def _purl_differences(ours: str, theirs: str) -> list[str]:
    """How one package's purl differs between lashing and another tool, in words."""
    from urllib.parse import parse_qsl

    def split(p: str) -> tuple[str, dict[str, str]]:
        head, _, query = p.partition("?")
        return head, dict(parse_qsl(query))

    (head_a, qa), (head_b, qb) = split(ours), split(theirs)
    why = []
    if head_a != head_b:
        why.append("epoch as a qualifier, not in the version" if "epoch" in qb else
                   "name@version")
    for key in sorted(set(qa) | set(qb)):
        if key == "epoch" or qa.get(key) == qb.get(key):
            continue
        if key in qa and key in qb:
            why.append(f"{key}={qa[key]} vs {key}={qb[key]}")
        else:
            why.append(f"`{key}` qualifier only in {'lashing' if key in qa else 'theirs'}")
    return why or ["encoding"]


def explain(rows: list[Result]) -> list[str]:
    """Differences between lashing's CycloneDX and each reference tool's, found
    in this run's output, in words."""
    lines: list[str] = []
    own = next((r for r in rows if r.case.tool == "lashing"), None)
    if own is None or not own.doc:
        return lines
    lines.append("  operating-system component: " + "; ".join(
        f"{r.case.tool} {', '.join(os_components(r.doc)) or 'none'}" for r in rows))
    ours, our_purls = packages(own.doc), purls(own.doc)
    for res in rows:
        if res is own or not res.doc:
            continue
        theirs = packages(res.doc)
        tool = res.case.tool
        only_ours, only_theirs = sorted(ours - theirs), sorted(theirs - ours)
        if not only_ours and not only_theirs:
            lines.append(f"  lashing and {tool}: the same {len(ours)} packages "
                         "(purl type, name, version)")
        else:
            for side, items in ((f"only lashing, not {tool}", only_ours),
                                (f"only {tool}, not lashing", only_theirs)):
                if items:
                    shown = ", ".join(f"{t}/{n}@{v}" for t, n, v in items[:6])
                    more = f" and {len(items) - 6} more" if len(items) > 6 else ""
                    lines.append(f"  {side}: {len(items)}: {shown}{more}")
        their_purls = purls(res.doc)
        common = sorted(set(our_purls) & set(their_purls))
        differ = [k for k in common if our_purls[k] != their_purls[k]]
        if not differ:
            lines.append(f"  purls: identical to {tool}'s for all {len(common)} shared packages")
        else:
            reasons = Counter(why for k in differ
                              for why in _purl_differences(our_purls[k], their_purls[k]))
            example = max(differ, key=lambda k: len(_purl_differences(our_purls[k],
                                                                       their_purls[k])))
            lines.append(f"  purls: {len(differ)} of {len(common)} differ from {tool}'s in form:")
            lines += [f"    {n:>4} x {why}" for why, n in reasons.most_common()]
            lines.append(f"    e.g. lashing {our_purls[example]}")
            lines.append(f"         {tool:<7} {their_purls[example]}")
        size_ratio = len(json.dumps(res.doc)) / max(1, len(json.dumps(own.doc)))
        lines.append(f"  document size: {tool}'s CycloneDX is {size_ratio:.2f}x lashing's"
                     + (" (Syft adds CPEs and its metadata as properties)" if tool == "syft" else
                        ""))
    return lines


# --------------------------------------------------------------------------- report


def render(results: list[Result], versions: dict[str, str], runs: int,
           loads: tuple[str, str], speeds: tuple[float, float]) -> str:
    lines = [
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        "versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()),
        f"load average (1/5/15 min) before: {loads[0]}, after: {loads[1]}",
        f"medians of {runs} cold runs; RSS = peak resident set of the process tree; "
        "MB/s = uncompressed layer bytes / wall time",
        "",
    ]
    header = (f"{'image':<26} {'tool':<8} {'wall s':>7} {'cpu s':>7} {'peak MB':>8} "
              f"{'MB/s':>7} {'lashing/tool time':>18} {'lashing/tool RSS':>17}")
    lines += [header, "-" * len(header)]
    by_image: dict[str, list[Result]] = {}
    for res in results:
        by_image.setdefault(res.image.label, []).append(res)
    for label, rows in by_image.items():
        own = next((r for r in rows if r.case.tool == "lashing"), None)
        for res in rows:
            wall = statistics.median(res.wall)
            ratio_t = ratio_m = ""
            if own is not None and res.case.reference:
                ratio_t = f"{statistics.median(own.wall) / wall:.2f}"
                ratio_m = f"{statistics.median(own.rss_kib) / statistics.median(res.rss_kib):.2f}"
            lines.append(
                f"{label:<26} {res.case.tool:<8} {wall:>7.2f} {statistics.median(res.cpu):>7.2f} "
                f"{mb(statistics.median(res.rss_kib)):>8.1f} "
                f"{res.image.uncompressed / 1e6 / wall:>7.1f} {ratio_t:>18} {ratio_m:>17}")
        image = rows[0].image
        lines.append(f"{'':<26} layers: {image.compressed / 1e6:.1f} MB as stored, "
                     f"{image.uncompressed / 1e6:.1f} MB uncompressed")
        if label.startswith("large"):
            sha, gunzip = speeds
            floor = (image.compressed + image.uncompressed) / 1e6 / sha + (
                image.uncompressed / 1e6 / gunzip)
            lines.append(f"{'':<26} one core here does SHA-256 at {sha:.0f} MB/s and gunzip "
                         f"at {gunzip:.0f} MB/s: verifying both digests")
            lines.append(f"{'':<26} and inflating the layers costs at least {floor:.1f} s "
                         "(lashing's floor)")
        lines.append("")

    lines.append("components in each tool's CycloneDX, by purl type ((type) = no purl)")
    for label, rows in by_image.items():
        if not any(r.doc for r in rows):
            continue
        tally = {r.case.tool: counts(r.doc) for r in rows}
        cats = sorted({c for t in tally.values() for c in t}, key=lambda c: (c.startswith("("), c))
        head = f"  {label:<26}" + "".join(f"{tool:>9}" for tool in tally)
        lines.append(head)
        for cat in cats:
            lines.append(f"  {'  ' + cat:<26}" + "".join(f"{t[cat]:>9}" for t in tally.values()))
        lines.append(f"  {'  total':<26}" + "".join(f"{sum(t.values()):>9}"
                                                    for t in tally.values()))
        lines.extend(explain(rows))
        lines.append("")
    return "\n".join(lines)


NOTES = """\
What the counts hold:
  - every tool lists the distribution as one CycloneDX operating-system
    component without a purl; lashing and Syft give the os-release VERSION_ID
    (12), Trivy the point release from /etc/debian_version (12.x);
  - packages are components with a purl; lashing's purls are written the way
    Syft writes them (distro=debian-12, the source package as `upstream`, the
    epoch inside the version); Trivy writes distro=debian-12.x, the epoch as an
    `epoch` qualifier and no `upstream` (its source packages are properties);
  - Syft lists files only when a cataloger needs them (none here); Trivy's
    --format cyclonedx is the package inventory alone (no vulnerability
    database is read by any tool);
  - the large image's /data files belong to no package, but every tool reads
    the whole layer to get past them.  lashing verifies each layer's digest
    and diff_id (SHA-256 of the compressed and of the uncompressed bytes), so
    its time there is gunzip + 2 x SHA-256: its MB/s is the hashing speed of
    one core.  Syft writes every layer uncompressed to a temporary file
    (stereoscope) before cataloging.  Trivy streams the layer without checking
    any digest, and gzip level 1 stores random data in uncompressed deflate
    blocks, so inflating them is little more than a copy and a CRC-32."""


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Time `lashing sbom --format cyclonedx` against `syft scan -o "
        "cyclonedx-json` and `trivy image --format cyclonedx`, in the same run, on the Debian "
        "12 benchmark image (docker-archive and OCI layout) and on a ~1 GiB image of large "
        "irrelevant files; print package counts side by side and the lashing/tool ratios.",
        epilog="Images and tools are cached under bench/.work/ (see bench/README.md). "
        "Not a test: run it by hand.",
    )
    parser.add_argument("--runs", type=int, default=3,
                        help="timed runs per tool and image (default 3)")
    parser.add_argument("--lashing", metavar="PATH",
                        help="lashing executable (default: the one beside this Python)")
    parser.add_argument("--skip-large", action="store_true",
                        help="leave out the image of large irrelevant files")
    parser.add_argument("--large-files", type=int, default=4, metavar="N",
                        help="random files in the large image's /data (default 4)")
    parser.add_argument("--large-file-mib", type=int, default=256, metavar="MIB",
                        help="size of each of them in MiB (default 256: 1 GiB in all)")
    parser.add_argument("--rebuild-large", action="store_true",
                        help="build the large image again")
    parser.add_argument("--json", metavar="FILE", help="also write the raw measurements as JSON")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.large_files < 1 or args.large_file_mib < 1:
        parser.error("--large-files and --large-file-mib must be at least 1")

    try:
        log("images")
        try:
            bench = build_image.build(rebuild=False, mirror=None, writer="auto")
        except build_image.BuildError as exc:
            raise BenchError(f"cannot build the benchmark image: {exc}") from exc
        oci_dir = Path(bench["oci_dir"])
        compressed, uncompressed = layer_sizes(oci_dir)
        images = [
            Image("debian-12 docker-archive", f"docker-archive:{bench['docker_archive']}",
                  f"docker-archive:{bench['docker_archive']}", bench["docker_archive"],
                  Path(bench["docker_archive"]).stat().st_size, uncompressed),
            Image("debian-12 oci", bench["oci"], f"oci-dir:{oci_dir}", str(oci_dir),
                  compressed, uncompressed),
        ]
        if not args.skip_large:
            stamp = build_large(args.large_files, args.large_file_mib, args.rebuild_large)
            images.append(Image(
                f"large-{args.large_files}x{args.large_file_mib}MiB oci",
                f"oci:{LARGE_OCI}:{LARGE_TAG}", f"oci-dir:{LARGE_OCI}", str(LARGE_OCI),
                stamp["compressed"], stamp["uncompressed"]))
        tools = bench_scan.ensure_tools()
        lashing = bench_scan.find_lashing(args.lashing)
        versions = {
            "lashing": bench_scan.version_of([*lashing, "--version"]).removeprefix("lashing "),
            "syft": bench_scan.version_of([str(tools["syft"]), "version"]),
            "trivy": bench_scan.version_of([str(tools["trivy"]), "--version"]),
        }
        for name, version in versions.items():
            print(f"{name} version: {version}", flush=True)
        log(f"trivy: {tools['trivy']}")
        log(f"syft: {tools['syft']}")

        results: list[Result] = []
        for image in images:
            results += [Result(case, image) for case in make_cases(lashing, tools, image)]
        load_before = bench_scan.load_average()
        if os.getloadavg()[0] > 0.5 * (os.cpu_count() or 1):
            log(f"warning: the machine is busy (load average {load_before}); "
                "timings will be noisy")
        log("untimed run of every tool, writing CycloneDX to count components")
        for res in results:
            with tempfile.TemporaryDirectory(prefix="bench-sbom-") as tmp:
                out = Path(tmp) / "bom.json"
                bench_scan.run_once(res.case, str(out))
                try:
                    res.doc = json.loads(out.read_text())
                except (OSError, ValueError) as exc:
                    raise BenchError(f"{res.case.tool} on {res.image.label} wrote no "
                                     f"CycloneDX JSON: {exc}") from exc
            shown = ", ".join(f"{k} {v}" for k, v in sorted(counts(res.doc).items()))
            log(f"{res.case.tool:<8} {res.image.label:<26} components: {shown or 'none'}")
        for i in range(args.runs):
            for res in results:
                wall, rss, cpu = bench_scan.run_once(res.case, os.devnull)
                res.wall.append(wall)
                res.rss_kib.append(rss)
                res.cpu.append(cpu)
                log(f"run {i + 1}/{args.runs} {res.case.tool:<8} {res.image.label:<26} "
                    f"{wall:7.2f}s {mb(rss):7.1f} MB")
    except BenchError as exc:
        print(f"bench_sbom: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130

    load_after = bench_scan.load_average()
    speeds = calibrate()
    print()
    print(render(results, versions, args.runs, (load_before, load_after), speeds))
    print(NOTES)
    if args.json:
        Path(args.json).write_text(json.dumps({
            "versions": versions, "runs": args.runs,
            "load_average": {"before": load_before, "after": load_after},
            "results": [{
                "tool": r.case.tool, "image": r.image.label, "argv": list(r.case.argv),
                "wall_s": r.wall, "cpu_s": r.cpu, "peak_rss_kib": r.rss_kib,
                "compressed_bytes": r.image.compressed,
                "uncompressed_bytes": r.image.uncompressed,
                "components": dict(sorted(counts(r.doc).items())),
            } for r in results],
        }, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
