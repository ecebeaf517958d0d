"""The Python catalogers: installed metadata, requirements files and lockfiles,
and pip itself as the oracle over a real `pip install --target` directory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from lashing.catalog import CATALOGERS, catalog
from lashing.catalog.base import CatalogContext, Cataloger, CatalogError
from lashing.catalog.python import PythonInstalledCataloger, PythonLockfileCataloger
from lashing.fs import tree_from_directory, want_globs
from lashing.model import Location

DATA = Path(__file__).parent / "data" / "lang" / "python"
ROOT = Path(__file__).resolve().parents[2]
PYTARGET = ROOT / "build" / "fixtures" / "pytarget"
CTX = CatalogContext(os=None, layer="sha256:" + "ab" * 32)
INSTALLED = PythonInstalledCataloger()
LOCK = PythonLockfileCataloger()


def pairs(packages: object) -> set[tuple[str, str]]:
    assert isinstance(packages, list)
    return {(p.name, p.version) for p in packages}


def test_registered() -> None:
    names = {c.name for c in CATALOGERS}
    assert {"python-installed", "python-lockfile"} <= names
    assert INSTALLED.tags == ("language", "installed")
    assert LOCK.tags == ("language", "lockfile")


@pytest.mark.parametrize(("path", "wanted"), [
    ("/usr/lib/python3/dist-packages/requests-2.28.1.dist-info/METADATA", True),
    ("/usr/local/lib/python3.11/site-packages/six-1.16.0.egg-info/PKG-INFO", True),
    ("/usr/lib/python3/dist-packages/python_apt-2.6.0.egg-info", True),
    ("/app/requirements.txt", True),
    ("/app/requirements-dev.txt", True),
    ("/app/requirements/base.txt", False),
    ("/srv/poetry.lock", True),
    ("/srv/Pipfile.lock", True),
    ("/srv/uv.lock", True),
    ("/srv/pdm.lock", True),
    ("/usr/lib/python3/dist-packages/requests-2.28.1.dist-info/RECORD", False),
])
def test_globs(path: str, wanted: bool) -> None:
    assert want_globs(*INSTALLED.globs, *LOCK.globs)(path) is wanted


def test_dist_info_metadata() -> None:
    path = "/usr/lib/python3/site-packages/Flask_Login-0.6.3.dist-info/METADATA"
    [pkg] = INSTALLED.parse(path, (DATA / "METADATA").read_bytes(), CTX)
    assert pkg.name == "flask-login"  # PEP 503
    assert pkg.version == "0.6.3"  # not the "Version:" in the description body
    assert pkg.ecosystem == "PyPI"
    assert pkg.purl == "pkg:pypi/flask-login@0.6.3"
    assert pkg.found_by == "python-installed"
    assert pkg.locations == (Location(path=path, layer=CTX.layer),)
    assert pkg.licenses == ("MIT",)  # License-Expression wins over classifiers


def test_egg_info_pkg_info_and_file() -> None:
    [zope] = INSTALLED.parse("/x/zope.deprecation-4.4.0.egg-info/PKG-INFO",
                             (DATA / "PKG-INFO").read_bytes(), CTX)
    assert (zope.name, zope.version, zope.licenses) == ("zope-deprecation", "4.4.0", ("ZPL 2.1",))
    [apt] = INSTALLED.parse("/usr/lib/python3/dist-packages/python_apt-2.6.0.egg-info",
                            (DATA / "single.egg-info").read_bytes(), CTX)
    assert (apt.name, apt.version, apt.purl) == ("python-apt", "2.6.0",
                                                 "pkg:pypi/python-apt@2.6.0")


def test_license_from_classifiers_when_license_is_long() -> None:
    data = (b"Metadata-Version: 2.1\nName: foo\nVersion: 1.0\nLicense: Copyright 2020 Foo\n"
            b"        Permission is hereby granted...\n"
            b"Classifier: License :: OSI Approved :: BSD License\n\nbody\n")
    [pkg] = INSTALLED.parse("/m/foo-1.0.dist-info/METADATA", data, CTX)
    assert pkg.licenses == ("BSD License",)


def test_metadata_without_version_is_an_error() -> None:
    with pytest.raises(CatalogError, match="without Name or Version"):
        INSTALLED.parse("/m/foo.dist-info/METADATA", b"Metadata-Version: 2.1\nName: foo\n", CTX)


def test_huge_metadata_is_refused() -> None:
    small = PythonInstalledCataloger(max_file_bytes=1000)
    data = b"Metadata-Version: 2.1\nName: foo\nVersion: 1.0\n\n" + b"x" * 2000
    with pytest.raises(CatalogError, match="over the limit of 1000"):
        small.parse("/m/foo-1.0.dist-info/METADATA", data, CTX)
    assert pairs(INSTALLED.parse("/m/foo-1.0.dist-info/METADATA", data, CTX)) == {("foo", "1.0")}


def test_requirements_pins_only() -> None:
    found = LOCK.parse("/app/requirements.txt", (DATA / "requirements.txt").read_bytes(), CTX)
    assert pairs(found) == {
        ("django", "4.2.7"), ("django-environ", "0.11.2"), ("requests", "2.31.0"),
        ("urllib3", "2.1.0"), ("certifi", "2023.11.17"), ("pyyaml", "6.0.1"),
        ("jinja2", "3.1.2"), ("typing-extensions", "4.8.0"),
    }
    assert {p.found_by for p in found} == {"python-lockfile"}


def test_poetry_lock() -> None:
    data = (DATA / "poetry.lock").read_bytes()
    everything = {("certifi", "2023.7.22"), ("pygments", "2.16.1"), ("pytest", "7.4.2"),
                  ("flask", "3.0.0")}  # my-lib is a local directory
    assert pairs(LOCK.parse("/src/poetry.lock", data, CTX)) == everything
    no_dev = PythonLockfileCataloger(include_dev=False).parse("/src/poetry.lock", data, CTX)
    assert pairs(no_dev) == {("certifi", "2023.7.22"), ("flask", "3.0.0")}


def test_pipfile_lock() -> None:
    data = (DATA / "Pipfile.lock").read_bytes()
    assert pairs(LOCK.parse("/src/Pipfile.lock", data, CTX)) == {
        ("charset-normalizer", "3.3.2"), ("idna", "3.6"), ("requests", "2.31.0"),
        ("black", "23.11.0")}
    no_dev = PythonLockfileCataloger(include_dev=False).parse("/src/Pipfile.lock", data, CTX)
    assert pairs(no_dev) == {("charset-normalizer", "3.3.2"), ("idna", "3.6"),
                             ("requests", "2.31.0")}


def test_uv_lock_skips_local_projects() -> None:
    found = LOCK.parse("/src/uv.lock", (DATA / "uv.lock").read_bytes(), CTX)
    assert pairs(found) == {("anyio", "4.2.0"), ("idna", "3.6"), ("sniffio", "1.3.0"),
                            ("ruff", "0.1.9"), ("httpx", "0.26.0")}


def test_pdm_lock() -> None:
    data = (DATA / "pdm.lock").read_bytes()
    assert pairs(LOCK.parse("/src/pdm.lock", data, CTX)) == {
        ("blinker", "1.7.0"), ("click", "8.1.7"), ("pytest", "7.4.3")}
    no_dev = PythonLockfileCataloger(include_dev=False).parse("/src/pdm.lock", data, CTX)
    assert pairs(no_dev) == {("blinker", "1.7.0"), ("click", "8.1.7")}


@pytest.mark.parametrize(("name", "data", "message"), [
    ("poetry.lock", b"[[package]\nname = ", "invalid poetry.lock"),
    ("uv.lock", b"version = = 1", "invalid uv.lock"),
    ("Pipfile.lock", b'{"default": {', "invalid Pipfile.lock"),
    ("Pipfile.lock", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ("pdm.lock", b"\xff\xfe", "not UTF-8"),
])
def test_bad_lockfiles(name: str, data: bytes, message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        LOCK.parse(f"/src/{name}", data, CTX)


def test_limits_on_lockfiles() -> None:
    data = (DATA / "uv.lock").read_bytes()
    with pytest.raises(CatalogError, match="more than 2 packages"):
        PythonLockfileCataloger(max_packages=2).parse("/src/uv.lock", data, CTX)
    with pytest.raises(CatalogError, match="over the limit"):
        PythonLockfileCataloger(max_file_bytes=100).parse("/src/uv.lock", data, CTX)


def test_runner_turns_a_bad_file_into_an_issue(tmp_path: Path) -> None:
    site = tmp_path / "usr/lib/python3/site-packages"
    (site / "ok-1.0.dist-info").mkdir(parents=True)
    (site / "ok-1.0.dist-info/METADATA").write_bytes(b"Name: ok\nVersion: 1.0\n")
    (site / "broken.dist-info").mkdir()
    (site / "broken.dist-info/METADATA").write_bytes(b"Name: broken\n")
    (tmp_path / "srv").mkdir()
    (tmp_path / "srv/poetry.lock").write_bytes(b"not = [toml")
    cats: list[Cataloger] = [INSTALLED, LOCK]
    tree = tree_from_directory(tmp_path, want_globs(*INSTALLED.globs, *LOCK.globs))
    with tree:
        packages, issues = catalog(tree, cats, None)
    assert pairs(packages) == {("ok", "1.0")}
    assert sorted((i.plugin, i.location.path) for i in issues) == [
        ("python-installed", "/usr/lib/python3/site-packages/broken.dist-info/METADATA"),
        ("python-lockfile", "/srv/poetry.lock"),
    ]
    assert all(i.stage == "catalog" and "cannot parse" in i.message for i in issues)


def test_pip_install_target_matches_pip_list() -> None:
    """Oracle: `pip list --path DIR` over a real `pip install --target` tree
    (tests/fixtures/build.d/20-python.sh). pip lists the top level of the
    directory; the cataloger also finds distributions vendored deeper down
    (setuptools/_vendor), which are installed code too."""
    if not PYTARGET.is_dir():
        pytest.skip(f"{PYTARGET} missing: run scripts/build-fixtures.sh")
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "list", "--path", str(PYTARGET), "--format", "json",
         "--disable-pip-version-check"], capture_output=True, text=True, check=True).stdout
    expected = {(canonicalize_name(d["name"]), d["version"]) for d in json.loads(listed)}
    tree = tree_from_directory(PYTARGET, want_globs(*INSTALLED.globs))
    with tree:
        packages, issues = catalog(tree, [INSTALLED], None)
    assert issues == []
    top = {(p.name, p.version) for p in packages
           if p.locations[0].path is not None and p.locations[0].path.count("/") == 2}
    assert top == expected
    assert {"requests", "flask", "zope-interface", "typing-extensions", "python-dateutil"} <= {
        name for name, _ in top}
    deeper = [p.locations[0].path or "" for p in packages if (p.name, p.version) not in top]
    assert all("/_vendor/" in path for path in deeper)
