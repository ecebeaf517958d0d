#!/usr/bin/env python3
"""Build the benchmark image: Debian 12 (bookworm) in two layers, without Docker.

Layer 1 is ``debootstrap --variant=minbase --include=python3,ca-certificates,curl
bookworm`` (minbase alone is 88 packages; with these about 130), cleaned like
Docker's own debian images (no .deb cache, no apt lists); layer 2 adds a
handful of pure-Python wheels (requests and its dependencies) under
/usr/lib/python3/dist-packages.  The image is written twice:

* an OCI image layout directory (gzip layers, ``index.json``, ``oci-layout``,
  ``blobs/sha256/...``), tag ``12``, written here with tarfile/hashlib;
* a docker-archive tarball (``docker save`` format), converted from the OCI
  layout with ``skopeo copy`` when skopeo is installed, otherwise written here.

Everything lives under bench/.work/ and is reused when already built with the
same recipe.  Needs root (debootstrap) and access to a Debian mirror and PyPI.

Usage: python3 bench/build_image.py [--rebuild] [--mirror URL]
Prints the paths of both forms as JSON on the last line of stdout.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
WORK = BENCH / ".work"
ROOTFS = WORK / "rootfs"
ROOTFS_DONE = WORK / "rootfs.done"
WHEELS = WORK / "wheels"
IMAGE = WORK / "image"
OCI_DIR = IMAGE / "oci"
OCI_TAG = "12"
ARCHIVE = IMAGE / "debian-12.tar"
ARCHIVE_REF = "bench/debian:12"
STAMP = IMAGE / "build.json"

SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
# Python for layer 2's packages to belong to, and curl: about 130 packages in all.
DEBOOTSTRAP_INCLUDE = ("python3", "ca-certificates", "curl")
# Pure-Python wheels for layer 2, pinned so that every build holds the same files.
WHEEL_PINS = (
    "requests==2.32.3",
    "urllib3==2.2.3",
    "idna==3.10",
    "certifi==2024.8.30",
    "charset-normalizer==3.4.0",
)
SITE_DIR = "usr/lib/python3/dist-packages"
# Timestamps in the layers are clamped to this (2025-01-01T00:00:00Z) so that
# the same trees give the same bytes.
SOURCE_DATE_EPOCH = 1735689600
CREATED = "2025-01-01T00:00:00Z"
RECIPE_VERSION = 1

LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"
CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json"
MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"


class BuildError(Exception):
    pass


def log(message: str) -> None:
    print(f"[build_image] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- mirror


def _deb822_stanzas(text: str) -> list[dict[str, str]]:
    stanzas: list[dict[str, str]] = []
    current: dict[str, str] = {}
    key = ""
    for raw in text.splitlines():
        if raw.lstrip().startswith("#"):
            continue
        if not raw.strip():
            if current:
                stanzas.append(current)
                current = {}
            continue
        if raw[0] in " \t" and key:
            current[key] += " " + raw.strip()
            continue
        if ":" in raw:
            key, _, value = raw.partition(":")
            key = key.strip().lower()
            current[key] = value.strip()
    if current:
        stanzas.append(current)
    return stanzas


def find_mirror() -> str:
    """The Debian archive URI this machine's apt uses for the main suite."""
    candidates: list[tuple[str, list[str]]] = []
    apt = Path("/etc/apt")
    lists = [apt / "sources.list"]
    parts = apt / "sources.list.d"
    if parts.is_dir():
        lists += sorted(parts.glob("*.list"))
    for path in lists:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            words = line.split("#", 1)[0].split()
            if len(words) < 3 or words[0] != "deb":
                continue
            words = words[1:]
            if words[0].startswith("["):
                while words and not words[0].endswith("]"):
                    words = words[1:]
                words = words[1:]
            if len(words) >= 2:
                candidates.append((words[0], [words[1]]))
    if parts.is_dir():
        for path in sorted(parts.glob("*.sources")):
            try:
                text = path.read_text(errors="replace")
            except OSError:
                continue
            for stanza in _deb822_stanzas(text):
                if "deb" not in stanza.get("types", "").split():
                    continue
                if stanza.get("enabled", "yes").lower() == "no":
                    continue
                suites = stanza.get("suites", "").split()
                for uri in stanza.get("uris", "").split():
                    candidates.append((uri, suites))
    for uri, suites in candidates:
        if SUITE in suites and "security" not in uri:
            return uri.rstrip("/")
    for uri, suites in candidates:
        if "debian" in uri and "security" not in uri and any(s.startswith(SUITE) for s in suites):
            return uri.rstrip("/")
    return DEFAULT_MIRROR


# --------------------------------------------------------------------------- layers


def _debootstrap_cmd(mirror: str) -> list[str]:
    return [
        "debootstrap",
        "--variant=minbase",
        "--include=" + ",".join(DEBOOTSTRAP_INCLUDE),
        SUITE,
        str(ROOTFS),
        mirror,
    ]


def _clean_rootfs() -> None:
    """What Docker's debian images leave out: the .deb cache and apt's lists."""
    for sub in ("var/cache/apt/archives", "var/lib/apt/lists"):
        base = ROOTFS / sub
        if not base.is_dir():
            continue
        for path in base.iterdir():
            if path.is_file() and path.name != "lock":
                path.unlink()
    for path in (ROOTFS / "var/cache/apt").glob("*.bin"):
        path.unlink()


def build_rootfs(mirror: str) -> None:
    key = " ".join(_debootstrap_cmd("MIRROR"))
    if ROOTFS_DONE.exists() and ROOTFS.is_dir() and ROOTFS_DONE.read_text().strip() == key:
        log(f"reusing {ROOTFS}")
        return
    if shutil.which("debootstrap") is None:
        raise BuildError("debootstrap is not installed (apt-get install debootstrap)")
    if os.geteuid() != 0:
        raise BuildError("debootstrap needs root: run this as root")
    if ROOTFS.exists():
        shutil.rmtree(ROOTFS)
    WORK.mkdir(parents=True, exist_ok=True)
    ROOTFS_DONE.unlink(missing_ok=True)
    cmd = _debootstrap_cmd(mirror)
    log(" ".join(cmd) + " (a minute or two)")
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-20:])
        raise BuildError(f"debootstrap failed (exit {proc.returncode}):\n{tail}")
    _clean_rootfs()
    ROOTFS_DONE.write_text(key + "\n")


def _pip() -> list[str]:
    for python in (sys.executable, shutil.which("python3") or ""):
        if not python:
            continue
        probe = subprocess.run([python, "-m", "pip", "--version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return [python, "-m", "pip"]
    raise BuildError("pip is not available to download the layer-2 wheels")


def fetch_wheels() -> list[Path]:
    WHEELS.mkdir(parents=True, exist_ok=True)

    def present() -> list[Path]:
        found = []
        for pin in WHEEL_PINS:
            name, _, version = pin.partition("==")
            stem = f"{name.replace('-', '_')}-{version}-"
            match = sorted(p for p in WHEELS.glob("*.whl") if p.name.lower().startswith(stem))
            if not match:
                return []
            found.append(match[0])
        return found

    wheels = present()
    if wheels:
        return wheels
    log("pip download " + " ".join(WHEEL_PINS))
    cmd = [
        *_pip(),
        "download",
        "--quiet",
        "--disable-pip-version-check",
        "--no-deps",
        "--only-binary=:all:",
        "--platform",
        "any",
        "--python-version",
        "3.11",
        "--dest",
        str(WHEELS),
        *WHEEL_PINS,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wheels = present()
    if proc.returncode != 0 or not wheels:
        raise BuildError(f"pip download failed:\n{proc.stdout}{proc.stderr}")
    return wheels


def build_app_tree(wheels: list[Path], dest: Path) -> None:
    """Install the wheels the way pip --target would (pure-Python: unpack + INSTALLER)."""
    site = dest / SITE_DIR
    site.mkdir(parents=True)
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as zf:
            for info in zf.infolist():
                target = (site / info.filename).resolve()
                if not str(target).startswith(str(site.resolve()) + os.sep):
                    raise BuildError(f"{wheel.name}: unsafe member {info.filename}")
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(zf.read(info))
                target.chmod(0o644)
        dist_info = [p for p in site.glob("*.dist-info") if not (p / "INSTALLER").exists()]
        for path in dist_info:
            (path / "INSTALLER").write_text("pip\n")
    # parents of the site directory belong to root, like in the base layer
    for path in [dest, *sorted(dest.rglob("*"))]:
        if path.is_dir():
            path.chmod(0o755)


def _walk(root: Path) -> list[str]:
    """Every path under root, relative, sorted, parents before children."""
    out: list[str] = []

    def visit(rel: str) -> None:
        full = root / rel if rel else root
        with os.scandir(full) as it:
            names = sorted(e.name for e in it)
        for name in names:
            child = f"{rel}/{name}" if rel else name
            out.append(child)
            st = os.lstat(root / child)
            if stat.S_ISDIR(st.st_mode):
                visit(child)

    visit("")
    return out


def write_layer_tar(root: Path, tar_path: Path, *, skip_dev: bool) -> int:
    """A deterministic uncompressed layer tar of root; returns the entry count."""
    count = 0
    with tarfile.open(tar_path, "w", format=tarfile.PAX_FORMAT) as tar:
        for rel in _walk(root):
            full = root / rel
            st = os.lstat(full)
            if skip_dev and rel.startswith("dev/"):
                # device nodes, fifos and the like made by debootstrap: an image's
                # /dev is provided by the runtime, as in Docker's own debian image
                continue
            if not (
                stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode) or stat.S_ISLNK(st.st_mode)
            ):
                continue
            info = tar.gettarinfo(str(full), arcname=rel)
            if info is None:
                continue
            info.uname = ""
            info.gname = ""
            info.mtime = min(int(info.mtime), SOURCE_DATE_EPOCH)
            info.pax_headers = {}
            if info.isreg():
                with open(full, "rb") as fh:
                    tar.addfile(info, fh)
            else:
                tar.addfile(info)
            count += 1
    return count


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _put_blob(blobs: Path, data: bytes) -> tuple[str, int]:
    hexdigest = hashlib.sha256(data).hexdigest()
    (blobs / hexdigest).write_bytes(data)
    return f"sha256:{hexdigest}", len(data)


def gzip_layer(tar_path: Path, blobs: Path) -> tuple[str, str, int]:
    """Compress a layer tar into blobs/; returns (diff_id, digest, size)."""
    diff_id = "sha256:" + _sha256_file(tar_path)
    tmp = blobs / ".layer.tmp"
    with (
        open(tar_path, "rb") as src,
        open(tmp, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz,
    ):
        shutil.copyfileobj(src, gz, 1 << 20)
    hexdigest = _sha256_file(tmp)
    size = tmp.stat().st_size
    tmp.rename(blobs / hexdigest)
    return diff_id, f"sha256:{hexdigest}", size


# --------------------------------------------------------------------------- image


def write_oci_layout(layer_tars: list[tuple[Path, str]], out: Path) -> dict[str, object]:
    blobs = out / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    layers = []
    for tar_path, created_by in layer_tars:
        diff_id, digest, size = gzip_layer(tar_path, blobs)
        layers.append((diff_id, digest, size, created_by))
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": CREATED,
        "config": {
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": ["bash"],
            "Labels": {"org.opencontainers.image.title": "lashing benchmark debian 12"},
        },
        "rootfs": {"type": "layers", "diff_ids": [layer[0] for layer in layers]},
        "history": [{"created": CREATED, "created_by": layer[3]} for layer in layers],
    }
    config_digest, config_size = _put_blob(
        blobs, json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    )
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": {"mediaType": CONFIG_MEDIA_TYPE, "digest": config_digest, "size": config_size},
        "layers": [
            {"mediaType": LAYER_MEDIA_TYPE, "digest": layer[1], "size": layer[2]}
            for layer in layers
        ],
    }
    manifest_digest, manifest_size = _put_blob(
        blobs, json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    )
    index = {
        "schemaVersion": 2,
        "mediaType": INDEX_MEDIA_TYPE,
        "manifests": [
            {
                "mediaType": MANIFEST_MEDIA_TYPE,
                "digest": manifest_digest,
                "size": manifest_size,
                "annotations": {"org.opencontainers.image.ref.name": OCI_TAG},
                "platform": {"architecture": "amd64", "os": "linux"},
            }
        ],
    }
    (out / "index.json").write_text(json.dumps(index, sort_keys=True, separators=(",", ":")))
    (out / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    return {"config": config_digest, "manifest": manifest_digest, "diff_ids": config["rootfs"]}


def write_docker_archive_python(oci: Path, out: Path) -> None:
    """docker save format from the OCI layout: uncompressed layers, config, manifest.json."""
    blobs = oci / "blobs" / "sha256"
    index = json.loads((oci / "index.json").read_text())
    manifest = json.loads((blobs / index["manifests"][0]["digest"].split(":")[1]).read_text())
    config_hex = manifest["config"]["digest"].split(":")[1]
    config = json.loads((blobs / config_hex).read_text())
    names: list[str] = []
    tmp = out.with_suffix(".tmp")
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:

        def add_bytes(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = SOURCE_DATE_EPOCH
            info.mode = 0o644
            tar.addfile(info, fileobj=io.BytesIO(data))

        add_bytes(f"{config_hex}.json", (blobs / config_hex).read_bytes())
        for layer, diff_id in zip(manifest["layers"], config["rootfs"]["diff_ids"], strict=True):
            name = f"{diff_id.split(':')[1]}.tar"
            with tempfile.TemporaryFile() as plain:
                with gzip.open(blobs / layer["digest"].split(":")[1], "rb") as gz:
                    shutil.copyfileobj(gz, plain, 1 << 20)
                size = plain.tell()
                plain.seek(0)
                info = tarfile.TarInfo(name)
                info.size = size
                info.mtime = SOURCE_DATE_EPOCH
                info.mode = 0o644
                tar.addfile(info, plain)
            names.append(name)
        add_bytes(
            "manifest.json",
            json.dumps(
                [{"Config": f"{config_hex}.json", "RepoTags": [ARCHIVE_REF], "Layers": names}]
            ).encode(),
        )
        repo, _, tag = ARCHIVE_REF.rpartition(":")
        add_bytes("repositories", json.dumps({repo: {tag: names[-1][:-4]}}).encode())
    tmp.rename(out)


def write_docker_archive(oci: Path, out: Path, writer: str) -> str:
    if out.exists():
        out.unlink()
    if writer == "auto":
        writer = "skopeo" if shutil.which("skopeo") else "python"
    if writer == "skopeo":
        cmd = [
            "skopeo",
            "copy",
            "--quiet",
            f"oci:{oci}:{OCI_TAG}",
            f"docker-archive:{out}:{ARCHIVE_REF}",
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise BuildError(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    else:
        write_docker_archive_python(oci, out)
    return writer


def recipe() -> dict[str, object]:
    return {
        "recipe_version": RECIPE_VERSION,
        "suite": SUITE,
        "variant": "minbase",
        "include": list(DEBOOTSTRAP_INCLUDE),
        "wheels": list(WHEEL_PINS),
        "site_dir": SITE_DIR,
    }


def build(*, rebuild: bool, mirror: str | None, writer: str) -> dict[str, str]:
    mirror = mirror or os.environ.get("BENCH_DEBIAN_MIRROR") or find_mirror()
    result = {
        "oci": f"oci:{OCI_DIR}:{OCI_TAG}",
        "oci_dir": str(OCI_DIR),
        "oci_tag": OCI_TAG,
        "docker_archive": str(ARCHIVE),
    }
    want = recipe()
    if rebuild:
        for path in (IMAGE, ROOTFS):
            if path.exists():
                shutil.rmtree(path)
        ROOTFS_DONE.unlink(missing_ok=True)
    elif STAMP.exists() and ARCHIVE.exists() and (OCI_DIR / "index.json").exists():
        stamp = json.loads(STAMP.read_text())
        if stamp.get("recipe") == want:
            log(f"reusing image in {IMAGE}")
            return result
    build_rootfs(mirror)
    wheels = fetch_wheels()
    if IMAGE.exists():
        shutil.rmtree(IMAGE)
    IMAGE.mkdir(parents=True)
    with tempfile.TemporaryDirectory(dir=WORK, prefix="build-") as tmp_name:
        tmp = Path(tmp_name)
        app = tmp / "app"
        build_app_tree(wheels, app)
        layer1 = tmp / "layer1.tar"
        layer2 = tmp / "layer2.tar"
        log("writing layer 1 (base system)")
        n1 = write_layer_tar(ROOTFS, layer1, skip_dev=True)
        log(f"writing layer 2 ({len(wheels)} wheels)")
        n2 = write_layer_tar(app, layer2, skip_dev=False)
        log(f"layer entries: {n1} + {n2}; writing OCI layout")
        digests = write_oci_layout(
            [
                (layer1, " ".join(_debootstrap_cmd(mirror)).replace(str(ROOTFS), "/")),
                (layer2, "pip install --target /" + SITE_DIR + " " + " ".join(WHEEL_PINS)),
            ],
            OCI_DIR,
        )
    used = write_docker_archive(OCI_DIR, ARCHIVE, writer)
    log(f"docker-archive written with {used}")
    STAMP.write_text(json.dumps({"recipe": want, "mirror": mirror, "digests": digests}, indent=2))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Build (or reuse) the two-layer Debian 12 benchmark image under bench/.work/.",
    )
    parser.add_argument("--rebuild", action="store_true", help="rebuild from scratch")
    parser.add_argument(
        "--mirror",
        help="Debian mirror (default: $BENCH_DEBIAN_MIRROR, else the one apt uses, "
        f"else {DEFAULT_MIRROR})",
    )
    parser.add_argument(
        "--docker-archive-writer",
        choices=("auto", "skopeo", "python"),
        default="auto",
        help="how to write the docker-archive form (default: skopeo if installed)",
    )
    args = parser.parse_args(argv)
    try:
        result = build(rebuild=args.rebuild, mirror=args.mirror, writer=args.docker_archive_writer)
    except BuildError as exc:
        print(f"build_image: error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
