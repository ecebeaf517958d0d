"""The npm catalogers: installed package.json files and the npm, yarn and pnpm
lockfiles, with `npm ls --all --json` as the oracle over a real install."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from lashing.catalog import CATALOGERS, catalog
from lashing.catalog._pnpm import _read_layout, _read_yaml
from lashing.catalog.base import CatalogContext, CatalogError
from lashing.catalog.npm import NpmInstalledCataloger, NpmLockfileCataloger, is_installed_manifest
from lashing.fs import tree_from_directory, want_globs
from lashing.model import Location, Package

DATA = Path(__file__).parent / "data" / "lang" / "npm"
ROOT = Path(__file__).resolve().parents[2]
NPMPROJ = ROOT / "build" / "fixtures" / "npmproj"
CTX = CatalogContext(os=None, layer="sha256:" + "cd" * 32)
INSTALLED = NpmInstalledCataloger()
LOCK = NpmLockfileCataloger()
NO_DEV = NpmLockfileCataloger(include_dev=False)


def pairs(packages: list[Package]) -> set[tuple[str, str]]:
    return {(p.name, p.version) for p in packages}


def lock(name: str, fixture: str, cataloger: NpmLockfileCataloger = LOCK) -> list[Package]:
    return cataloger.parse(f"/app/{name}", (DATA / fixture).read_bytes(), CTX)


def test_registered() -> None:
    assert {"npm-installed", "npm-lockfile"} <= {c.name for c in CATALOGERS}


@pytest.mark.parametrize(("path", "installed"), [
    ("/app/node_modules/express/package.json", True),
    ("/app/node_modules/@types/node/package.json", True),
    ("/app/node_modules/a/node_modules/b/package.json", True),
    ("/app/node_modules/.pnpm/ms@2.1.3/node_modules/ms/package.json", True),
    ("/app/node_modules/@types/package.json", False),
    ("/app/node_modules/express/lib/package.json", False),
    ("/app/node_modules/express/test/fixtures/package.json", False),
    ("/app/package.json", False),
    ("/app/node_modules/.bin/package.json", False),
])
def test_installed_manifest_paths(path: str, installed: bool) -> None:
    assert is_installed_manifest(path) is installed
    if installed:
        assert want_globs(*INSTALLED.globs)(path)


def test_installed_scoped_package() -> None:
    data = json.dumps({"name": "@types/node", "version": "20.10.5", "license": "MIT"}).encode()
    path = "/app/node_modules/@types/node/package.json"
    [pkg] = INSTALLED.parse(path, data, CTX)
    assert (pkg.name, pkg.version, pkg.ecosystem) == ("@types/node", "20.10.5", "npm")
    assert pkg.purl == "pkg:npm/%40types/node@20.10.5"
    assert pkg.found_by == "npm-installed"
    assert pkg.licenses == ("MIT",)
    assert pkg.locations == (Location(path=path, layer=CTX.layer),)


@pytest.mark.parametrize(("manifest", "licenses"), [
    ({"license": {"type": "ISC", "url": "https://opensource.org/licenses/ISC"}}, ("ISC",)),
    ({"licenses": [{"type": "MIT"}, {"type": "Apache-2.0"}]}, ("MIT", "Apache-2.0")),
    ({"license": "(MIT OR Apache-2.0)"}, ("(MIT OR Apache-2.0)",)),
    ({}, ()),
])
def test_installed_licenses(manifest: dict[str, Any], licenses: tuple[str, ...]) -> None:
    data = json.dumps({"name": "x", "version": "1.0.0", **manifest}).encode()
    [pkg] = INSTALLED.parse("/node_modules/x/package.json", data, CTX)
    assert pkg.licenses == licenses


def test_installed_without_version_or_elsewhere_is_skipped() -> None:
    assert INSTALLED.parse("/node_modules/x/package.json", b'{"name": "x"}', CTX) == []
    good = b'{"name": "x", "version": "1.0.0"}'
    assert INSTALLED.parse("/src/x/package.json", good, CTX) == []


def test_package_lock_v1() -> None:
    everything = {("@babel/runtime", "7.23.6"), ("debug", "2.6.9"), ("ms", "2.0.0"),
                  ("ms", "2.1.3"), ("regenerator-runtime", "0.14.1"), ("lodash", "3.10.1")}
    assert pairs(lock("package-lock.json", "package-lock-v1.json")) == everything
    assert pairs(lock("package-lock.json", "package-lock-v1.json", NO_DEV)) == everything - {
        ("debug", "2.6.9"), ("ms", "2.0.0")}


def test_package_lock_v1_depth_limit() -> None:
    deep: dict[str, Any] = {"version": "1.0.0"}
    for _ in range(20):
        deep = {"version": "1.0.0", "dependencies": {"a": deep}}
    data = json.dumps({"lockfileVersion": 1, "dependencies": {"a": deep}}).encode()
    assert pairs(LOCK.parse("/package-lock.json", data, CTX)) == {("a", "1.0.0")}
    with pytest.raises(CatalogError, match="nested deeper than 5"):
        NpmLockfileCataloger(max_depth=5).parse("/package-lock.json", data, CTX)


def test_package_lock_v3_links_workspaces_and_aliases() -> None:
    doc = {"lockfileVersion": 3, "packages": {
        "": {"name": "root", "version": "1.0.0"},
        "packages/web": {"name": "web", "version": "0.1.0"},
        "node_modules/web": {"resolved": "packages/web", "link": True},
        "node_modules/@scope/a": {"version": "2.0.0", "dev": True},
        "node_modules/@scope/a/node_modules/b": {"version": "3.0.0"},
        "node_modules/old": {"name": "lodash", "version": "3.10.1"},
        "node_modules/gitdep": {"version": "0.5.0", "resolved": "git+ssh://git@github.com/x/y"},
    }}
    found = LOCK.parse("/npm-shrinkwrap.json", json.dumps(doc).encode(), CTX)
    assert pairs(found) == {("@scope/a", "2.0.0"), ("b", "3.0.0"), ("lodash", "3.10.1"),
                            ("gitdep", "0.5.0")}
    assert [p.purl for p in found if p.name == "@scope/a"] == ["pkg:npm/%40scope/a@2.0.0"]


def test_yarn_classic() -> None:
    assert pairs(lock("yarn.lock", "yarn-v1.lock")) == {
        ("@babel/code-frame", "7.22.13"), ("chalk", "2.4.2"), ("ansi-styles", "3.2.1"),
        ("lodash", "4.17.21"), ("string-width", "4.2.3"), ("left-pad", "1.3.0")}


def test_yarn_berry() -> None:
    found = lock("yarn.lock", "yarn-berry.lock")
    assert pairs(found) == {("@types/node", "20.10.5"), ("undici-types", "5.26.5"),
                            ("resolve", "1.22.8"), ("strip-ansi", "6.0.1")}
    assert len(found) == 4  # the patched resolve once


def test_pnpm_v5() -> None:
    everything = {("@babel/core", "7.23.6"), ("js-tokens", "4.0.0"), ("loose-envify", "1.4.0"),
                  ("react", "18.2.0"), ("styled-jsx", "5.1.1"), ("typescript", "5.3.3"),
                  ("user-lib", "2.0.1")}
    assert pairs(lock("pnpm-lock.yaml", "pnpm-v5.yaml")) == everything
    assert pairs(lock("pnpm-lock.yaml", "pnpm-v5.yaml", NO_DEV)) == everything - {
        ("@babel/core", "7.23.6"), ("typescript", "5.3.3")}


def test_pnpm_v6() -> None:
    everything = {("@next/env", "13.4.0"), ("@swc/helpers", "0.5.1"), ("next", "13.4.0"),
                  ("react", "18.2.0"), ("tslib", "2.6.2"), ("vitest", "1.1.0")}
    assert pairs(lock("pnpm-lock.yaml", "pnpm-v6.yaml")) == everything
    assert pairs(lock("pnpm-lock.yaml", "pnpm-v6.yaml", NO_DEV)) == everything - {
        ("vitest", "1.1.0")}


def test_pnpm_v9() -> None:
    assert pairs(lock("pnpm-lock.yaml", "pnpm-v9.yaml")) == {
        ("@other/peer", "2.0.0"), ("@scope/pkg", "1.0.0"), ("acorn-jsx", "5.3.2"),
        ("acorn", "8.11.3"), ("tarball-dep", "3.1.4")}


@pytest.mark.parametrize("fixture", ["pnpm-v5.yaml", "pnpm-v6.yaml", "pnpm-v9.yaml"])
def test_pnpm_layout_reader_agrees_with_yaml(fixture: str) -> None:
    """pnpm's own layout is read line by line; ruamel reads it the same."""
    data = (DATA / fixture).read_bytes()
    assert _read_layout(data.decode()) == _read_yaml(data, 1 << 20)


def test_pnpm_other_layouts_go_through_yaml() -> None:
    text = (DATA / "pnpm-v9.yaml").read_text()
    reindented = "\n".join(line.replace("  ", "    ") for line in text.splitlines())
    assert _read_layout(reindented) is None
    assert pairs(LOCK.parse("/pnpm-lock.yaml", reindented.encode(), CTX)) == pairs(
        lock("pnpm-lock.yaml", "pnpm-v9.yaml"))
    flow = "lockfileVersion: '9.0'\npackages: {'a@1.0.0': {}, 'b@2.0.0': {version: 2.0.1}}\n"
    assert pairs(LOCK.parse("/pnpm-lock.yaml", flow.encode(), CTX)) == {
        ("a", "1.0.0"), ("b", "2.0.1")}


def test_pnpm_git_keys_and_quoting() -> None:
    text = ("lockfileVersion: '9.0'  # written by pnpm\n\npackages:\n\n"
            "  mylib@git+https://github.com/u/mylib.git#0a1b2c:\n"
            "    resolution: {commit: 0a1b2c, repo: https://github.com/u/mylib.git, type: git}\n"
            "    version: 1.4.0 # from package.json\n\n"
            "  \"@s/q@1.0.0\":\n    resolution: {integrity: x}\n\n"
            "  'it''s@2.0.0': {}\n")
    assert _read_layout(text) is not None
    assert pairs(LOCK.parse("/pnpm-lock.yaml", text.encode(), CTX)) == {
        ("mylib", "1.4.0"), ("@s/q", "1.0.0"), ("it's", "2.0.0")}


def test_large_pnpm_lock_is_fast() -> None:
    entries = "".join(f"\n  pkg-{i}@1.{i}.0:\n    resolution: {{integrity: sha512-{'A' * 86}==}}\n"
                      f"    engines: {{node: '>=14'}}\n" for i in range(5000))
    data = f"lockfileVersion: '9.0'\n\npackages:\n{entries}".encode()
    start = time.monotonic()
    assert len(LOCK.parse("/pnpm-lock.yaml", data, CTX)) == 5000
    assert time.monotonic() - start < 5


@pytest.mark.parametrize(("name", "data", "message"), [
    ("package-lock.json", b'{"lockfileVersion": 3, "packages": {', "invalid package-lock.json"),
    ("package-lock.json", b"\xff\xfe{}", "not UTF-8"),
    ("pnpm-lock.yaml", b"lockfileVersion: '6.0'\npackages: [unclosed\n", "invalid pnpm-lock.yaml"),
    ("pnpm-lock.yaml", b"lockfileVersion: 'next'\n", "unknown lockfileVersion"),
    ("pnpm-lock.yaml", b"a: " + b"[" * 100_000 + b"]" * 100_000, "nested deeper than 64"),
    ("pnpm-lock.yaml", b"".join(b" " * i + b"k:\n" for i in range(600)), "nested too deeply"),
])
def test_bad_lockfiles(name: str, data: bytes, message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        LOCK.parse(f"/app/{name}", data, CTX)


def test_lockfile_size_limit() -> None:
    with pytest.raises(CatalogError, match="over the limit"):
        NpmLockfileCataloger(max_file_bytes=64).parse(
            "/app/yarn.lock", (DATA / "yarn-v1.lock").read_bytes(), CTX)


def test_runner_turns_a_bad_lockfile_into_an_issue(tmp_path: Path) -> None:
    (tmp_path / "app/node_modules/ok").mkdir(parents=True)
    (tmp_path / "app/node_modules/ok/package.json").write_text(
        '{"name": "ok", "version": "1.2.3"}')
    (tmp_path / "app/package-lock.json").write_text("{oops")
    tree = tree_from_directory(tmp_path, want_globs(*INSTALLED.globs, *LOCK.globs))
    with tree:
        packages, issues = catalog(tree, [INSTALLED, LOCK], None)
    assert pairs(packages) == {("ok", "1.2.3")}
    assert [(i.plugin, i.location.path) for i in issues] == [
        ("npm-lockfile", "/app/package-lock.json")]


# -- oracle: npm itself --------------------------------------------------------

def npm_ls() -> set[tuple[str, str]]:
    """Every (name, version) of `npm ls --all --json`, recorded by
    tests/fixtures/build.d/21-npm.sh."""
    if not (NPMPROJ / "npm-ls.json").is_file():
        pytest.skip(f"{NPMPROJ} missing: run scripts/build-fixtures.sh")
    found: set[tuple[str, str]] = set()
    stack = [json.loads((NPMPROJ / "npm-ls.json").read_text())]
    while stack:
        node = stack.pop()
        for name, dep in node.get("dependencies", {}).items():
            if "version" in dep:
                found.add((name, dep["version"]))
            stack.append(dep)
    return found


def run(directory: Path, cataloger: NpmInstalledCataloger | NpmLockfileCataloger
        ) -> list[Package]:
    tree = tree_from_directory(directory, want_globs(*cataloger.globs))
    with tree:
        packages, issues = catalog(tree, [cataloger], None)
    assert issues == []
    return packages


def test_installed_tree_matches_npm_ls() -> None:
    expected = npm_ls()
    assert {("express", "4.18.2"), ("lodash", "4.17.21"), ("@types/node", "20.10.5"),
            ("typescript", "5.3.3")} <= expected
    assert pairs(run(NPMPROJ / "app", INSTALLED)) == expected


@pytest.mark.parametrize("directory", ["app", "lock-v2", "lock-v1"])
def test_package_lock_matches_npm_ls(directory: str) -> None:
    """The same lock as npm writes it in versions 3 (app), 2 and 1."""
    expected = npm_ls()
    lockfile = json.loads((NPMPROJ / directory / "package-lock.json").read_text())
    assert lockfile["lockfileVersion"] == {"app": 3, "lock-v2": 2, "lock-v1": 1}[directory]
    assert pairs(run(NPMPROJ / directory, LOCK)) == expected
