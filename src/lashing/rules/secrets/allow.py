"""What is not a secret: placeholders, documentation examples, low-entropy
words, and the places (documentation, test fixtures) where secret-shaped
strings are expected. Kept in one module so false positives are fixed here."""

from __future__ import annotations

import math
import re
from collections import Counter

# Directories whose files cannot hold an image's own secrets, or are documentation.
SKIP_DIRS: tuple[str, ...] = (
    "/proc/", "/sys/", "/dev/",
    "/usr/share/doc/", "/usr/share/man/", "/usr/share/info/", "/usr/share/locale/",
    "/usr/share/i18n/", "/usr/lib/locale/", "/usr/share/zoneinfo/", "/usr/share/common-licenses/",
    "/usr/share/icons/", "/usr/share/fonts/", "/usr/share/mime/", "/usr/share/terminfo/",
    "/usr/share/X11/locale/", "/usr/share/help/", "/usr/share/gtk-doc/", "/usr/share/lintian/",
    "/usr/share/bash-completion/", "/usr/share/zsh/", "/usr/share/ca-certificates/",
    "/etc/ssl/certs/", "/var/lib/dpkg/info/", "/var/lib/apt/lists/", "/var/cache/apt/",
    "/var/cache/debconf/templates", "/usr/share/perl/", "/usr/share/perl5/Locale/",
    "/lib/apk/db/", "/var/lib/rpm/", "/usr/share/unicode/", "/usr/share/misc/",
)

# File types that are never text a secret is written into.
SKIP_EXTENSIONS = frozenset({
    ".png", ".jpg", ".jpeg", ".gif", ".ico", ".bmp", ".webp", ".svg", ".woff", ".woff2",
    ".ttf", ".otf", ".eot", ".pdf", ".gz", ".tgz", ".xz", ".bz2", ".zst", ".zip", ".jar",
    ".war", ".whl", ".egg", ".so", ".a", ".o", ".pyc", ".pyo", ".mo", ".gmo", ".deb", ".rpm",
    ".apk", ".mp3", ".mp4", ".ogg", ".wav", ".wasm", ".class", ".dll", ".exe", ".bin",
    ".db", ".sqlite", ".sqlite3", ".md5sums", ".ttc", ".pfb", ".afm",
    ".enc", ".lz4", ".br", ".map",
})

# Path segments and file names of test suites and examples shipped in packages
# (library test keys, documentation tokens). Overridable in SecretConfig.
_TEST_SEGMENTS = frozenset({
    "test", "tests", "testing", "testdata", "test-data", "test_data", "fixtures", "fixture",
    "__tests__", "__fixtures__", "spec", "specs", "examples", "example", "samples", "sample",
    "demo", "demos", "doc", "docs", "testcert", "testcerts", "unittest", "unittests",
})
_TEST_FILE = re.compile(
    r"(?:_test\.go|_test\.py|_tests\.py|\.test\.[cm]?[jt]sx?|\.spec\.[cm]?[jt]sx?|_spec\.rb"
    r"|_test\.rb|\.t)\Z|\A(?:test_.*\.py|conftest\.py)\Z"
)


def is_test_path(path: str) -> bool:
    parts = path.lower().split("/")
    if any(p in _TEST_SEGMENTS for p in parts[:-1]):
        return True
    return bool(_TEST_FILE.search(parts[-1]))


# Installed third-party packages: the heuristic rules (generic assignments, URLs,
# JWTs) do not look there, because library code and documentation are full of
# sample tokens; the rules for recognisable token formats and keys still do.
_PACKAGE_SEGMENTS = frozenset({
    "site-packages", "dist-packages", "node_modules", "bower_components", "vendor",
    "third_party", "third-party", "gems", ".cargo", ".rustup", ".m2", "pkg", "man",
})
_PACKAGE_PREFIXES = (
    "/usr/lib/python", "/usr/local/lib/python", "/usr/lib/go/", "/usr/lib/go-", "/usr/local/go/",
    "/usr/share/go/", "/usr/share/go-", "/usr/include/", "/usr/local/include/", "/usr/share/perl",
    "/usr/lib/x86_64-linux-gnu/perl", "/usr/lib/aarch64-linux-gnu/perl", "/usr/lib/ruby/",
    "/usr/share/ruby", "/usr/lib/jvm/", "/opt/java/", "/usr/share/java/", "/usr/share/php/",
    "/usr/local/lib/php/", "/usr/share/nodejs/", "/usr/lib/node_modules/", "/usr/share/vim/",
    "/usr/share/emacs/", "/usr/lib/llvm", "/usr/share/javascript/",
)


def is_package_path(path: str) -> bool:
    if path.startswith(_PACKAGE_PREFIXES):
        return True
    return any(p in _PACKAGE_SEGMENTS for p in path.split("/")[:-1])


# Whole values that are placeholders (compared lowercased, quotes stripped).
_PLACEHOLDER_WORDS = frozenset({
    "", "changeme", "change_me", "change-me", "changeit", "password", "passwd", "secret",
    "token", "none", "null", "nil", "undefined", "empty", "false", "true", "yes", "no",
    "default", "example", "sample", "placeholder", "dummy", "test", "testing", "redacted",
    "hidden", "masked", "unset", "required", "optional", "string", "value", "foo", "bar",
    "foobar", "admin", "root", "user", "username", "guest", "anonymous", "pass", "pwd",
    "secretpassword", "mypassword", "yourpassword", "notasecret", "apikey", "api_key",
    "todo", "fixme", "tbd", "n/a", "na", "insert", "replace", "xxx",
})
# Substrings that mark a placeholder or a templated value.
_PLACEHOLDER_PARTS = (
    "example", "changeme", "change_me", "change-me", "placeholder", "dummy", "sample",
    "your_", "your-", "yourpass", "yourtoken", "yoursecret", "xxxx", "****", "....", "<", ">",
    "${", "{{", "}}", "$(", "%(", "%s", "#{", "redacted", "fake", "mock", "notreal",
    "not-a-real", "not_a_real", "insert", "replace", "secret_here", "token_here",
    "password_here", "key_here", "...", "…", "abcdef", "123456", "qwerty",
)
_TEMPLATE = re.compile(r"\A(?:\$\w+|\$\{[^}]*\}?|%\w+%|@\w+@|__\w+__|\[\w+\]|\(\w+\))\Z")


def is_placeholder(value: str) -> bool:
    v = value.strip().strip("\"'`").lower()
    if v in _PLACEHOLDER_WORDS or _TEMPLATE.match(v):
        return True
    if len(set(v)) <= 2:  # xxxxxxxx, ********, 00000000, abababab
        return True
    return any(p in v for p in _PLACEHOLDER_PARTS)


_CREDENTIAL_WORDS = ("password", "passwd", "pass", "secret", "token", "apikey", "api_key",
                     "credential", "private")


def names_a_credential(value: str) -> bool:
    """A value that says what it is (`my-secret-name`, `withCredentials`) is a name."""
    low = value.lower()
    return any(w in low for w in _CREDENTIAL_WORDS)


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    if not value:
        return 0.0
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def char_classes(value: str) -> int:
    return sum((any(c.islower() for c in value), any(c.isupper() for c in value),
                any(c.isdigit() for c in value), any(not c.isalnum() for c in value)))


def looks_random(value: str, min_entropy: float = 3.0) -> bool:
    """A value that could be a generated credential rather than a word or a name."""
    return entropy(value) >= min_entropy and char_classes(value) >= 2


_HEX = re.compile(r"\A[0-9a-fA-F]+\Z")


def is_hex_digest(value: str) -> bool:
    """Checksums and key fingerprints (32/40/56/64/96/128 hex digits) are public."""
    return len(value) in (32, 40, 56, 64, 96, 128) and bool(_HEX.match(value))


# Hosts of documentation URLs (RFC 2606/6761 names and the usual suspects).
_EXAMPLE_HOST = re.compile(
    r"(?:\A|\.)(?:example\.(?:com|org|net)|example|invalid|test|localhost\.localdomain"
    r"|your[-_]?\w*|host|hostname|server|domain|mydomain\.\w+|myhost|foo|bar)\Z",
    re.I,
)


def is_example_host(host: str) -> bool:
    return bool(_EXAMPLE_HOST.search(host.split(":", 1)[0].rstrip(".")))
