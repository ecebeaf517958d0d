"""Operating system detection from a FileTree: family, version, the exact OSV
ecosystem string, and whether OSV covers that release today."""

from __future__ import annotations

import re
import shlex
from datetime import date

from lashing.fs.tree import FileTree
from lashing.model import Issue, Location, OSInfo

OS_FILES = (
    "/etc/os-release",
    "/usr/lib/os-release",
    "/etc/alpine-release",
    "/etc/debian_version",
    "/etc/redhat-release",
)

# End of all security support (including LTS programmes that OSV feeds cover).
# A point release follows its major release ("9.4" ends with "9"); a release
# not listed is end-of-life when it is older than every listed release that is
# still supported.
END_OF_LIFE: dict[str, dict[str, date]] = {
    "debian": {
        "8": date(2020, 6, 30), "9": date(2022, 6, 30), "10": date(2024, 6, 30),
        "11": date(2026, 8, 31), "12": date(2028, 6, 30), "13": date(2030, 6, 30),
    },
    "ubuntu": {
        "14.04": date(2019, 4, 30), "16.04": date(2021, 4, 30), "18.04": date(2023, 5, 31),
        "20.04": date(2025, 5, 29), "22.04": date(2027, 6, 1), "22.10": date(2023, 7, 20),
        "23.04": date(2024, 1, 25), "23.10": date(2024, 7, 11), "24.04": date(2029, 5, 31),
        "24.10": date(2025, 7, 10), "25.04": date(2026, 1, 15), "25.10": date(2026, 7, 9),
        "26.04": date(2031, 5, 31),
        # interim releases before 22.10, all past their nine months
        "14.10": date(2015, 7, 23), "15.04": date(2016, 2, 4), "15.10": date(2016, 7, 28),
        "16.10": date(2017, 7, 20), "17.04": date(2018, 1, 13), "17.10": date(2018, 7, 19),
        "18.10": date(2019, 7, 18), "19.04": date(2020, 1, 23), "19.10": date(2020, 7, 17),
        "20.10": date(2021, 7, 22), "21.04": date(2022, 1, 20), "21.10": date(2022, 7, 14),
    },
    "alpine": {
        "3.15": date(2023, 11, 1), "3.16": date(2024, 5, 23), "3.17": date(2024, 11, 22),
        "3.18": date(2025, 5, 9), "3.19": date(2025, 11, 1), "3.20": date(2026, 4, 1),
        "3.21": date(2026, 11, 1), "3.22": date(2027, 5, 1), "3.23": date(2027, 11, 1),
    },
    "almalinux": {"8": date(2029, 5, 31), "9": date(2032, 5, 31), "10": date(2035, 5, 31)},
    "rocky": {"8": date(2029, 5, 31), "9": date(2032, 5, 31), "10": date(2035, 5, 31)},
}


def parse_os_release(text: str) -> dict[str, str]:
    """KEY=value lines with shell quoting, as os-release(5) defines them."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        try:
            parts = shlex.split(value)
        except ValueError:
            parts = [value.strip("\"'")]
        fields[key.strip()] = parts[0] if parts else ""
    return fields


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version))


def _end_of_life(family: str, version: str, today: date) -> bool:
    table = END_OF_LIFE.get(family)
    if not table:
        return False
    for key in (version, version.split(".")[0]):  # "9.4" is covered as "9"
        if key in table:
            return table[key] < today
    alive = [v for v, end in table.items() if end >= today]
    bound = min(alive, key=_version_key) if alive else max(table, key=_version_key)
    return bool(_version_key(version)) and _version_key(version) < _version_key(bound)


def _ecosystem(family: str, version: str, fields: dict[str, str]) -> str | None:
    major = version.split(".")[0]
    if family == "debian" and major.isdigit():
        return f"Debian:{major}"
    if family == "ubuntu" and re.fullmatch(r"\d+\.\d+", version):
        lts = "LTS" in fields.get("VERSION", "") or "LTS" in fields.get("PRETTY_NAME", "")
        return f"Ubuntu:{version}:LTS" if lts else f"Ubuntu:{version}"
    if family == "alpine" and re.fullmatch(r"\d+\.\d+", version):
        return f"Alpine:v{version}"
    simple = {"almalinux": "AlmaLinux", "rocky": "Rocky Linux", "mageia": "Mageia",
              "photon": "Photon OS", "azurelinux": "Azure Linux", "openeuler": "openEuler"}
    if family in simple and version:
        return f"{simple[family]}:{version if family in ('photon', 'openeuler') else major}"
    if family in ("wolfi", "chainguard", "minimos"):
        return {"wolfi": "Wolfi", "chainguard": "Chainguard", "minimos": "MinimOS"}[family]
    if family in ("opensuse-leap", "opensuse-tumbleweed", "opensuse") and fields.get("PRETTY_NAME"):
        return f"openSUSE:{fields['PRETTY_NAME']}"
    if family in ("sles", "sle-micro") and fields.get("PRETTY_NAME"):
        return f"SUSE:{fields['PRETTY_NAME']}"
    return None


def _read(tree: FileTree, path: str) -> str | None:
    try:
        return tree.read(path).decode("utf-8", "replace")
    except KeyError:
        return None


def detect_os(tree: FileTree, today: date | None = None) -> tuple[OSInfo | None, list[Issue]]:
    """Detect the OS of a tree; an uncovered release comes with an Issue."""
    fields: dict[str, str] = {}
    source = "/etc/os-release"
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        text = _read(tree, path)
        if text is not None:
            fields = parse_os_release(text)
            source = path
            break
    if not fields.get("ID"):
        family, version, name, source = _fallback(tree)
        fields = {"ID": family, "VERSION_ID": version, "PRETTY_NAME": name}
    if fields.get("ID", "").lower() == "debian" and not fields.get("VERSION_ID"):
        deb = (_read(tree, "/etc/debian_version") or "").strip()
        fields["VERSION_ID"] = deb.split(".")[0] if deb[:1].isdigit() else deb
    return detect_os_fields(fields, today, source)


def detect_os_fields(fields: dict[str, str], today: date | None = None,
                     source: str = "/etc/os-release") -> tuple[OSInfo | None, list[Issue]]:
    """OS facts from os-release fields (also used for SBOM operating-system entries)."""
    today = today or date.today()
    family = fields.get("ID", "").lower()
    version = fields.get("VERSION_ID", "")
    name = fields.get("PRETTY_NAME", "")
    if not family:
        return None, []
    if family == "alpine":
        version = ".".join(version.split(".")[:2])
    if family == "debian":
        version = version.split(".")[0]
    ecosystem = _ecosystem(family, version, fields)
    eol = _end_of_life(family, version, today)
    supported = ecosystem is not None and not eol
    info = OSInfo(family=family, version=version, ecosystem=ecosystem, supported=supported,
                  name=name or f"{family} {version}".strip())
    issues = []
    if not supported:
        why = ("is end-of-life" if eol else
               "has no vulnerability feed in OSV" if ecosystem is None else "is not covered")
        issues.append(Issue(
            stage="os", plugin="os-release", location=Location(path=source),
            message=f"{info.name} {why}: its OS packages are not checked for vulnerabilities"))
    return info, issues


def _fallback(tree: FileTree) -> tuple[str, str, str, str]:
    """(family, version, name, the file they came from) without os-release."""
    alpine = _read(tree, "/etc/alpine-release")
    if alpine:
        return "alpine", alpine.strip(), f"Alpine Linux {alpine.strip()}", "/etc/alpine-release"
    redhat = _read(tree, "/etc/redhat-release")
    if redhat:
        m = re.match(r"(\w+).*?release\s+([\d.]+)", redhat)
        if m:
            fam = {"Red": "rhel", "CentOS": "centos", "Fedora": "fedora", "Rocky": "rocky",
                   "AlmaLinux": "almalinux"}.get(m.group(1), m.group(1).lower())
            return fam, m.group(2).split(".")[0], redhat.strip(), "/etc/redhat-release"
    deb = _read(tree, "/etc/debian_version")
    if deb:
        v = deb.strip()
        return ("debian", v.split(".")[0] if v[:1].isdigit() else v, f"Debian {v}",
                "/etc/debian_version")
    return "", "", "", ""
