"""Small manifests for rule examples."""

from __future__ import annotations

import textwrap


def _indent(text: str, spaces: int) -> str:
    return textwrap.indent(textwrap.dedent(text).strip("\n"), " " * spaces) + "\n" if text else ""


def pod(container: str = "", spec: str = "", meta: str = "", image: str = "nginx:1.27",
        kind: str = "Pod") -> str:
    """A Pod (or Deployment) with one container `app`; `container`/`spec` are YAML
    fragments added to the container and the pod spec."""
    body = ("containers:\n- name: app\n  image: " + image + "\n"
            + _indent(container, 2) + textwrap.dedent(spec).strip("\n") + "\n")
    if kind == "Pod":
        return ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n" + _indent(meta, 2)
                + "spec:\n" + _indent(body, 2))
    return (f"apiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: web\nspec:\n"
            "  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n"
            "      labels: {app: web}\n" + _indent(meta, 6) + "    spec:\n"
            + _indent(body, 6))


HARDENED = """
securityContext:
  allowPrivilegeEscalation: false
  privileged: false
  readOnlyRootFilesystem: true
  runAsNonRoot: true
  runAsUser: 10001
  capabilities: {drop: [ALL]}
"""
