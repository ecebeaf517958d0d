"""Provenance: the image policy, cosign signature discovery and verification.

- `policy`: the `[policy]` section (`load_policy`, `Policy.for_repository`);
- `cosign`: keys, the simple-signing payload, signature checks;
- `signatures`: what a signature manifest proves about one digest;
- `discovery`: fetching signature manifests and payloads from a registry;
- `check`: `check_reference`, the policy rules alone (no network);
- `verify`: `verify_image`, everything for one image (what `lashing verify` runs).

Nothing is imported here, so that `lashing.rules.trust` can import the
policy and signature types without an import cycle.
"""
