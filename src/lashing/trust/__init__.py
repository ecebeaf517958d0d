"""Provenance: the image policy, signature discovery and verification.

- `policy`: the `[policy]` section (`load_policy`, `Policy.for_repository`);
- `cosign`: keys, the simple-signing payload, signature checks;
- `signatures`: what a signature manifest proves about one digest;
- `discovery`: fetching signature manifests and payloads from a registry;
- `referrers`: OCI 1.1 referrers (the API, or the referrers tag schema);
- `bundle`, `sigstore`: Sigstore bundles and keyless verification, offline;
- `identity`, `trusted_root`, `fulcio`, `rekor`: keyless identities, the pinned
  trust material, Fulcio certificates and Rekor entries;
- `images`: `--verify-images`, the signatures of the images manifests name;
- `check`: `check_reference`, the policy rules alone (no network);
- `verify`: `verify_image`, everything for one image (what `lashing verify` runs).

Nothing is imported here, so that `lashing.rules.trust` can import the
policy and signature types without an import cycle.
"""
