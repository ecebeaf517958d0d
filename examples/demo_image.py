"""Build the demo image: a small Debian 12 style image with known old
packages, written as an OCI image layout, entirely in code.

    python examples/demo_image.py build/demo     # then: lashing scan oci:build/demo:1.0

Two layers: a base with os-release and a dpkg database listing old OpenSSL,
zlib and glibc versions, and an application layer with old Python packages
and a setuid copy of a shell.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import sys
import tarfile
from pathlib import Path

DPKG_STATUS = """\
Package: libc6
Status: install ok installed
Architecture: amd64
Source: glibc
Version: 2.36-9+deb12u1

Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl
Version: 3.0.9-1

Package: zlib1g
Status: install ok installed
Architecture: amd64
Source: zlib
Version: 1:1.2.13.dfsg-1

Package: bash
Status: install ok installed
Architecture: amd64
Version: 5.2.15-2+b2
"""

OS_RELEASE = """\
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
"""


def _metadata(name: str, version: str) -> str:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"


BASE = {
    "usr/lib/os-release": (OS_RELEASE.encode(), 0o644),
    "etc/os-release": ("../usr/lib/os-release", "symlink"),
    "etc/debian_version": (b"12.1\n", 0o644),
    "var/lib/dpkg/status": (DPKG_STATUS.encode(), 0o644),
    "bin/sh": (b"#!demo shell\n", 0o755),
}
APP = {
    "usr/local/lib/python3.11/site-packages/requests-2.25.0.dist-info/METADATA":
        (_metadata("requests", "2.25.0").encode(), 0o644),
    "usr/local/lib/python3.11/site-packages/urllib3-1.26.4.dist-info/METADATA":
        (_metadata("urllib3", "1.26.4").encode(), 0o644),
    "usr/local/bin/rootsh": (b"#!demo shell\n", 0o4755),
    "app/main.py": (b"print('hello')\n", 0o644),
}


def layer(files: dict[str, tuple[object, object]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, (data, mode) in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.mtime = 1700000000
            if mode == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = str(data)
                tar.addfile(info)
                continue
            assert isinstance(data, bytes) and isinstance(mode, int)
            info.mode, info.size = mode, len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def blob(root: Path, data: bytes) -> dict[str, object]:
    digest = hashlib.sha256(data).hexdigest()
    path = root / "blobs" / "sha256" / digest
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def main(out: Path) -> None:
    tars = [layer(BASE), layer(APP)]
    diff_ids = ["sha256:" + hashlib.sha256(t).hexdigest() for t in tars]
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
        "config": {"User": "", "Env": ["PATH=/usr/local/bin:/usr/bin:/bin"],
                   "Cmd": ["python3", "/app/main.py"], "ExposedPorts": {"22/tcp": {}}},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created_by": "ADD rootfs.tar /"},
                    {"created_by": "RUN pip install requests==2.25.0 "
                                   "&& cp /bin/sh /usr/local/bin/rootsh"}],
    }, sort_keys=True).encode()
    layers = [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
               **blob(out, gzip.compress(t, mtime=0))} for t in tars]
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **blob(out, config)},
        "layers": layers,
    }, sort_keys=True).encode()
    desc = {"mediaType": "application/vnd.oci.image.manifest.v1+json", **blob(out, manifest),
            "annotations": {"org.opencontainers.image.ref.name": "1.0"}}
    (out / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (out / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [desc]}))
    print(f"demo image written to {out} (oci:{out}:1.0)", file=sys.stderr)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "build/demo"))
