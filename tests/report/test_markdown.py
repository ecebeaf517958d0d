"""The Markdown summary for pull-request comments, from real report documents."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_html_documents import HOSTILE, audit_document, hostile, plain_image_document

from lashing.errors import InputError
from lashing.report import markdown

from cli_helpers import run


def _table(text: str, header: str) -> list[list[str]]:
    """The rows of the Markdown table whose header line starts with `header`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


def test_audit_summary_has_surfaces_gates_and_failed_items() -> None:
    doc = audit_document()
    out = markdown.render(doc)
    assert out.startswith("## lashing audit: **gate failed**")
    assert "config `ci/lashing.toml`" in out and "stored as run 12" in out
    surfaces = {r[0]: r for r in _table(out, "| surface |")}
    assert list(surfaces) == ["build-host", "image", "application", "network"]
    for name, entry in doc["audit"]["surfaces"].items():
        row = surfaces[name]
        assert [int(c) for c in row[1:6]] == list(entry["counts"].values())
        assert ("FAIL" in row[7]) == (entry["gate"] == "fail")
    assert "pass (fail on CRITICAL)" in surfaces["image"][7]
    assert "### Failed items (1)" in out
    assert "image image `registry.example.com/shop/cart:2.0`: registry.example.com: " \
           "connection refused" in out


def test_top_findings_are_the_worst_and_the_rest_is_counted() -> None:
    doc = audit_document()
    live = [f for f in doc["findings"] if "suppressed" not in f]
    out = markdown.render(doc, limit=5)
    rows = _table(out, "| severity |")
    assert len(rows) == 5
    ranks = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"]
    shown = [ranks.index(r[0]) for r in rows]
    assert shown == sorted(shown)
    assert shown[0] == min(ranks.index(f["severity"]) for f in live)
    assert f"### Top findings (5 of {len(live)})" in out
    rest = re.search(r"…and (\d+) more \(([^)]*)\)", out)
    assert rest is not None and int(rest.group(1)) == len(live) - 5
    counts = [p.split(" ") for p in rest.group(2).split(", ")]
    assert sum(int(n) for n, _ in counts) == len(live) - 5
    assert [s for _, s in counts] == sorted((s for _, s in counts), key=ranks.index)


def test_default_limit_is_twenty() -> None:
    out = markdown.render(audit_document())
    assert len(_table(out, "| severity |")) == markdown.TOP_FINDINGS == 20


def test_plain_scan_report_derives_counts_and_has_no_gate() -> None:
    doc = plain_image_document()
    out = markdown.render(doc)
    assert out.startswith("## lashing report\n")
    rows = {r[0]: r for r in _table(out, "| surface |")}
    image = [f for f in doc["findings"] if f["surface"] == "image"]
    assert sum(int(c) for c in rows["image"][1:6]) == len(image) > 0
    assert rows["network"][1:6] == ["0"] * 5
    assert all(r[7] == "–" for r in rows.values())
    assert "Failed items" not in out
    assert "### Not fully covered" in out  # the Debian packages the demo database lacks


def test_suppressed_findings_are_counted_apart_not_listed() -> None:
    doc = plain_image_document()
    target = doc["findings"][0]
    target["suppressed"] = {"kind": "ignore-file", "reason": "accepted until the rebuild"}
    out = markdown.render(doc)
    assert "1 suppressed" in out
    assert all(target["message"] not in r[5] for r in _table(out, "| severity |"))
    surface_row = {r[0]: r for r in _table(out, "| surface |")}[target["surface"]]
    assert surface_row[6] == "1"


def test_no_findings() -> None:
    doc = plain_image_document()
    doc["findings"] = []
    assert "No findings." in markdown.render(doc)


def test_document_text_cannot_inject_markup_or_mentions() -> None:
    doc = hostile(audit_document())
    doc["findings"][0]["message"] = "a | b\n## heading @octocat [x](javascript:alert(1)) " + HOSTILE
    out = markdown.render(doc)
    assert "<script>" not in out and "<img" not in out
    assert "&lt;script&gt;" in out
    assert "\n## heading" not in out
    assert "@octocat" not in out and "@\u200boctocat" in out
    assert "\\[x\\]" in out
    assert all(len(r) == 6 for r in _table(out, "| severity |"))  # the pipe stayed in its cell


@pytest.mark.parametrize("mutate, problem", [
    (lambda d: d.update(findings="nope"), "findings: expected a list of objects"),
    (lambda d: d["findings"][0].update(severity="SEVERE"), "findings[0].severity"),
    (lambda d: d["findings"][0].update(surface=None), "findings[0].surface"),
    (lambda d: d["findings"][0].update(location=[]), "findings[0].location"),
    (lambda d: d.update(audit=[]), "audit: expected an object"),
    (lambda d: d["audit"].update(surfaces={"image": 3}), "audit.surfaces"),
    (lambda d: d.update(tool="lashing"), "tool: expected an object"),
])
def test_malformed_documents_are_refused(mutate: object, problem: str) -> None:
    doc = audit_document()
    assert callable(mutate)
    mutate(doc)
    with pytest.raises(InputError, match=re.escape(problem)) as info:
        markdown.render(doc)
    assert "\n" not in info.value.message
    assert info.value.message.startswith("report document: ")


def test_non_object_document_is_refused() -> None:
    with pytest.raises(InputError, match="top level"):
        markdown.render([])  # type: ignore[arg-type]


def test_scan_writes_markdown(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM python:latest\nUSER root\n")
    result = run("scan", str(tmp_path / "Dockerfile"), "--format", "markdown", "--no-progress")
    assert result.code == 0, result.err
    assert result.out.startswith("## lashing report\n")
    assert any(r[1] == "`LSH-DF-020`" for r in _table(result.out, "| severity |"))
