"""`lashing watch` settings from `lashing.toml` (`--config FILE`): expected
exceptions in `[watch]`, and the provenance policy in `[policy]`.

    [[watch.exceptions]]
    container = "ci-runner-*"      # glob over the container name
    rule = "LSH-RUN-001"           # a rule id or any of its aliases (cis-docker-1.6:5.5)
    reason = "the CI runner builds images with a privileged Docker-in-Docker"  # required
    expires = 2027-06-30           # optional: after that day the exception stops applying
    image = "registry.lan/ci/*"    # optional glob over the image reference

`container` or `image` is required (`*` alone means every container). A
finding that an exception covers is still emitted, with
`"suppressed": {"kind": "ignore-file", "reason": ...}` (the exception lives in
a configuration file, like `[ignore]`), and never counts for `--fail-on`.
Unknown keys are errors that suggest the nearest valid key.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from lashing.config import SECTIONS, check_keys, get_str, get_table, read_toml
from lashing.errors import InputError
from lashing.model import Suppression, SuppressionKind
from lashing.rules import find_rule
from lashing.rules.framework import Rule
from lashing.trust.policy import Policy, policy_from_mapping

WATCH_KEYS = ("exceptions",)
EXCEPTION_KEYS = ("container", "image", "rule", "reason", "expires")


@dataclass(frozen=True)
class WatchException:
    rule: str
    reason: str
    container: str | None = None
    image: str | None = None
    expires: date | None = None

    def covers(self, r: Rule[Any], container: str, image: str, today: date) -> bool:
        if self.expires is not None and today > self.expires:
            return False
        if not r.matches(self.rule):
            return False
        if self.container is not None and not fnmatch.fnmatchcase(container, self.container):
            return False
        return self.image is None or fnmatch.fnmatchcase(image, self.image)


@dataclass(frozen=True)
class WatchConfig:
    exceptions: tuple[WatchException, ...] = ()
    policy: Policy | None = None
    source: str = ""

    def suppression(self, r: Rule[Any], container: str, image: str,
                    today: date) -> Suppression | None:
        for e in self.exceptions:
            if e.covers(r, container, image, today):
                return Suppression(SuppressionKind.IGNORE_FILE, e.reason,
                                   e.expires.isoformat() if e.expires else None)
        return None


def _date(value: object, path: Path, where: str) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InputError(f"{path}: {where}: expires must be a date (2027-01-31), not {value!r}")


def _exception(entry: Any, path: Path, n: int) -> WatchException:
    where = f"watch.exceptions[{n}]"
    if not isinstance(entry, dict):
        raise InputError(f"{path}: {where}: expected a table ([[watch.exceptions]])")
    check_keys(entry, EXCEPTION_KEYS, path, where)
    rule = get_str(entry, "rule", path, where, required=True)
    reason = get_str(entry, "reason", path, where, required=True)
    container = get_str(entry, "container", path, where)
    image = get_str(entry, "image", path, where)
    if container is None and image is None:
        raise InputError(f"{path}: {where}: name a 'container' glob or an 'image' glob",
                         "container = \"*\" applies the exception to every container")
    if rule is None or find_rule(rule) is None:
        raise InputError(f"{path}: {where}: rule {rule!r} is not a lashing rule id or alias",
                         "see `lashing rules` for the LSH-RUN rules")
    expires = _date(entry["expires"], path, where) if "expires" in entry else None
    assert reason is not None
    return WatchException(rule, reason, container, image, expires)


def load_watch_config(path: Path) -> WatchConfig:
    """`[watch]` and `[policy]` of a lashing.toml; every problem is an InputError."""
    doc = read_toml(path, "--config")
    check_keys(doc, SECTIONS, path)
    table = get_table(doc, "watch", path) or {}
    check_keys(table, WATCH_KEYS, path, "watch")
    entries = table.get("exceptions", [])
    if not isinstance(entries, list):
        raise InputError(f"{path}: watch.exceptions: expected an array of tables "
                         "([[watch.exceptions]])")
    exceptions = tuple(_exception(e, path, i) for i, e in enumerate(entries, 1))
    policy_table = get_table(doc, "policy", path)
    policy = policy_from_mapping(policy_table, path) if policy_table is not None else None
    return WatchConfig(exceptions, policy, str(path))


def load_policy_file(path: Path) -> Policy:
    """`--policy FILE`: the `[policy]` section of a lashing.toml-style file."""
    doc = read_toml(path, "--policy")
    check_keys(doc, SECTIONS, path)
    table = get_table(doc, "policy", path)
    if table is None:
        raise InputError(f"--policy {path}: no [policy] section",
                         "see the policy example in the README")
    return policy_from_mapping(table, path)
