"""Host trees for the build-host tests, written into temporary directories."""

from __future__ import annotations

import os
import socket
from pathlib import Path

DEBIAN_UNIT = """\
[Unit]
Description=Docker Application Container Engine
After=network-online.target docker.socket firewalld.service containerd.service
Requires=docker.socket

[Service]
Type=notify
EnvironmentFile=-/etc/default/docker
ExecStart=/usr/sbin/dockerd -H fd:// $DOCKER_OPTS
ExecReload=/bin/kill -s HUP $MAINPID
"""
DEBIAN_SOCKET = """\
[Socket]
ListenStream=/run/docker.sock
SocketMode=0660
SocketUser=root
SocketGroup=docker
"""
DEBIAN_DEFAULT = """\
# Docker Upstart and SysVinit configuration file
#DOCKER_OPTS="--dns 8.8.8.8 --dns 8.8.4.4"
#export http_proxy="http://127.0.0.1:3128/"
"""
DPKG_STATUS = """\
Package: docker.io
Status: install ok installed
Architecture: amd64
Source: docker.io (20.10.24+dfsg1-1)
Version: 20.10.24+dfsg1-1+b3

"""
OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'
HARDENED_JSON = """{
  "icc": false, "userns-remap": "default", "live-restore": true,
  "userland-proxy": false, "no-new-privileges": true, "log-driver": "syslog",
  "log-opts": {"syslog-address": "tcp://logs.example.com:514"},
  "authorization-plugins": ["authz-broker"],
  "default-ulimits": {"nofile": {"Name": "nofile", "Hard": 64000, "Soft": 64000}},
  "storage-driver": "overlay2"
}
"""
AUDIT = "".join(f"-w {p} -p rwxa -k docker\n" for p in (
    "/usr/sbin/dockerd", "/run/containerd", "/var/lib/docker", "/etc/docker",
    "/lib/systemd/system/docker.service", "/run/containerd/containerd.sock",
    "/lib/systemd/system/docker.socket", "/etc/default/docker", "/etc/docker/daemon.json",
    "/etc/containerd/config.toml", "/usr/bin/containerd", "/usr/sbin/runc"))


def put(root: Path, path: str, content: str | None = "", mode: int = 0o644,
        uid: int = 0, gid: int = 0) -> Path:
    """Write a file (None: make a directory) under root, owned uid:gid when we can."""
    full = root / path.lstrip("/")
    full.parent.mkdir(parents=True, exist_ok=True)
    if content is None:
        full.mkdir(exist_ok=True)
    else:
        full.write_text(content)
    full.chmod(mode)
    if os.geteuid() == 0:
        os.chown(full, uid, gid)
    return full


def make_socket(root: Path, path: str, mode: int = 0o660, gid: int = 0) -> None:
    full = root / path.lstrip("/")
    full.parent.mkdir(parents=True, exist_ok=True)
    s = socket.socket(socket.AF_UNIX)
    try:
        s.bind(str(full))
    except OSError:  # path too long for a socket address: a placeholder file will do
        full.write_text("")
    finally:
        s.close()
    full.chmod(mode)
    if os.geteuid() == 0:
        os.chown(full, 0, gid)


def debian_docker_io(root: Path) -> Path:
    """What `apt-get install docker.io` leaves, with one user added to the docker group."""
    put(root, "/etc/os-release", OS_RELEASE)
    put(root, "/var/lib/dpkg/status", DPKG_STATUS)
    put(root, "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n"
        "alice:x:1000:1000:Alice:/home/alice:/bin/bash\n")
    put(root, "/etc/group", "root:x:0:\nalice:x:1000:\ndocker:x:999:alice\n")
    put(root, "/usr/sbin/dockerd", "", 0o755)
    put(root, "/usr/sbin/runc", "", 0o755)
    put(root, "/usr/bin/containerd", "", 0o755)
    put(root, "/lib/systemd/system/docker.service", DEBIAN_UNIT)
    put(root, "/lib/systemd/system/docker.socket", DEBIAN_SOCKET)
    put(root, "/etc/default/docker", DEBIAN_DEFAULT)
    put(root, "/etc/docker", None, 0o755)
    put(root, "/etc/fstab", "UUID=1234 / ext4 errors=remount-ro 0 1\n")
    make_socket(root, "/run/docker.sock", 0o660, 999)
    return root


def hardened(root: Path) -> Path:
    debian_docker_io(root)
    put(root, "/etc/group", "root:x:0:\nalice:x:1000:\ndocker:x:999:\n")
    put(root, "/etc/docker/daemon.json", HARDENED_JSON)
    put(root, "/etc/audit/rules.d/docker.rules", AUDIT, 0o640)
    put(root, "/etc/fstab", "UUID=1234 / ext4 errors=remount-ro 0 1\n"
        "UUID=5678 /var/lib/docker xfs defaults 0 2\n")
    put(root, "/etc/containers/policy.json",
        '{"default": [{"type": "reject"}], "transports": {"docker": {"registry.example.com":'
        ' [{"type": "sigstoreSigned", "keyPath": "/etc/pki/cosign.pub"}]}}}')
    put(root, "/etc/containers/registries.conf",
        'unqualified-search-registries = ["registry.example.com"]\n'
        'short-name-mode = "enforcing"\n')
    return root
