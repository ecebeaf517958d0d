"""lashing verify IMAGE...: signatures (cosign, Sigstore keyless) and the provenance policy."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from lashing.cache import BlobCache
from lashing.commands.common import (
    add_format,
    add_source_arguments,
    output_format,
    parse_size,
    source_options,
    write_output,
)
from lashing.commands.scan import render
from lashing.errors import EXIT_GATE, EXIT_OK, InputError, LashingError
from lashing.model import Report
from lashing.source.reference import parse_reference
from lashing.source.registry import make_http_client
from lashing.trust.cosign import TrustedKey
from lashing.trust.policy import MODES, Policy, load_policy, policy_with_keys
from lashing.trust.signatures import DEFAULT_MAX_PAYLOAD_BYTES
from lashing.trust.verify import ImageVerification, VerifyOptions, verify_image

if TYPE_CHECKING:
    from lashing.cli import Context

NAME = "verify"
HELP = "verify image signatures (cosign, Sigstore keyless) and the provenance policy"
DESCRIPTION = """\
Verify that images are signed with a trusted key or, keyless, by a trusted
Sigstore identity (checked offline against the policy's trusted_root.json),
and that they satisfy the provenance policy: allowed registries and
repositories, pinned digests, the latest tag, maximum age. Signatures are
looked for in cosign's sha256-<digest>.sig tag and among the digest's OCI 1.1
referrers (Sigstore bundles, cosign signatures). Exit 0 only when every image
is verified, 1 when any is not.

examples:
  lashing verify --key cosign.pub registry.example.com/team/app:1.4
  lashing verify --policy lashing.toml registry.example.com/team/app@sha256:...
  lashing verify --policy policy.toml --format sarif -o trust.sarif IMAGE...
"""

FORMATS = ("table", "json", "sarif")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image references")
    add_format(parser, FORMATS, "table")
    trust = parser.add_argument_group("trust")
    trust.add_argument("--policy", metavar="FILE",
                       help="TOML file with a [policy] section (lashing.toml or standalone)")
    trust.add_argument("--key", action="append", default=[], metavar="FILE",
                       help="trusted public key (PEM; ECDSA, RSA, Ed25519) for every image, "
                            "instead of the policy's keys (repeatable)")
    trust.add_argument("--mode", choices=MODES,
                       help="enforce (default): a bad signature fails; warn: report only")
    trust.add_argument("--signature-repository", metavar="REPO",
                       help="where signatures are stored (like COSIGN_REPOSITORY)")
    trust.add_argument("--max-signature-payload", metavar="SIZE", default="64KiB",
                       help="refuse larger signature payloads (default 64KiB)")
    trust.add_argument("--skip-rules", metavar="IDS", default="",
                       help="LSH-TRUST rule ids not to evaluate (e.g. LSH-TRUST-011)")
    add_source_arguments(parser)


def _policy(args: argparse.Namespace) -> Policy:
    policy = load_policy(Path(args.policy)) if args.policy else Policy()
    keys = [Path(k) for k in args.key]
    for k in keys:
        if not k.is_file():
            raise InputError(f"--key {k}: no such file")
    if keys or args.mode:
        policy = policy_with_keys(policy, keys, args.mode)
    return policy


def _signature_repository(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return parse_reference(text).repository_name
    except InputError as exc:
        raise InputError(f"--signature-repository: {exc.message}") from None


def _table_header(results: list[ImageVerification]) -> str:
    lines = ["verification:"]
    for r in results:
        lines.append(f"  {r.status.value.upper():<20} {r.reference}")
        lines.append(f"  {'':<20} {r.summary()}")
    return "\n".join(lines) + "\n\n"


def run(args: argparse.Namespace, ctx: Context) -> int:
    fmt = output_format(args)
    policy = _policy(args)
    source = source_options(args)
    options = VerifyOptions(
        source=source,
        signature_repository=_signature_repository(args.signature_repository),
        max_payload_bytes=parse_size(args.max_signature_payload, "--max-signature-payload")
        or DEFAULT_MAX_PAYLOAD_BYTES,
        skip_rules=frozenset(s.strip() for s in args.skip_rules.split(",") if s.strip()),
    )
    if not args.policy and not args.key:
        raise InputError("verify: no --key and no --policy: nothing to verify the images against",
                         "pass --key cosign.pub, or --policy FILE with a [policy] section")
    http = make_http_client(source)
    cache = BlobCache(source.cache_dir, source.cache_max_bytes)
    keys: dict[str, TrustedKey] = {}
    results: list[ImageVerification] = []
    failures: list[LashingError] = []
    with http:
        for text in args.images:
            try:
                results.append(verify_image(text, policy, options, http, cache, keys))
            except LashingError as exc:
                exc.message = exc.message if text in exc.message else f"{text}: {exc.message}"
                failures.append(exc)
    report = Report()
    for r in results:
        report = report.merge(Report(targets=(r.target,), findings=r.findings, checks=r.checks))
    text = render(report, fmt)
    if fmt == "table":
        text = _table_header(results) + text
    write_output(text, args.output, ctx.stdout)
    for failure in failures:
        print(failure.diagnostics(), file=ctx.stderr)
    if not args.quiet and fmt != "table":
        for r in results:
            print(f"{r.status.value}: {r.reference}: {r.summary()}", file=ctx.stderr)
    code = EXIT_OK if all(r.ok for r in results) else EXIT_GATE
    return max([code, *(f.exit_code for f in failures)])
