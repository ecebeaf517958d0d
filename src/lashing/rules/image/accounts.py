"""Image rules over account databases: /etc/shadow, /etc/passwd, /etc/group, sudoers."""

from __future__ import annotations

from collections.abc import Iterator

from lashing.model import Severity
from lashing.rules.framework import Example, NotApplicable, Violation, rule
from lashing.rules.image.subject import FileSpec, ImageSpec
from lashing.rules.image.subject import ImageSubject as I

DOCKLE = "https://github.com/goodwithtech/dockle/blob/master/CHECKPOINT.md"
PASSWD = b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"
GROUP = b"root:x:0:\napp:x:1000:\n"


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip() and not line.lstrip().startswith("#"):
            yield n, line.split(":")


def _password_fields(s: I) -> Iterator[tuple[str, int, str, str]]:
    """(path, line, user, password field) from shadow and passwd files present."""
    found = False
    for path, field in (("/etc/shadow", 1), ("/etc/master.passwd", 1), ("/etc/passwd", 1)):
        try:
            _entry, text = s.text(path)
        except NotApplicable:
            continue
        found = True
        for n, rec in _records(text):
            if len(rec) > field:
                yield path, n, rec[0], rec[field]
    if not found:
        raise NotApplicable("the image has no /etc/shadow or /etc/passwd")


def _locked(pw: str) -> bool:
    return pw in ("x", "*", "!", "!!", "*LK*") or pw.startswith(("!", "*"))


@rule(
    id="LSH-IMG-022",
    title="Account with an empty password",
    severity=Severity.HIGH,
    nist=("4.1.2", "4.5.4"),
    aliases=("dockle:DKL-LI-0001",),
    remediation="Lock the account (passwd -l NAME) or delete it.",
    references=(DOCKLE + "#dkl-li-0001",),
    examples=(
        Example(ImageSpec(files=(FileSpec("/etc/shadow", b"root::19000:0:99999:7:::\n"),)),
                True),
        Example(ImageSpec(files=(FileSpec("/etc/shadow", b"root:*:19000:0:99999:7:::\n"
                                          b"app:!:19000::::::\n"),
                                 FileSpec("/etc/passwd", PASSWD))), False),
    ),
)
def empty_password(s: I) -> Iterator[Violation]:
    """Anyone who reaches a login (su, ssh) becomes that user without a password."""
    tree = s.need_tree()
    for path, line, user, pw in _password_fields(s):
        entry = tree.get(path)
        if pw == "" and entry is not None:
            yield s.file_violation(entry, f"{user} has an empty password in {path}", line)


@rule(
    id="LSH-IMG-023",
    title="Account with a password hash baked into the image",
    severity=Severity.MEDIUM,
    nist=("4.1.4", "4.5.4"),
    remediation="Lock the account; set credentials at run time if a password is needed.",
    examples=(
        Example(ImageSpec(files=(FileSpec("/etc/shadow", b"root:$6$salt$abcdefghijk:19000::"
                                          b"::::\n"),)), True),
        Example(ImageSpec(files=(FileSpec("/etc/shadow", b"root:*:19000::::::\n"),)), False),
    ),
)
def password_hash(s: I) -> Iterator[Violation]:
    """The hash is the same in every container and can be cracked offline."""
    tree = s.need_tree()
    for path, line, user, pw in _password_fields(s):
        entry = tree.get(path)
        if pw and not _locked(pw) and entry is not None:
            yield s.file_violation(entry, f"{user} has a password hash in {path}", line)


@rule(
    id="LSH-IMG-024",
    title="Duplicate UID or GID",
    severity=Severity.MEDIUM,
    nist=("4.5.4",),
    aliases=("dockle:DKL-LI-0002",),
    remediation="Give every account its own UID and every group its own GID.",
    references=(DOCKLE + "#dkl-li-0002",),
    examples=(
        Example(ImageSpec(files=(FileSpec("/etc/passwd", PASSWD + b"toor:x:0:0::/:/bin/sh\n"),
                                 FileSpec("/etc/group", GROUP))), True, "second uid 0"),
        Example(ImageSpec(files=(FileSpec("/etc/passwd", PASSWD),
                                 FileSpec("/etc/group", GROUP))), False),
    ),
)
def duplicate_ids(s: I) -> Iterator[Violation]:
    """Shared IDs share file ownership and permissions; a second UID 0 is a backdoor."""
    tree = s.need_tree()
    any_file = False
    for path, what in (("/etc/passwd", "UID"), ("/etc/group", "GID")):
        try:
            entry, text = s.text(path)
        except NotApplicable:
            continue
        any_file = True
        seen: dict[str, str] = {}
        for n, rec in _records(text):
            if len(rec) < 3 or not rec[2].strip().isdigit():
                continue
            ident = rec[2].strip()
            if ident in seen:
                yield s.file_violation(tree.get(path) or entry, f"{what} {ident} is shared by "
                                       f"{seen[ident]} and {rec[0]}", n)
            else:
                seen[ident] = rec[0]
    if not any_file:
        raise NotApplicable("the image has no /etc/passwd or /etc/group")


@rule(
    id="LSH-IMG-025",
    title="Passwordless sudo configured",
    severity=Severity.MEDIUM,
    nist=("4.5.4", "4.1.2"),
    remediation="Remove NOPASSWD rules (and sudo itself) from images.",
    examples=(
        Example(ImageSpec(files=(FileSpec("/etc/sudoers.d/app", b"app ALL=(ALL) NOPASSWD: ALL\n"
                                          ),)), True),
        Example(ImageSpec(files=(FileSpec("/etc/sudoers", b"root ALL=(ALL:ALL) ALL\n"
                                          b"# %wheel ALL=(ALL) NOPASSWD: ALL\n"),)), False),
    ),
)
def nopasswd_sudo(s: I) -> Iterator[Violation]:
    """Any code running as that user becomes root without knowing a secret."""
    tree = s.need_tree()
    paths = [e.path for e in tree.glob("/etc/sudoers.d/*")]
    if tree.get("/etc/sudoers") is not None:
        paths.insert(0, "/etc/sudoers")
    if not paths:
        raise NotApplicable("the image has no sudoers files")
    for path in paths:
        try:
            entry, text = s.text(path)
        except NotApplicable:
            continue
        for n, line in enumerate(text.splitlines(), 1):
            body = line.split("#", 1)[0]
            if "NOPASSWD" in body:
                who = body.split()[0] if body.split() else "?"
                yield s.file_violation(entry, f"{who} may run sudo without a password", n)


RULES = (empty_password, password_hash, duplicate_ids, nopasswd_sudo)
