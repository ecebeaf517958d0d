"""Which identity a stored target has.

- `identity` keys a target across runs: its image id (the config digest, the
  same however the image was named) or else its name.
- `fingerprint identity` is what the scan hashed into the fingerprints of its
  findings: the image id, the resolved path of a directory or SBOM, the name of
  a host. A re-scan must hash the same value to recognise old findings, so it
  is worked out when a run is recorded: the candidate that reproduces a stored
  vulnerability fingerprint wins; without one, the rule the scan follows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lashing.model import fingerprint

__all__ = ["fingerprint_identity", "target_identity", "vulnerability_anchor"]

_PREFIXES = ("dir:", "sbom:")


def target_identity(target: dict[str, Any]) -> str:
    image_id = target.get("image_id")
    return image_id if isinstance(image_id, str) and image_id else str(target["name"])


def vulnerability_anchor(package: dict[str, Any]) -> str:
    """The anchor of a vulnerability finding on `package` (see vulndb.findings)."""
    purl = package.get("purl")
    if isinstance(purl, str) and purl:
        return purl
    return f"{package.get('ecosystem')}/{package.get('name')}@{package.get('version')}"


def _resolved(name: str) -> str | None:
    text = name
    for prefix in _PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix):]
            break
    try:
        return str(Path(text).resolve())
    except (OSError, RuntimeError, ValueError):
        return None


def fingerprint_identity(target: dict[str, Any], findings: list[dict[str, Any]]) -> str:
    name = str(target["name"])
    image_id = target.get("image_id")
    if isinstance(image_id, str) and image_id:
        return image_id
    resolved = _resolved(name)
    kind = target.get("kind")
    preferred = resolved if kind in ("filesystem", "sbom") and resolved else name
    candidates = [preferred] + [c for c in (name, resolved) if c and c != preferred]
    for f in findings:
        vuln = f.get("vulnerability")
        if f.get("target") != name or not isinstance(vuln, dict):
            continue
        package = vuln.get("package")
        if not isinstance(package, dict):
            continue
        anchor = vulnerability_anchor(package)
        for candidate in candidates:
            if fingerprint(str(f["rule_id"]), candidate, anchor) == f.get("fingerprint"):
                return candidate
    return preferred
