"""The .NET catalogers: deps.json and packages.lock.json."""

from __future__ import annotations

from pathlib import Path

import pytest

from lashing.catalog import CATALOGERS, catalog
from lashing.catalog.base import CatalogContext, CatalogError
from lashing.catalog.dotnet import DotnetDepsCataloger, DotnetLockfileCataloger
from lashing.fs import tree_from_directory, want_globs
from lashing.model import Location, Package

DATA = Path(__file__).parent / "data" / "lang" / "dotnet"
CTX = CatalogContext(os=None, layer="sha256:" + "9a" * 32)
DEPS = DotnetDepsCataloger()
LOCK = DotnetLockfileCataloger()


def pairs(packages: list[Package]) -> set[tuple[str, str]]:
    return {(p.name, p.version) for p in packages}


def test_registered() -> None:
    assert {"dotnet-deps", "dotnet-lockfile"} <= {c.name for c in CATALOGERS}
    assert DEPS.tags == ("language", "installed")
    assert LOCK.tags == ("language", "lockfile")


@pytest.mark.parametrize(("path", "wanted"), [
    ("/app/WebApp.deps.json", True), ("/src/packages.lock.json", True),
    ("/app/WebApp.runtimeconfig.json", False), ("/app/deps.json.bak", False),
])
def test_globs(path: str, wanted: bool) -> None:
    assert want_globs(*DEPS.globs, *LOCK.globs)(path) is wanted


def test_deps_json() -> None:
    found = DEPS.parse("/app/WebApp.deps.json", (DATA / "WebApp.deps.json").read_bytes(), CTX)
    assert pairs(found) == {("Newtonsoft.Json", "13.0.1"), ("Serilog.AspNetCore", "8.0.0"),
                            ("Serilog", "3.1.1")}  # not the projects nor the framework reference
    newtonsoft = next(p for p in found if p.name == "Newtonsoft.Json")
    assert (newtonsoft.purl, newtonsoft.ecosystem, newtonsoft.found_by) == (
        "pkg:nuget/Newtonsoft.Json@13.0.1", "NuGet", "dotnet-deps")
    assert newtonsoft.locations == (Location(path="/app/WebApp.deps.json", layer=CTX.layer),)


def test_packages_lock_json() -> None:
    found = LOCK.parse("/src/packages.lock.json", (DATA / "packages.lock.json").read_bytes(), CTX)
    assert pairs(found) == {("Newtonsoft.Json", "13.0.3"), ("System.Text.Json", "6.0.0"),
                            ("System.Text.Json", "8.0.0")}  # not the Project reference
    assert len(found) == 3  # Newtonsoft.Json locked for two frameworks, reported once
    assert {p.found_by for p in found} == {"dotnet-lockfile"}


@pytest.mark.parametrize(("name", "data", "message"), [
    ("x.deps.json", b'{"libraries": {', "invalid deps.json"),
    ("x.deps.json", b"[]", "not a JSON object"),
    ("packages.lock.json", b'{"version": 1}', "without `dependencies`"),
    ("packages.lock.json", b"{" * 3, "invalid packages.lock.json"),
])
def test_bad_files(name: str, data: bytes, message: str) -> None:
    cataloger = DEPS if name.endswith("deps.json") else LOCK
    with pytest.raises(CatalogError, match=message):
        cataloger.parse(f"/app/{name}", data, CTX)


def test_limits() -> None:
    data = (DATA / "WebApp.deps.json").read_bytes()
    with pytest.raises(CatalogError, match="more than 1 packages"):
        DotnetDepsCataloger(max_packages=1).parse("/app/WebApp.deps.json", data, CTX)
    with pytest.raises(CatalogError, match="over the limit"):
        DotnetDepsCataloger(max_file_bytes=10).parse("/app/WebApp.deps.json", data, CTX)


def test_runner_turns_a_bad_file_into_an_issue(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app/WebApp.deps.json").write_bytes((DATA / "WebApp.deps.json").read_bytes())
    (tmp_path / "app/Broken.deps.json").write_text("not json")
    tree = tree_from_directory(tmp_path, want_globs(*DEPS.globs))
    with tree:
        packages, issues = catalog(tree, [DEPS], None)
    assert len(packages) == 3
    assert [(i.plugin, i.location.path) for i in issues] == [
        ("dotnet-deps", "/app/Broken.deps.json")]
