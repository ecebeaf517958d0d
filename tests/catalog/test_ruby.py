"""The Ruby catalogers: installed gemspecs and Gemfile.lock."""

from __future__ import annotations

from pathlib import Path

import pytest

from lashing.catalog import CATALOGERS, catalog
from lashing.catalog.base import CatalogContext, CatalogError
from lashing.catalog.ruby import RubyInstalledCataloger, RubyLockfileCataloger
from lashing.fs import tree_from_directory, want_globs
from lashing.model import Location, Package

DATA = Path(__file__).parent / "data" / "lang" / "ruby"
CTX = CatalogContext(os=None, layer="sha256:" + "56" * 32)
INSTALLED = RubyInstalledCataloger()
LOCK = RubyLockfileCataloger()
GEMS = "/usr/local/lib/ruby/gems/3.2.0/specifications"


def pairs(packages: list[Package]) -> set[tuple[str, str]]:
    return {(p.name, p.version) for p in packages}


def test_registered() -> None:
    assert {"ruby-installed", "ruby-lockfile"} <= {c.name for c in CATALOGERS}


@pytest.mark.parametrize(("path", "wanted"), [
    (f"{GEMS}/rake-13.0.6.gemspec", True),
    (f"{GEMS}/default/json-2.6.3.gemspec", True),
    ("/app/vendor/bundle/ruby/3.2.0/specifications/rack-2.2.8.gemspec", True),
    ("/src/mygem/mygem.gemspec", False),
    ("/app/Gemfile.lock", True), ("/app/gems.locked", True), ("/app/Gemfile", False),
])
def test_globs(path: str, wanted: bool) -> None:
    assert want_globs(*INSTALLED.globs, *LOCK.globs)(path) is wanted


def test_installed_gemspecs() -> None:
    path = f"{GEMS}/rake-13.0.6.gemspec"
    [rake] = INSTALLED.parse(path, (DATA / "rake-13.0.6.gemspec").read_bytes(), CTX)
    assert (rake.name, rake.version, rake.ecosystem) == ("rake", "13.0.6", "RubyGems")
    assert rake.purl == "pkg:gem/rake@13.0.6"
    assert rake.found_by == "ruby-installed"
    assert rake.licenses == ("MIT",)
    assert rake.locations == (Location(path=path, layer=CTX.layer),)
    [json] = INSTALLED.parse(f"{GEMS}/default/json-2.6.3.gemspec",
                             (DATA / "json-2.6.3.gemspec").read_bytes(), CTX)
    assert (json.name, json.version, json.licenses) == ("json", "2.6.3", ("Ruby", "BSD-2-Clause"))


def test_gemspec_other_spellings() -> None:
    data = (b"Gem::Specification.new do |spec|\n  spec.name    = 'tiny'\n"
            b"  spec.version = Gem::Version.new('0.2.1')\n  spec.license = 'Apache-2.0'\nend\n")
    [pkg] = INSTALLED.parse(f"{GEMS}/tiny-0.2.1.gemspec", data, CTX)
    assert (pkg.name, pkg.version, pkg.licenses) == ("tiny", "0.2.1", ("Apache-2.0",))


def test_gemspec_without_literal_version_is_an_error() -> None:
    data = b'Gem::Specification.new do |s|\n  s.name = "x"\n  s.version = X::VERSION\nend\n'
    with pytest.raises(CatalogError, match="literal name and version"):
        INSTALLED.parse(f"{GEMS}/x.gemspec", data, CTX)


def test_gemspec_size_limit() -> None:
    data = (DATA / "rake-13.0.6.gemspec").read_bytes()
    with pytest.raises(CatalogError, match="over the limit"):
        RubyInstalledCataloger(max_file_bytes=100).parse(f"{GEMS}/rake.gemspec", data, CTX)


def test_gemfile_lock() -> None:
    found = LOCK.parse("/app/Gemfile.lock", (DATA / "Gemfile.lock").read_bytes(), CTX)
    assert pairs(found) == {
        ("activesupport", "7.1.2"),  # GIT
        ("concurrent-ruby", "1.2.2"), ("i18n", "1.14.1"), ("mini_portile2", "2.8.5"),
        ("nokogiri", "1.15.5"),  # two platforms, one version
        ("racc", "1.7.3"), ("rack", "2.2.8"), ("rake", "13.1.0"),
    }  # not billing, a PATH gem; not the dependency lines
    assert len(found) == 8
    assert {p.found_by for p in found} == {"ruby-lockfile"}


def test_gemfile_lock_limit() -> None:
    with pytest.raises(CatalogError, match="more than 3 packages"):
        RubyLockfileCataloger(max_packages=3).parse(
            "/app/Gemfile.lock", (DATA / "Gemfile.lock").read_bytes(), CTX)


def test_runner_turns_a_bad_gemspec_into_an_issue(tmp_path: Path) -> None:
    specs = tmp_path / "usr/lib/ruby/gems/3.1.0/specifications"
    specs.mkdir(parents=True)
    (specs / "rake-13.0.6.gemspec").write_bytes((DATA / "rake-13.0.6.gemspec").read_bytes())
    (specs / "broken-1.0.gemspec").write_text("# nothing here\n")
    tree = tree_from_directory(tmp_path, want_globs(*INSTALLED.globs))
    with tree:
        packages, issues = catalog(tree, [INSTALLED], None)
    assert pairs(packages) == {("rake", "13.0.6")}
    assert [(i.plugin, i.location.path) for i in issues] == [
        ("ruby-installed", "/usr/lib/ruby/gems/3.1.0/specifications/broken-1.0.gemspec")]
