"""Go modules (OSV ecosystem `Go`, purl type `golang`:
`pkg:golang/github.com/x/y@v1.2.3`).

`go-binary` reads the build information of Go binaries (ELF, PE, Mach-O;
see `_gobuild`): every `dep` module, the module that replaced it when a
`=>` line follows (the replacement is what was compiled in), and the
toolchain as the package `stdlib` (`go1.21.5` -> `1.21.5`, `go1.21rc2` ->
`1.21.0-rc.2`, as OSV's Go advisories spell them). The main module is
reported when it has a real version (`go install m@v1.2.3`), not when it is
`(devel)`. A module replaced by a local directory has no version to match
and is skipped.

Limits: binaries are looked for only under the usual program directories
(`_binary.BINARY_GLOBS`), and every file there is read; a candidate is
rejected by its magic number, then by the absence of the build-info magic,
before any other work. Go < 1.18 binaries (pointer-format build info) are
read only when they are ELF. Binaries built without module support
(GOPATH mode, as Debian builds its Go packages) carry only the toolchain
version, so only `stdlib` is reported for them.

`go-module` reads `go.mod` in source trees: `require` lines and blocks, with
`replace` directives applied the way the go command applies them (a
replacement by a local path is skipped). The `go`/`toolchain` directives
are minimums, not the toolchain that built anything, so no `stdlib` is
reported from go.mod.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lashing.catalog._binary import BINARY_GLOBS, BINARY_MAGICS, binary_format
from lashing.catalog._common import (
    DEFAULT_MAX_PACKAGES,
    Collector,
    MiB,
    check_size,
    guarded,
    make_package,
)
from lashing.catalog._gobuild import BuildInfo, Module, read_buildinfo
from lashing.catalog.base import CatalogContext
from lashing.model import Package

ECOSYSTEM = "Go"
_GO_VERSION = re.compile(r"go(\d+)\.(\d+)(?:\.(\d+))?(?:(rc|beta)(\d+))?$")


def go_package(cataloger: str, path: str, version: str, where: str,
               ctx: CatalogContext) -> Package:
    namespace, slash, name = path.rpartition("/")
    return make_package(cataloger, ECOSYSTEM, "golang", path, version, where, ctx,
                        namespace=namespace if slash else None, purl_name=name)


def stdlib_version(go_version: str) -> str | None:
    """`go1.21.5` -> `1.21.5`; `go1.19` -> `1.19.0`; `go1.21rc2` -> `1.21.0-rc.2`;
    None for development builds. A GOEXPERIMENT suffix (`go1.20 X:boringcrypto`)
    is ignored."""
    match = _GO_VERSION.match(go_version.split(" ")[0])
    if not match:
        return None
    major, minor, patch, pre, num = match.groups()
    version = f"{major}.{minor}.{patch or 0}"
    return f"{version}-{pre}.{num}" if pre else version


def _is_local(module: Module) -> bool:
    return module.path.startswith(("./", "../", "/")) or module.version in ("", "(devel)")


@dataclass(frozen=True)
class GoBinaryCataloger:
    """Modules compiled into Go binaries, and the Go toolchain (stdlib)."""

    max_file_bytes: int = 2048 * MiB
    name: str = field(default="go-binary", init=False)
    tags: tuple[str, ...] = field(default=("binary",), init=False)
    globs: tuple[str, ...] = field(default=BINARY_GLOBS, init=False)
    magics: tuple[bytes, ...] = field(default=BINARY_MAGICS, init=False)

    def parse(self, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        return guarded("Go binary", lambda: self._parse(path, data, ctx))

    def _parse(self, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        fmt = binary_format(data)
        if fmt is None:
            return []
        check_size(data, self.max_file_bytes, "binary")
        info = read_buildinfo(data, fmt)
        return [] if info is None else self.packages(info, path, ctx)

    def packages(self, info: BuildInfo, path: str, ctx: CatalogContext) -> list[Package]:
        found = Collector(DEFAULT_MAX_PACKAGES)
        stdlib = stdlib_version(info.go_version)
        if stdlib:
            found.add(go_package(self.name, "stdlib", stdlib, path, ctx))
        modules = [info.main] if info.main is not None else []
        for module in [*modules, *info.deps]:
            used = module.replaced_by or module
            if not _is_local(used):
                found.add(go_package(self.name, used.path, used.version, path, ctx))
        return found.result()


@dataclass(frozen=True)
class GoModCataloger:
    """go.mod require directives, with replace directives applied."""

    max_file_bytes: int = 16 * MiB
    max_packages: int = DEFAULT_MAX_PACKAGES
    name: str = field(default="go-module", init=False)
    tags: tuple[str, ...] = field(default=("language", "lockfile"), init=False)
    globs: tuple[str, ...] = field(default=("**/go.mod",), init=False)

    def parse(self, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        return guarded("go.mod", lambda: self._parse(path, data, ctx))

    def _parse(self, path: str, data: bytes, ctx: CatalogContext) -> list[Package]:
        check_size(data, self.max_file_bytes, "go.mod")
        requires, replaces = parse_go_mod(data.decode("utf-8", errors="replace"))
        found = Collector(self.max_packages)
        for module in requires:
            used = _replacement(module, replaces)
            if not _is_local(used):
                found.add(go_package(self.name, used.path, used.version, path, ctx))
        return found.result()


Replace = tuple[str, str | None, Module]  # old path, old version (None: all), new


def parse_go_mod(text: str) -> tuple[list[Module], list[Replace]]:
    requires: list[Module] = []
    replaces: list[Replace] = []
    block: str | None = None
    for raw in text.splitlines():
        words = _words(raw)
        if not words:
            continue
        if block is not None:
            if words == [")"]:
                block = None
                continue
            verb, args = block, words
        elif len(words) == 2 and words[1] == "(":
            block = words[0]
            continue
        else:
            verb, args = words[0], words[1:]
        if verb == "require" and len(args) >= 2:
            requires.append(Module(args[0], args[1]))
        elif verb == "replace" and "=>" in args:
            arrow = args.index("=>")
            old, new = args[:arrow], args[arrow + 1:]
            if old and new:
                target = Module(new[0], new[1] if len(new) > 1 else "")
                replaces.append((old[0], old[1] if len(old) > 1 else None, target))
    return requires, replaces


def _replacement(module: Module, replaces: list[Replace]) -> Module:
    """The go command prefers a replace naming the exact version over one
    naming the path only."""
    exact = [new for old, ver, new in replaces if old == module.path and ver == module.version]
    broad = [new for old, ver, new in replaces if old == module.path and ver is None]
    chosen = exact or broad
    return chosen[-1] if chosen else module


def _words(line: str) -> list[str]:
    """Tokens of one go.mod line, `//` comments dropped and quotes removed."""
    words: list[str] = []
    for match in re.finditer(r'"((?:[^"\\]|\\.)*)"|`([^`]*)`|(//.*)|(\S+)', line):
        quoted, raw, comment, bare = match.groups()
        if comment is not None:
            break
        words.append(quoted if quoted is not None else raw if raw is not None else bare)
    return words


__all__ = ["ECOSYSTEM", "GoBinaryCataloger", "GoModCataloger", "parse_go_mod", "stdlib_version"]
