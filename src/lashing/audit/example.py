"""The commented example lashing.toml that `lashing audit --init` writes
(the same text as examples/lashing.toml in the repository)."""

from __future__ import annotations

EXAMPLE = """\
# lashing.toml: what `lashing audit` looks at, how it gates, where results go.
# Paths are relative to this file. Run: lashing audit -c lashing.toml

[audit]
# Images: any target form (docker-archive:, oci:, oci-archive:, docker://,
# registry references) and globs of archive paths. A table names the image
# as workloads refer to it, so vulnerabilities join with Kubernetes and
# compose exposure (docker-archive:PATH:REPO:TAG names itself).
images = [
  "build/*.tar",
  { target = "oci:build/layout:1.0", name = "registry.example.com/shop/web:1.0" },
]
dockerfiles = ["Dockerfile"]
kubernetes = ["deploy/"]          # files or directories of YAML manifests
compose = ["compose.yaml"]
# host = "/"                      # audit a build host root (optional)
# policy = "policy.toml"          # default: the [policy] section below
# ignore_file = "ignore.toml"     # default: the [ignore] section below
# verify_images = true           # verify the signatures of the images manifests name
vex = []                          # OpenVEX documents

# Exit 1 when a live finding of a surface is at or above its gate.
# `--fail-on` and `--fail-on-SURFACE` on the command line override these.
[audit.fail_on]
build-host = "HIGH"
image = "HIGH"
application = "CRITICAL"
network = "HIGH"

[scan]
# db = "lashing.db"               # default: $LASHING_DB or the cache's database
# scanners = ["vuln", "misconfig", "secret", "malware"]
skip_rules = []
ignore_unfixed = false
trusted_registries = ["registry.example.com", "docker.io"]

# Provenance policy for every image named (see `lashing verify`).
[policy]
allowed_registries = ["registry.example.com", "docker.io"]
allow_latest = false

# Suppressions: each entry needs an id and a reason; expires is optional.
# [[ignore.rules]]
# id = "CVE-2023-32681"
# reason = "not reachable: we never use proxies"
# expires = 2027-01-31

# Record every audit in the results store (not stored unless configured).
# [store]
# path = ".lashing/results.db"    # or: url = "postgresql://lashing@db/lashing"
"""

__all__ = ["EXAMPLE"]
