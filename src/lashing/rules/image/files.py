"""Image rules over the files in the image: permissions, leftovers, keys."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from lashing.fs.tree import FileEntry, FileKind
from lashing.model import FindingKind, Location, Severity
from lashing.rules.framework import Example, NotCheckable, Violation, rule
from lashing.rules.image.subject import MAX_READ, FileSpec, ImageSpec
from lashing.rules.image.subject import ImageSubject as I

DOCKLE = "https://github.com/goodwithtech/dockle/blob/master/CHECKPOINT.md"
CIS = "https://www.cisecurity.org/benchmark/docker"
MAX_REPORTED = 100  # per rule and image; the rest is summarised

SETUID_ALLOWED = frozenset({
    "su", "passwd", "chsh", "chfn", "newgrp", "gpasswd", "mount", "umount", "ping", "ping6",
    "chage", "expiry", "unix_chkpwd", "wall", "write", "bsd-write", "ssh-agent",
    "ssh-keysign", "crontab", "newuidmap", "newgidmap", "dbus-daemon-launch-helper",
    "fusermount", "fusermount3", "pam_timestamp_check", "utempter", "mount.nfs",
})
_TEST_DIR = re.compile(r"/(?:tests?|testdata|testing|fixtures?|test_data|examples?)/")
_SKIP_TREES = ("/proc/", "/sys/", "/dev/")


def _capped(violations: Iterator[Violation], what: str) -> Iterator[Violation]:
    count = 0
    for v in violations:
        count += 1
        if count <= MAX_REPORTED:
            yield v
    if count > MAX_REPORTED:
        yield Violation(f"{count - MAX_REPORTED} more {what} not listed", Location(),
                        f"{what}:more")


@rule(
    id="LSH-IMG-020",
    title="Unexpected setuid or setgid file",
    severity=Severity.MEDIUM,
    nist=("4.1.2",),
    aliases=("dockle:CIS-DI-0008", "cis-docker-1.6:4.8"),
    remediation="Remove the setuid/setgid bit (chmod u-s,g-s FILE) from every binary the "
    "application does not need; run containers with --security-opt no-new-privileges.",
    references=(DOCKLE + "#cis-di-0008", CIS),
    examples=(
        Example(ImageSpec(files=(FileSpec("/usr/local/bin/helper", mode=0o4755),)), True),
        Example(ImageSpec(files=(FileSpec("/usr/bin/passwd", mode=0o4755),
                                 FileSpec("/usr/bin/tool", mode=0o755))), False),
    ),
)
def setuid_files(s: I) -> Iterator[Violation]:
    """Each setuid binary is a way from an ordinary user to its owner, usually root."""
    extra = set(s.config.extra_setuid_allowed)

    def found() -> Iterator[Violation]:
        for e in s.files():
            if e.kind not in (FileKind.FILE, FileKind.HARDLINK) or \
                    not (e.is_setuid or e.is_setgid):
                continue
            names = {e.path, posixpath.basename(e.path)}
            if e.link_target:  # a hard link is allowed when what it links to is
                names |= {e.link_target, posixpath.basename(e.link_target)}
            if names & SETUID_ALLOWED or names & extra:
                continue
            bits = "+".join(b for b, on in (("setuid", e.is_setuid), ("setgid", e.is_setgid))
                            if on)
            yield s.file_violation(e, f"{e.path} is {bits} ({oct(e.mode & 0o7777)}, "
                                   f"owner {e.uid}:{e.gid})")

    yield from _capped(found(), "setuid/setgid files")


@rule(
    id="LSH-IMG-021",
    title="World-writable file or directory",
    severity=Severity.MEDIUM,
    nist=("4.1.2",),
    remediation="Remove write permission for others (chmod o-w); use a group or a volume "
    "for shared data.",
    examples=(
        Example(ImageSpec(files=(FileSpec("/app/config.py", mode=0o666),)), True),
        Example(ImageSpec(files=(FileSpec("/tmp/x", mode=0o666),
                                 FileSpec("/app/run", mode=0o755),
                                 FileSpec("/var/lock", None, mode=0o1777, kind=FileKind.DIR),
                                 FileSpec("/app/link", None, mode=0o777,
                                          kind=FileKind.SYMLINK, link="run"))), False),
    ),
)
def world_writable(s: I) -> Iterator[Violation]:
    """Any user in the container can change these files, including code that runs later."""
    def found() -> Iterator[Violation]:
        for e in s.files():
            if e.kind not in (FileKind.FILE, FileKind.DIR) or not e.mode & 0o002:
                continue
            if e.path.startswith(("/tmp/", "/var/tmp/", "/dev/shm/", *_SKIP_TREES)) or \
                    e.path in ("/tmp", "/var/tmp", "/dev/shm"):
                continue
            if e.kind is FileKind.DIR and e.mode & 0o1000:
                continue  # sticky directories such as /var/lock are meant to be shared
            yield s.file_violation(e, f"{e.path} is world-writable ({oct(e.mode & 0o7777)})")

    yield from _capped(found(), "world-writable paths")


SSH_SERVERS = ("/usr/sbin/sshd", "/usr/bin/sshd", "/usr/sbin/dropbear", "/usr/bin/dropbear")


@rule(
    id="LSH-IMG-026",
    title="SSH server installed",
    severity=Severity.MEDIUM,
    nist=("4.1.2", "4.4.2"),
    aliases=("cis-docker-1.6:5.7",),
    remediation="Remove the SSH server; use docker exec / kubectl exec for access.",
    references=(CIS,),
    examples=(
        Example(ImageSpec(files=(FileSpec("/usr/sbin/sshd", mode=0o755),)), True),
        Example(ImageSpec(files=(FileSpec("/usr/bin/ssh", mode=0o755),)), False),
    ),
)
def ssh_server(s: I) -> Iterator[Violation]:
    """An SSH daemon means keys or passwords to manage and a service to attack."""
    tree = s.need_tree()
    for path in SSH_SERVERS:
        e = tree.get(path)
        if e is not None and e.kind in (FileKind.FILE, FileKind.SYMLINK, FileKind.HARDLINK):
            yield s.file_violation(e, f"{path} is installed")


CACHES = (
    ("/var/lib/apt/lists", "apt lists", lambda p: not p.endswith(("/lock", "/partial"))),
    ("/var/cache/apt/archives", "apt packages", lambda p: p.endswith(".deb")),
    ("/var/cache/apt", "apt caches", lambda p: p.endswith(".bin")),
    ("/var/cache/apk", "apk cache", lambda p: True),
    ("/root/.cache/pip", "pip cache", lambda p: True),
    ("/var/cache/yum", "yum cache", lambda p: True),
    ("/var/cache/dnf", "dnf cache", lambda p: True),
    ("/var/cache/zypp", "zypper cache", lambda p: True),
    ("/usr/local/share/.cache/yarn", "yarn cache", lambda p: True),
    ("/root/.npm/_cacache", "npm cache", lambda p: True),
)


@rule(
    id="LSH-IMG-027",
    title="Package manager cache left in the image",
    severity=Severity.LOW,
    aliases=("dockle:DKL-DI-0004", "dockle:DKL-DI-0005"),
    remediation="Clean in the same RUN that installs: rm -rf /var/lib/apt/lists/*, "
    "apk add --no-cache, pip --no-cache-dir, dnf clean all.",
    references=(DOCKLE + "#dkl-di-0005",),
    examples=(
        Example(ImageSpec(files=(FileSpec("/var/lib/apt/lists/deb.debian.org_Packages",
                                          b"Package: x\n"),)), True),
        Example(ImageSpec(files=(FileSpec("/var/lib/apt/lists/lock", b""),
                                 FileSpec("/var/cache/apk", None, mode=0o755,
                                          kind=FileKind.DIR))), False),
    ),
)
def package_caches(s: I) -> Iterator[Violation]:
    """Caches add size and stale package indexes, and tell attackers what was installed."""
    tree = s.need_tree()
    found: dict[str, list[FileEntry]] = {}
    for e in tree.walk():
        if e.kind is not FileKind.FILE:
            continue
        for root, _what, keep in CACHES:
            if e.path.startswith(root + "/") and keep(e.path):
                found.setdefault(root, []).append(e)
                break
    for root, what, _keep in CACHES:
        files = found.get(root)
        if files:
            size = sum(e.size for e in files)
            top = tree.get(root) or files[0]
            yield s.file_violation(top, f"{what}: {len(files)} files, {size} bytes under {root}")


LEFTOVER_DIRS = {".git": "a Git repository", ".svn": "a Subversion checkout",
                 ".hg": "a Mercurial repository", ".idea": "IDE settings",
                 ".vscode": "editor settings"}


@rule(
    id="LSH-IMG-028",
    title="Version-control or editor leftovers",
    severity=Severity.LOW,
    nist=("4.1.2", "4.1.4"),
    aliases=("dockle:DKL-LI-0003",),
    remediation="Add .git and editor folders to .dockerignore.",
    references=(DOCKLE + "#dkl-li-0003",),
    examples=(
        Example(ImageSpec(files=(FileSpec("/app/.git/config", b"[core]\n"),)), True),
        Example(ImageSpec(files=(FileSpec("/app/main.py", b""),
                                 FileSpec("/app/node_modules/x/.git/HEAD", b""))), False),
    ),
)
def vcs_leftovers(s: I) -> Iterator[Violation]:
    """A .git folder ships the full history, often with removed secrets and internal URLs."""
    def found() -> Iterator[Violation]:
        for e in s.files():
            name = posixpath.basename(e.path)
            if e.kind is FileKind.DIR and name in LEFTOVER_DIRS and \
                    "/node_modules/" not in e.path and "/vendor/" not in e.path:
                yield s.file_violation(e, f"{e.path} is {LEFTOVER_DIRS[name]}")
            elif name == ".DS_Store":
                yield s.file_violation(e, f"{e.path} is a macOS folder index")

    yield from _capped(found(), "leftover folders")


KEY_NAMES = ("id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk")
_PRIVATE_KEY = re.compile(rb"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
_KEY_SUFFIXES = (".pem", ".key", ".p8")


@rule(
    id="LSH-IMG-029",
    title="Private key in the image",
    severity=Severity.HIGH,
    kind=FindingKind.SECRET,
    nist=("4.1.4",),
    aliases=("dockle:CIS-DI-0010", "cis-docker-1.6:4.10"),
    remediation="Remove the key, rotate it, and mount keys at run time (secrets, volumes). "
    "Generate SSH host keys when the container starts.",
    references=(DOCKLE + "#cis-di-0010",),
    examples=(
        Example(ImageSpec(files=(FileSpec("/root/.ssh/id_rsa", b"-----BEGIN OPENSSH PRIV"
                                          b"ATE KEY-----\nabc\n"),)), True),
        Example(ImageSpec(files=(FileSpec("/etc/app/tls.key", b"-----BEGIN PRIV" b"ATE KEY-----\n"
                                          ),)), True, "by content"),
        Example(ImageSpec(files=(FileSpec("/etc/ssl/certs/ca.pem", b"-----BEGIN CERTIFICATE--"
                                          b"---\n"),
                                 FileSpec("/root/.ssh/id_rsa.pub", b"ssh-rsa AAAA"))), False),
    ),
)
def private_keys(s: I) -> Iterator[Violation]:
    """Anyone who pulls the image has the key."""
    tree = s.need_tree()
    missing = 0
    hits = 0
    for e in s.files():
        if e.kind is not FileKind.FILE or _TEST_DIR.search(e.path):
            continue
        name = posixpath.basename(e.path)
        by_name = name in KEY_NAMES or re.fullmatch(r"ssh_host_\w+_key", name) is not None
        if not by_name and not name.endswith(_KEY_SUFFIXES):
            continue
        if tree.has_content(e.path):
            if _PRIVATE_KEY.search(tree.read(e.path)[:MAX_READ]):
                hits += 1
                yield s.file_violation(e, f"{e.path} holds a private key")
        elif by_name:
            hits += 1
            yield s.file_violation(e, f"{e.path} is named like a private key")
        else:
            missing += 1
    if missing and not hits:
        raise NotCheckable(f"the contents of {missing} key-like files were not read")


def _npmrc(text: str) -> bool:
    return bool(re.search(r"_auth(?:Token)?\s*=\s*\S|_password\s*=\s*\S", text))


def _pypirc(text: str) -> bool:
    return bool(re.search(r"(?m)^\s*password\s*[=:]\s*\S", text))


def _docker_config(text: str) -> bool:
    return bool(re.search(r'"auth"\s*:\s*"[^"]+"|"identitytoken"\s*:\s*"[^"]+"', text))


def _aws(text: str) -> bool:
    return "aws_secret_access_key" in text.lower()


def _netrc(text: str) -> bool:
    return bool(re.search(r"\bpassword\s+\S", text))


def _gcp(text: str) -> bool:
    return '"private_key"' in text


def _any(text: str) -> bool:
    return bool(text.strip())


CREDENTIAL_FILES = (
    (".npmrc", "an npm token", _npmrc),
    (".pypirc", "a PyPI password", _pypirc),
    (".docker/config.json", "registry credentials", _docker_config),
    (".aws/credentials", "AWS keys", _aws),
    (".netrc", "a password", _netrc),
    (".git-credentials", "Git credentials", _any),
    ("credentials.json", "a service-account key", _gcp),
)


@rule(
    id="LSH-IMG-030",
    title="Credential file in the image",
    severity=Severity.HIGH,
    kind=FindingKind.SECRET,
    nist=("4.1.4",),
    aliases=("dockle:CIS-DI-0010", "cis-docker-1.6:4.10"),
    remediation="Remove the file and rotate the credential; use build secrets "
    "(RUN --mount=type=secret) for tokens needed while building.",
    references=(DOCKLE + "#cis-di-0010",),
    examples=(
        Example(ImageSpec(files=(FileSpec("/root/.npmrc", b"//registry.npmjs.org/:_authToken"
                                          b"=npm_abc\n"),)), True),
        Example(ImageSpec(files=(FileSpec("/home/app/.docker/config.json",
                                          b'{"auths": {"r.example.com": {"auth": "dXNlcjpw"}}}'
                                          ),)), True, "docker login"),
        Example(ImageSpec(files=(FileSpec("/root/.npmrc", b"registry=https://r.example/\n"),
                                 FileSpec("/home/app/.docker/config.json",
                                          b'{"credsStore": "pass"}'))), False),
    ),
)
def credential_files(s: I) -> Iterator[Violation]:
    """Tokens left by `npm login`, `docker login`, `aws configure` work for anyone."""
    tree = s.need_tree()
    missing = 0
    hits = 0
    for e in s.files():
        if e.kind is not FileKind.FILE or _TEST_DIR.search(e.path):
            continue
        for suffix, what, test in CREDENTIAL_FILES:
            if e.path != "/" + suffix and not e.path.endswith("/" + suffix):
                continue
            if not tree.has_content(e.path):
                missing += 1
            elif test(tree.read(e.path)[:MAX_READ].decode("utf-8", "replace")):
                hits += 1
                yield s.file_violation(e, f"{e.path} holds {what}")
    if missing and not hits:
        raise NotCheckable(f"the contents of {missing} credential files were not read")


RULES = (setuid_files, world_writable, ssh_server, package_caches, vcs_leftovers,
         private_keys, credential_files)

# Paths whose contents these rules read: add them to the FileTree's wanted paths.
WANTED = ("/etc/shadow", "/etc/master.passwd", "/etc/passwd", "/etc/group", "/etc/sudoers",
          "/etc/sudoers.d/*", "**/.npmrc", "**/.pypirc", "**/.docker/config.json",
          "**/.aws/credentials", "**/.netrc", "**/.git-credentials", "**/credentials.json",
          "**/*.pem", "**/*.key", "**/*.p8", *(f"**/{n}" for n in KEY_NAMES),
          "**/ssh_host_*_key")
