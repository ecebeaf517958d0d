"""Operating system detection: os-release samples of real releases, the
fallback files, end-of-life dates, and OSV's exact ecosystem strings."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import pytest

from lashing.fs import FileTree, tree_from_directory, tree_from_image, want_globs
from lashing.model import OSInfo
from lashing.options import SourceOptions
from lashing.osinfo import OS_FILES, detect_os, parse_os_release
from lashing.pipeline import scan
from lashing.progress import NullProgress
from lashing.source.open import open_image
from lashing.source.resolve import resolve

from imagebuilder import F, build, write_oci_layout

TODAY = date(2025, 1, 15)  # every "supported" below is as of this day
ECOSYSTEMS = Path(__file__).resolve().parents[1].parent / "shared/data/osv-schema/ecosystems.json"

DEBIAN_12 = """\
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
"""
DEBIAN_11 = """\
PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"
NAME="Debian GNU/Linux"
VERSION_ID="11"
VERSION="11 (bullseye)"
VERSION_CODENAME=bullseye
ID=debian
"""
DEBIAN_SID = """\
PRETTY_NAME="Debian GNU/Linux trixie/sid"
NAME="Debian GNU/Linux"
VERSION_CODENAME=trixie
ID=debian
"""
UBUNTU_2204 = """\
PRETTY_NAME="Ubuntu 22.04.4 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION="22.04.4 LTS (Jammy Jellyfish)"
VERSION_CODENAME=jammy
ID=ubuntu
ID_LIKE=debian
UBUNTU_CODENAME=jammy
"""
UBUNTU_2310 = """\
PRETTY_NAME="Ubuntu 23.10"
NAME="Ubuntu"
VERSION_ID="23.10"
VERSION="23.10 (Mantic Minotaur)"
VERSION_CODENAME=mantic
ID=ubuntu
ID_LIKE=debian
"""
UBUNTU_2104 = UBUNTU_2310.replace("23.10", "21.04").replace("Mantic Minotaur", "Hirsute Hippo")
ALPINE_3203 = """\
NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.20.3
PRETTY_NAME="Alpine Linux v3.20"
HOME_URL="https://alpinelinux.org/"
BUG_REPORT_URL="https://gitlab.alpinelinux.org/alpine/aports/-/issues"
"""
ALMA_94 = """\
NAME="AlmaLinux"
VERSION="9.4 (Seafoam Ocelot)"
ID="almalinux"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.4"
PLATFORM_ID="platform:el9"
PRETTY_NAME="AlmaLinux 9.4 (Seafoam Ocelot)"
ANSI_COLOR="0;34"
CPE_NAME="cpe:/o:almalinux:almalinux:9::baseos"
"""
ALMA_810 = ALMA_94.replace("9.4", "8.10").replace("el9", "el8").replace(
    "Seafoam Ocelot", "Cerulean Leopard")
ROCKY_93 = """\
NAME="Rocky Linux"
VERSION="9.3 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.3"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"
"""
CENTOS_7_OS_RELEASE = """\
NAME="CentOS Linux"
VERSION="7 (Core)"
ID="centos"
ID_LIKE="rhel fedora"
VERSION_ID="7"
PRETTY_NAME="CentOS Linux 7 (Core)"
"""
CENTOS_7_RELEASE = "CentOS Linux release 7.9.2009 (Core)\n"

WANT = want_globs(*OS_FILES)


def dir_tree(root: Path, files: Mapping[str, str]) -> FileTree:
    """A tree of a host directory holding `files` (paths relative to the root)."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tree_from_directory(root, WANT)


def detect(root: Path, files: Mapping[str, str],
           today: date = TODAY) -> tuple[OSInfo | None, list[str], list[str | None]]:
    """(os, issue messages, issue paths) of a directory holding `files`."""
    with dir_tree(root, files) as tree:
        info, issues = detect_os(tree, today)
    return info, [i.message for i in issues], [i.location.path for i in issues]


def known_ecosystems() -> set[str]:
    if not ECOSYSTEMS.is_file():
        pytest.skip(f"{ECOSYSTEMS} is absent: ../shared/data is not checked out")
    return set(json.loads(ECOSYSTEMS.read_text()))


# -- os-release samples ---------------------------------------------------------

CASES = [
    # (id, files, family, version, ecosystem, supported)
    ("debian-12", {"etc/os-release": DEBIAN_12}, "debian", "12", "Debian:12", True),
    ("ubuntu-22.04", {"etc/os-release": UBUNTU_2204}, "ubuntu", "22.04",
     "Ubuntu:22.04:LTS", True),
    ("ubuntu-23.10", {"etc/os-release": UBUNTU_2310}, "ubuntu", "23.10", "Ubuntu:23.10", False),
    ("alpine-3.20.3", {"etc/os-release": ALPINE_3203}, "alpine", "3.20", "Alpine:v3.20", True),
    ("almalinux-9.4", {"etc/os-release": ALMA_94}, "almalinux", "9.4", "AlmaLinux:9", True),
    ("rocky-9.3", {"etc/os-release": ROCKY_93}, "rocky", "9.3", "Rocky Linux:9", True),
    ("usr-lib-only", {"usr/lib/os-release": DEBIAN_12}, "debian", "12", "Debian:12", True),
    ("distroless-debian", {"etc/debian_version": "12.5\n"}, "debian", "12", "Debian:12", True),
    ("alpine-release-only", {"etc/alpine-release": "3.20.3\n"}, "alpine", "3.20",
     "Alpine:v3.20", True),
]


@pytest.mark.parametrize(("files", "family", "version", "ecosystem", "supported"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_detects_release(tmp_path: Path, files: Mapping[str, str], family: str, version: str,
                         ecosystem: str, supported: bool) -> None:
    info, messages, _ = detect(tmp_path, files)
    assert info is not None
    assert (info.family, info.version, info.ecosystem, info.supported) == (
        family, version, ecosystem, supported)
    assert info.name
    # an uncovered release always comes with an Issue; a covered one never
    assert bool(messages) is not supported


@pytest.mark.parametrize("ecosystem", sorted({str(c[4]) for c in CASES}))
def test_ecosystem_strings_are_osv_ecosystems(ecosystem: str) -> None:
    assert ecosystem.split(":", 1)[0] in known_ecosystems()


def test_ubuntu_lts_marker_comes_from_version(tmp_path: Path) -> None:
    info, _, _ = detect(tmp_path, {"etc/os-release": UBUNTU_2204})
    assert info is not None and info.ecosystem == "Ubuntu:22.04:LTS"
    assert info.name == "Ubuntu 22.04.4 LTS"


def test_ubuntu_interim_release_while_supported(tmp_path: Path) -> None:
    info, messages, _ = detect(tmp_path, {"etc/os-release": UBUNTU_2310}, date(2024, 3, 1))
    assert info is not None and info.ecosystem == "Ubuntu:23.10" and info.supported
    assert messages == []


def test_old_ubuntu_interim_release_is_end_of_life(tmp_path: Path) -> None:
    """21.04 sits between two supported LTS releases, but ended in 2022."""
    info, messages, _ = detect(tmp_path, {"etc/os-release": UBUNTU_2104})
    assert info is not None and info.ecosystem == "Ubuntu:21.04"
    assert not info.supported
    assert any("end-of-life" in m for m in messages)


# -- end of life --------------------------------------------------------------------

def test_debian_11_supported_before_its_end_of_life(tmp_path: Path) -> None:
    info, messages, _ = detect(tmp_path, {"etc/os-release": DEBIAN_11}, date(2026, 8, 31))
    assert info is not None and info.ecosystem == "Debian:11" and info.supported
    assert messages == []


def test_debian_11_end_of_life(tmp_path: Path) -> None:
    info, messages, paths = detect(tmp_path, {"etc/os-release": DEBIAN_11}, date(2026, 9, 1))
    assert info is not None
    assert (info.ecosystem, info.supported) == ("Debian:11", False)
    assert len(messages) == 1
    assert "Debian GNU/Linux 11 (bullseye) is end-of-life" in messages[0]
    assert "not checked for vulnerabilities" in messages[0]
    assert paths == ["/etc/os-release"]


def test_release_older_than_the_table_is_end_of_life(tmp_path: Path) -> None:
    old = DEBIAN_11.replace("11", "7").replace("bullseye", "wheezy")
    info, messages, _ = detect(tmp_path, {"etc/os-release": old})
    assert info is not None and info.ecosystem == "Debian:7" and not info.supported
    assert messages


def test_point_release_uses_its_major_release_dates(tmp_path: Path) -> None:
    """AlmaLinux 8.10 ends with AlmaLinux 8, though the table lists only "8"."""
    files = {"etc/os-release": ALMA_810}
    info, _, _ = detect(tmp_path / "a", files, date(2029, 5, 31))
    assert info is not None and info.ecosystem == "AlmaLinux:8" and info.supported
    info, messages, _ = detect(tmp_path / "b", files, date(2029, 6, 1))
    assert info is not None and not info.supported
    assert any("end-of-life" in m for m in messages)


def test_unlisted_release_older_than_every_supported_one_is_end_of_life(
    tmp_path: Path,
) -> None:
    """Alpine 3.14 is not listed; every listed release it precedes ended later."""
    old = ALPINE_3203.replace("3.20.3", "3.14.10").replace("v3.20", "v3.14")
    info, messages, _ = detect(tmp_path, {"etc/os-release": old})
    assert info is not None and info.ecosystem == "Alpine:v3.14" and not info.supported
    assert messages


def test_unknown_newer_release_is_not_end_of_life(tmp_path: Path) -> None:
    newer = ALPINE_3203.replace("3.20.3", "3.99.0").replace("v3.20", "v3.99")
    info, messages, _ = detect(tmp_path, {"etc/os-release": newer})
    assert info is not None and info.ecosystem == "Alpine:v3.99" and info.supported
    assert messages == []


# -- no feed -------------------------------------------------------------------------

def test_centos_7_from_redhat_release(tmp_path: Path) -> None:
    info, messages, paths = detect(tmp_path, {"etc/redhat-release": CENTOS_7_RELEASE})
    assert info is not None
    assert (info.family, info.version, info.ecosystem, info.supported) == (
        "centos", "7", None, False)
    assert info.name == "CentOS Linux release 7.9.2009 (Core)"
    assert len(messages) == 1 and "has no vulnerability feed in OSV" in messages[0]
    assert paths == ["/etc/redhat-release"]  # the file the answer came from


def test_centos_7_from_os_release(tmp_path: Path) -> None:
    info, messages, _ = detect(tmp_path, {"etc/os-release": CENTOS_7_OS_RELEASE,
                                          "etc/redhat-release": CENTOS_7_RELEASE})
    assert info is not None
    assert (info.family, info.version, info.ecosystem, info.supported) == (
        "centos", "7", None, False)
    assert info.name == "CentOS Linux 7 (Core)"
    assert len(messages) == 1


def test_debian_testing_has_no_numbered_feed(tmp_path: Path) -> None:
    info, messages, _ = detect(tmp_path, {"etc/os-release": DEBIAN_SID,
                                          "etc/debian_version": "trixie/sid\n"})
    assert info is not None
    assert (info.family, info.version, info.ecosystem, info.supported) == (
        "debian", "trixie/sid", None, False)
    assert messages


def test_no_os(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.py").write_text("print('hi')\n")
    assert detect(tmp_path, {}) == (None, [], [])


def test_os_release_without_id_falls_back(tmp_path: Path) -> None:
    info, _, _ = detect(tmp_path, {"etc/os-release": 'NAME="Something"\n',
                                   "etc/debian_version": "12.5\n"})
    assert info is not None and info.ecosystem == "Debian:12"


# -- symlinks resolve inside the tree ------------------------------------------------

def test_os_release_symlink_in_an_image(tmp_path: Path) -> None:
    img = build([
        {"usr/lib/os-release": DEBIAN_12,
         "etc/os-release": F(kind="symlink", target="../usr/lib/os-release")},
    ])
    layout = write_oci_layout(tmp_path / "layout", [(img, "v1")])
    with open_image(resolve(f"oci:{layout}:v1"), SourceOptions(), NullProgress()) as image, \
            tree_from_image(image, WANT) as tree:
        assert tree.resolve("/etc/os-release") == "/usr/lib/os-release"
        info, issues = detect_os(tree, TODAY)
    assert info is not None and info.ecosystem == "Debian:12" and info.supported
    assert issues == []
    report = scan(resolve(f"oci:{layout}:v1"))
    os_info = report.targets[0].os
    assert os_info is not None and os_info.ecosystem == "Debian:12"


def test_os_release_symlink_changed_by_an_upper_layer(tmp_path: Path) -> None:
    """The link is followed in the merged tree: the upper layer's target wins."""
    img = build([
        {"usr/lib/os-release": DEBIAN_12,
         "etc/os-release": F(kind="symlink", target="../usr/lib/os-release")},
        {"usr/lib/os-release.alpine": ALPINE_3203,
         "etc/os-release": F(kind="symlink", target="/usr/lib/os-release.alpine")},
    ])
    layout = write_oci_layout(tmp_path / "layout", [(img, "v1")])
    want = want_globs(*OS_FILES, "/usr/lib/os-release.alpine")
    with open_image(resolve(f"oci:{layout}:v1"), SourceOptions(), NullProgress()) as image, \
            tree_from_image(image, want) as tree:
        info, _ = detect_os(tree, TODAY)
    assert info is not None and info.ecosystem == "Alpine:v3.20"


def test_absolute_os_release_symlink_in_a_directory_stays_inside(tmp_path: Path) -> None:
    """/etc/os-release -> /usr/lib/os-release names the tree's file, never the host's."""
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "usr" / "lib").mkdir(parents=True)
    (root / "usr" / "lib" / "os-release").write_text(ALPINE_3203)
    (root / "etc" / "os-release").symlink_to("/usr/lib/os-release")
    with tree_from_directory(root, WANT) as tree:
        info, _ = detect_os(tree, TODAY)
    assert info is not None and info.ecosystem == "Alpine:v3.20"


def test_dangling_os_release_symlink(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "os-release").symlink_to("../usr/lib/os-release")
    (root / "etc" / "debian_version").write_text("11.9\n")
    with tree_from_directory(root, WANT) as tree:
        info, _ = detect_os(tree, TODAY)
    assert info is not None and info.ecosystem == "Debian:11"


# -- the parser ------------------------------------------------------------------------

def test_parse_os_release_quoting() -> None:
    fields = parse_os_release(
        '# comment\n\nID=debian\nNAME="Debian GNU/Linux"\nPRETTY_NAME=\'Single quoted\'\n'
        'VERSION="12 \\"bookworm\\""\nEMPTY=\nnot a field\n')
    assert fields == {"ID": "debian", "NAME": "Debian GNU/Linux",
                      "PRETTY_NAME": "Single quoted", "VERSION": '12 "bookworm"', "EMPTY": ""}
