"""What package-manager commands do: subcommands, package arguments, options.

Shared by the Dockerfile rules (RUN) and the image rules (history `created_by`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lashing.rules.shell import Command, option_cluster

APT = frozenset({"apt-get", "apt", "aptitude"})
RPM_MANAGERS = frozenset({"yum", "dnf", "microdnf", "tdnf"})
MANAGERS = APT | RPM_MANAGERS | {"apk", "zypper", "pacman"}

# Options that take a separate value, per tool (the `--opt=value` form needs no entry).
_WITH_VALUE: dict[str, frozenset[str]] = {
    "apt": frozenset({"-o", "-c", "-t", "--target-release", "--default-release", "-a",
                      "--host-architecture", "--option", "--config-file"}),
    "apk": frozenset({"-X", "--repository", "-t", "--virtual", "-p", "--root", "--arch",
                      "--keys-dir", "--repositories-file", "--cache-dir", "--cache-max-age",
                      "--wait"}),
    "rpm": frozenset({"-c", "--config", "-x", "--exclude", "--repo", "--repoid",
                      "--enablerepo", "--disablerepo", "--releasever", "--installroot",
                      "-d", "--debuglevel", "-e", "--errorlevel", "--setopt", "--downloaddir",
                      "--destdir", "--forcearch", "--rpmverbosity", "--color"}),
    "zypper": frozenset({"-R", "--root", "-c", "--config", "-r", "--repo", "-t", "--type",
                         "--from", "--reposd-dir", "--cache-dir", "-D"}),
    "pip": frozenset({"-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i",
                      "--index-url", "--extra-index-url", "-f", "--find-links", "-t",
                      "--target", "--prefix", "--root", "--src", "--trusted-host",
                      "--platform", "--python-version", "--implementation", "--abi",
                      "--no-binary", "--only-binary", "--progress-bar", "--cache-dir", "--log",
                      "--proxy", "--retries", "--timeout", "--exists-action", "--cert",
                      "--client-cert", "--upgrade-strategy", "--global-option",
                      "--install-option", "-C", "--config-settings", "--python",
                      "--report", "--root-user-action"}),
    "npm": frozenset({"--prefix", "--registry", "--cache", "--userconfig", "--tag", "-w",
                      "--workspace", "--loglevel", "--omit", "--include", "--save-prefix",
                      "--cwd"}),
    "gem": frozenset({"-v", "--version", "-i", "--install-dir", "-n", "--bindir", "-s",
                      "--source", "--platform", "-P", "--trust-policy", "-g", "--file"}),
    "go": frozenset({"-C", "-p", "-tags", "-ldflags", "-gcflags", "-o", "-mod", "-modfile",
                     "-overlay", "-pgo", "-asmflags", "-buildmode", "-compiler",
                     "-gccgoflags", "-installsuffix", "-pkgdir", "-toolexec"}),
}


def family(name: str) -> str:
    if name in APT:
        return "apt"
    if name in RPM_MANAGERS:
        return "rpm"
    if name in ("npm", "yarn", "pnpm"):
        return "npm"
    return name


def has_flag(args: Sequence[str], short: str, longs: tuple[str, ...] = ()) -> bool:
    return option_cluster(list(args), short, longs)


def option_value(args: Sequence[str], names: tuple[str, ...]) -> str | None:
    """Value of `-u 1000`, `-u1000` or `--uid=1000` for names ("-u", "--uid")."""
    for k, a in enumerate(args):
        for n in names:
            if a == n:
                return args[k + 1] if k + 1 < len(args) else ""
            if n.startswith("--") and a.startswith(n + "="):
                return a.split("=", 1)[1]
            if not n.startswith("--") and a.startswith(n) and len(a) > len(n):
                return a[len(n):]
    return None


def split_args(cmd: Command, tool: str | None = None) -> tuple[str, list[str], list[str]]:
    """(subcommand, options, operands after it) with option values skipped."""
    tool = tool or ("pip" if is_pip(cmd) else family(cmd.name))
    with_value = _WITH_VALUE.get(tool, frozenset())
    args = list(pip_args(cmd) if is_pip(cmd) else cmd.args)
    sub = ""
    options: list[str] = []
    operands: list[str] = []
    k = 0
    while k < len(args):
        a = args[k]
        k += 1
        if a.startswith("-") and a != "-":
            options.append(a)
            if a in with_value and k < len(args):
                options.append(args[k])
                k += 1
        elif not sub:
            sub = a
        else:
            operands.append(a)
    return sub, options, operands


def subcommand(cmd: Command) -> str:
    return split_args(cmd)[0]


def is_pip(cmd: Command) -> bool:
    if re.fullmatch(r"pip[0-9.]*", cmd.name):
        return True
    return bool(re.fullmatch(r"python[0-9.]*", cmd.name)) and cmd.args[:2] == ("-m", "pip")


def pip_args(cmd: Command) -> tuple[str, ...]:
    return cmd.args[2:] if cmd.args[:2] == ("-m", "pip") else cmd.args


def simulates(cmd: Command) -> bool:
    """apt-get -s / --dry-run and friends: nothing is installed, nothing prompts."""
    return family(cmd.name) == "apt" and (
        has_flag(cmd.args, "s", ("--simulate", "--just-print", "--dry-run", "--recon",
                                 "--no-act")))


def is_manager(cmd: Command) -> bool:
    return cmd.name in MANAGERS


_INSTALL = {
    "apt": {"install", "reinstall", "upgrade", "dist-upgrade", "full-upgrade", "build-dep"},
    "apk": {"add", "upgrade", "fix"},
    "rpm": {"install", "groupinstall", "localinstall", "reinstall", "update", "upgrade",
            "distro-sync", "downgrade"},
    "zypper": {"install", "in", "update", "up", "patch", "dist-upgrade", "dup",
               "source-install", "si"},
}


def is_install(cmd: Command) -> bool:
    if cmd.name == "pacman":
        return any(a.startswith("-S") and len(a) > 2 for a in cmd.args) or \
            any(a.startswith("-U") for a in cmd.args)
    return subcommand(cmd) in _INSTALL.get(family(cmd.name), set())


def is_update(cmd: Command) -> bool:
    """Refreshes the package index (not an upgrade of packages)."""
    fam, sub = family(cmd.name), subcommand(cmd)
    if fam in ("apt", "apk"):
        return sub == "update"
    if fam == "zypper":
        return sub in ("refresh", "ref")
    if cmd.name == "pacman":
        return any(re.fullmatch(r"-S[yu]+", a) for a in cmd.args) and not split_args(cmd)[0]
    return False


def is_dist_upgrade(cmd: Command) -> bool:
    fam, sub = family(cmd.name), subcommand(cmd)
    return (fam == "apt" and sub in ("dist-upgrade", "full-upgrade")) or \
        (fam == "zypper" and sub in ("dist-upgrade", "dup"))


def packages(cmd: Command) -> list[str]:
    """Package operands of an install command, variables and file names excluded."""
    _sub, _opts, operands = split_args(cmd)
    return [p for p in operands if "$" not in p and "`" not in p and p]


def unsigned(cmd: Command) -> str | None:
    """The option with which `cmd` skips signature checks, or None."""
    fam = family(cmd.name)
    args = cmd.args
    checks: tuple[str, ...] = ()
    if cmd.name == "rpm":
        checks = ("--nosignature", "--nodigest", "--noverify", "--nofiledigest")
    elif cmd.name == "apk":
        checks = ("--allow-untrusted",)
    elif fam == "apt":
        checks = ("--allow-unauthenticated", "--force-yes", "--allow-insecure-repositories")
        for k, a in enumerate(args):
            opt = a[2:] if a.startswith("-o") and len(a) > 2 else \
                (args[k + 1] if a == "-o" and k + 1 < len(args) else "")
            if re.fullmatch(r"(?i)(APT::Get::AllowUnauthenticated|Acquire::AllowInsecure"
                            r"Repositories|APT::Get::force-yes)=(1|true|yes)", opt):
                return f"-o {opt}"
    elif fam == "rpm":
        checks = ("--nogpgcheck", "--setopt=gpgcheck=0", "--setopt=gpgcheck=false")
    elif cmd.name == "zypper":
        checks = ("--no-gpg-checks",)
    for a in args:
        if a in checks or a.lower() in checks:
            return a
    return None
