"""Host paths that must not be mounted into a container (Kubernetes hostPath,
compose bind mounts)."""

from __future__ import annotations

import posixpath

# The path itself or anything beneath it.
SENSITIVE_TREES: dict[str, str] = {
    "/proc": "the host's /proc", "/sys": "the host's /sys", "/boot": "the host's kernel",
    "/root": "root's home directory", "/dev": "host devices",
    "/var/run/docker.sock": "the Docker socket", "/run/docker.sock": "the Docker socket",
    "/var/run/containerd": "the containerd socket", "/run/containerd": "the containerd socket",
    "/var/run/crio": "the CRI-O socket", "/run/crio": "the CRI-O socket",
    "/var/run/podman": "the Podman socket", "/run/podman": "the Podman socket",
    "/var/lib/docker": "Docker's state", "/var/lib/containerd": "containerd's state",
    "/var/lib/kubelet": "the kubelet's state", "/etc/kubernetes": "Kubernetes credentials",
    "/etc/docker": "Docker's configuration", "/etc/shadow": "password hashes",
    "/etc/sudoers": "sudo configuration", "/etc/ssh": "SSH host keys",
}
# Only the path itself (subdirectories such as /etc/myapp are ordinary).
SENSITIVE_EXACT: dict[str, str] = {
    "/": "the host's root filesystem", "/etc": "the host's /etc", "/usr": "host binaries",
    "/lib": "host libraries", "/bin": "host binaries", "/sbin": "host binaries",
    "/var": "the host's /var", "/var/run": "host runtime sockets", "/run": "host runtime sockets",
    "/home": "users' home directories",
}


def sensitive_host_path(path: str) -> str | None:
    """Why mounting `path` is dangerous, or None."""
    if not path.startswith("/"):
        return None
    norm = posixpath.normpath(path)
    norm = "/" if norm in ("/", "//") else norm
    if norm in SENSITIVE_EXACT:
        return SENSITIVE_EXACT[norm]
    for tree, why in SENSITIVE_TREES.items():
        if norm == tree or norm.startswith(tree + "/"):
            return why
    return None
