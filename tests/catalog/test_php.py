"""The PHP catalogers: composer.lock and vendor/composer/installed.json."""

from __future__ import annotations

from pathlib import Path

import pytest

from lashing.catalog import CATALOGERS, catalog
from lashing.catalog.base import CatalogContext, Cataloger, CatalogError
from lashing.catalog.php import PhpInstalledCataloger, PhpLockfileCataloger
from lashing.fs import tree_from_directory, want_globs
from lashing.model import Location, Package

DATA = Path(__file__).parent / "data" / "lang" / "php"
CTX = CatalogContext(os=None, layer="sha256:" + "78" * 32)
INSTALLED = PhpInstalledCataloger()
LOCK = PhpLockfileCataloger()
INSTALLED_JSON = "/var/www/vendor/composer/installed.json"


def pairs(packages: list[Package]) -> set[tuple[str, str]]:
    return {(p.name, p.version) for p in packages}


def test_registered() -> None:
    assert {"php-installed", "php-lockfile"} <= {c.name for c in CATALOGERS}


@pytest.mark.parametrize(("path", "wanted"), [
    (INSTALLED_JSON, True), ("/var/www/composer.lock", True),
    ("/var/www/vendor/other/installed.json", False), ("/var/www/composer.json", False),
])
def test_globs(path: str, wanted: bool) -> None:
    assert want_globs(*INSTALLED.globs, *LOCK.globs)(path) is wanted


def test_composer_lock() -> None:
    data = (DATA / "composer.lock").read_bytes()
    found = LOCK.parse("/var/www/composer.lock", data, CTX)
    everything = {("guzzlehttp/guzzle", "7.8.1"), ("guzzlehttp/promises", "2.0.2"),
                  ("symfony/console", "v6.4.1"), ("monolog/monolog", "dev-main"),
                  ("phpunit/phpunit", "10.5.3")}
    assert pairs(found) == everything
    guzzle = next(p for p in found if p.name == "guzzlehttp/guzzle")
    assert (guzzle.purl, guzzle.ecosystem, guzzle.found_by, guzzle.licenses) == (
        "pkg:composer/guzzlehttp/guzzle@7.8.1", "Packagist", "php-lockfile", ("MIT",))
    assert guzzle.locations == (Location(path="/var/www/composer.lock", layer=CTX.layer),)
    no_dev = PhpLockfileCataloger(include_dev=False).parse("/var/www/composer.lock", data, CTX)
    assert pairs(no_dev) == everything - {("phpunit/phpunit", "10.5.3")}


def test_installed_json_v1_and_v2() -> None:
    v1 = INSTALLED.parse(INSTALLED_JSON, (DATA / "installed-v1.json").read_bytes(), CTX)
    assert pairs(v1) == {("psr/log", "1.1.4"), ("twig/twig", "v2.15.5")}
    data = (DATA / "installed-v2.json").read_bytes()
    everything = {("laravel/framework", "v10.38.1"), ("nesbot/carbon", "2.72.1"),
                  ("mockery/mockery", "1.6.7")}
    assert pairs(INSTALLED.parse(INSTALLED_JSON, data, CTX)) == everything
    no_dev = PhpInstalledCataloger(include_dev=False).parse(INSTALLED_JSON, data, CTX)
    assert pairs(no_dev) == everything - {("mockery/mockery", "1.6.7")}
    assert {p.found_by for p in v1} == {"php-installed"}


@pytest.mark.parametrize(("data", "message"), [
    (b'{"packages": [', "invalid composer.lock"),
    (b'"just a string"', "not a JSON object"),
    (b"\xff\xfe", "not UTF-8"),
])
def test_bad_composer_lock(data: bytes, message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        LOCK.parse("/composer.lock", data, CTX)


def test_bad_installed_json() -> None:
    with pytest.raises(CatalogError, match="neither a list nor an object"):
        INSTALLED.parse(INSTALLED_JSON, b"42", CTX)


def test_limits() -> None:
    data = (DATA / "composer.lock").read_bytes()
    with pytest.raises(CatalogError, match="more than 2 packages"):
        PhpLockfileCataloger(max_packages=2).parse("/composer.lock", data, CTX)
    with pytest.raises(CatalogError, match="over the limit"):
        PhpLockfileCataloger(max_file_bytes=100).parse("/composer.lock", data, CTX)


def test_runner_turns_a_bad_file_into_an_issue(tmp_path: Path) -> None:
    (tmp_path / "www/vendor/composer").mkdir(parents=True)
    (tmp_path / "www/vendor/composer/installed.json").write_bytes(
        (DATA / "installed-v2.json").read_bytes())
    (tmp_path / "www/composer.lock").write_text("{truncated")
    cats: list[Cataloger] = [INSTALLED, LOCK]
    tree = tree_from_directory(tmp_path, want_globs(*INSTALLED.globs, *LOCK.globs))
    with tree:
        packages, issues = catalog(tree, cats, None)
    assert len(pairs(packages)) == 3
    assert [(i.plugin, i.location.path) for i in issues] == [
        ("php-lockfile", "/www/composer.lock")]
