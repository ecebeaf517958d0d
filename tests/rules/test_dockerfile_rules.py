"""scan_dockerfile end to end: findings, checks, locations, suppression, config."""

from __future__ import annotations

from lashing.model import CheckStatus, SuppressionKind
from lashing.rules.dockerfile import RULES, scan_dockerfile
from lashing.rules.framework import RuleConfig

BAD = """\
# syntax=docker/dockerfile:1
ARG VERSION=latest
FROM alpine:${VERSION} AS base
RUN apk update && apk add curl \\
 && curl -fsSL https://get.example.com | sh
FROM base
ENV DB_PASSWORD=hunter2
# lashing:ignore=LSH-DF-030 the vendor installer requires sudo
RUN sudo ./install.sh
# lashing:ignore=LSH-DF-031
RUN cd /opt && make
EXPOSE 22
USER root
"""


def by_rule(text: str, **kw: object) -> dict[str, list[int | None]]:
    findings, _ = scan_dockerfile("app/Dockerfile", text, **kw)  # type: ignore[arg-type]
    out: dict[str, list[int | None]] = {}
    for f in findings:
        out.setdefault(f.rule_id, []).append(f.location.line)
    return out


def test_findings_and_lines() -> None:
    got = by_rule(BAD)
    assert got["LSH-DF-001"] == [3]  # latest through ARG
    assert got["LSH-DF-032"] == [4]  # curl | sh after &&
    assert got["LSH-DF-055"] == [4] and got["LSH-DF-056"] == [4]
    assert got["LSH-DF-023"] == [7]
    assert got["LSH-DF-013"] == [12]
    assert got["LSH-DF-020"] == [13]
    assert got["LSH-DF-022"] == [6]  # no HEALTHCHECK: reported at the final FROM
    assert "LSH-DF-021" not in got


def test_every_rule_gets_a_check() -> None:
    findings, checks = scan_dockerfile("Dockerfile", BAD)
    assert sorted(c.rule_id for c in checks) == sorted(r.id for r in RULES)
    status = {c.rule_id: c.status for c in checks}
    assert status["LSH-DF-002"] is CheckStatus.NOT_APPLICABLE  # no trusted registries
    assert status["LSH-DF-050"] is CheckStatus.NOT_APPLICABLE  # no apt-get
    assert status["LSH-DF-020"] is CheckStatus.FAIL
    assert status["LSH-DF-011"] is CheckStatus.PASS
    assert all(f.target == "Dockerfile" and f.location.path == "Dockerfile" for f in findings)


def test_secret_values_are_redacted() -> None:
    findings, _ = scan_dockerfile("Dockerfile", BAD)
    assert not any("hunter2" in f.message for f in findings)


def test_inline_ignore_needs_a_reason() -> None:
    findings, checks = scan_dockerfile("Dockerfile", BAD)
    sudo = [f for f in findings if f.rule_id == "LSH-DF-030"]
    assert len(sudo) == 1 and sudo[0].suppression is not None
    assert sudo[0].suppression.kind is SuppressionKind.INLINE
    assert sudo[0].suppression.reason == "the vendor installer requires sudo"
    cd = [f for f in findings if f.rule_id == "LSH-DF-031"]
    assert cd and cd[0].suppression is None  # no reason: not applied...
    bad_ignore = [f for f in findings if f.rule_id == "LSH-DF-008"]
    assert [f.location.line for f in bad_ignore] == [10]  # ...and reported
    assert {c.rule_id: c.status for c in checks}["LSH-DF-030"] is CheckStatus.PASS


def test_ignore_by_alias() -> None:
    text = "FROM alpine:3.20\n# lashing:ignore=hadolint:DL3004 documented exception\nRUN sudo ls\n"
    findings, _ = scan_dockerfile("Dockerfile", text)
    sudo = [f for f in findings if f.rule_id == "LSH-DF-030"]
    assert sudo[0].suppression is not None


def test_skip_rules() -> None:
    skip = {"LSH-DF-001", "checkov:CKV_DOCKER_8"}
    findings, checks = scan_dockerfile("Dockerfile", BAD, skip=skip)
    assert not {"LSH-DF-001", "LSH-DF-020"} & {f.rule_id for f in findings}
    skipped = {c.rule_id for c in checks if c.reason == "skipped"}
    assert skipped == {"LSH-DF-001", "LSH-DF-020"}


def test_trusted_registries() -> None:
    text = "FROM registry.example.com/base:1 AS b\nFROM docker.io/library/alpine:3.20\n"
    config = RuleConfig(trusted_registries=("registry.example.com", "*.corp.example"))
    got = by_rule(text, config=config)
    assert got["LSH-DF-002"] == [2]


def test_hidden_commands_are_seen() -> None:
    text = ("FROM debian:12\n"
            "RUN set -eux; \\\n"
            "    if true; then sh -c 'apt-get install -y vim'; fi; \\\n"
            "    echo $(wget --no-check-certificate -qO- https://x)\n"
            "RUN <<EOF\napt-get update\nchmod 777 /srv\nEOF\n")
    got = by_rule(text)
    assert got["LSH-DF-050"] == [2]  # apt-get inside sh -c inside if
    assert got["LSH-DF-039"] == [2]  # wget inside $(...)
    assert got["LSH-DF-033"] == [5]  # heredoc body
    assert got["LSH-DF-042"] == [5]  # update alone in the heredoc


def test_powershell_runs_are_not_read_as_sh() -> None:
    text = ('# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\n'
            'SHELL ["powershell", "-Command"]\nRUN Invoke-WebRequest -Uri x | sudo x\n')
    assert "LSH-DF-030" not in by_rule(text)
