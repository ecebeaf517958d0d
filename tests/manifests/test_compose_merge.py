"""Compose's merge rules beyond mappings and lists: `!reset`, `!override`, the
unique keys of ports/volumes/secrets/configs, string-or-list and list-or-map
attributes."""

from __future__ import annotations

from pathlib import Path

from lashing.manifests.compose import ComposeProject, load_compose, load_compose_text
from lashing.manifests.scan import scan_manifest_file
from lashing.manifests.yaml import load_all


def _project(tmp_path: Path, base: str, over: str) -> ComposeProject:
    a = tmp_path / "compose.yaml"
    a.write_text(base)
    b = tmp_path / "compose.override.yaml"
    b.write_text(over)
    project = load_compose([a, b], env={})
    assert not project.errors and not project.problems
    return project


def test_yaml_keeps_merge_tags_and_reads_the_value_untagged() -> None:
    docs, _, error = load_all("a:\n  p: !reset []\n  q: !override true\n  r: !reset\n"
                              "  s: !override {x: 1}\n  t: !custom 5\n  u: 5\n", "t.yaml")
    assert error is None
    a = docs[0]["a"]
    assert a == {"p": [], "q": True, "r": None, "s": {"x": 1}, "t": "5", "u": 5}
    assert a.key_tags == {"p": "!reset", "q": "!override", "r": "!reset", "s": "!override"}


def test_reset_removes_values(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        "services:\n  app:\n    image: myapp:1\n    ports: ['8080:80']\n"
        "    environment: {FOO: BAR, KEEP: 1}\n    cap_add: [NET_ADMIN]\n",
        "services:\n  app:\n    ports: !reset []\n    environment:\n      FOO: !reset null\n"
        "    cap_add: !reset\n")
    app = project.services["app"]
    assert "ports" not in app.data and "cap_add" not in app.data
    assert app.get("environment") == {"KEEP": 1}


def test_reset_in_a_single_file_and_through_extends() -> None:
    project = load_compose_text(
        "services:\n  base:\n    image: x:1\n    privileged: true\n    ports: ['80:80']\n"
        "  app:\n    extends: base\n    privileged: !reset false\n    ports: !reset []\n", "c.yaml")
    assert not project.errors
    assert project.services["app"].data == {"image": "x:1"}
    assert project.services["base"].get("privileged") is True


def test_override_replaces_instead_of_merging(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        "services:\n  app:\n    image: myapp:1\n    ports: ['8080:80']\n"
        "    environment: {A: 1, B: 2}\n",
        "services:\n  app:\n    ports: !override\n      - '8443:443'\n"
        "    environment: !override {C: 3}\n")
    app = project.services["app"]
    assert app.get("ports") == ["8443:443"]
    assert app.get("environment") == {"C": 3}
    assert app.data.source_of("ports") == str(tmp_path / "compose.override.yaml")


def test_override_from_an_override_file_is_what_rules_see(tmp_path: Path) -> None:
    base = tmp_path / "compose.yaml"
    base.write_text("services:\n  app:\n    image: myapp:1\n    ports: ['8080:80']\n")
    over = tmp_path / "compose.override.yaml"
    over.write_text("services:\n  app:\n    ports: !override ['127.0.0.1:8443:443']\n")
    findings, _, issues = scan_manifest_file(str(base), base.read_bytes(), env={})
    assert not issues
    assert not [f for f in findings if f.rule_id == "LSH-CMP-020"]  # all-interfaces port gone
    over.write_text("services:\n  app:\n    ports: ['127.0.0.1:8443:443']\n")
    findings, _, _ = scan_manifest_file(str(base), base.read_bytes(), env={})
    assert [f for f in findings if f.rule_id == "LSH-CMP-020"]


def test_unique_keys_of_ports_volumes_secrets_configs(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        "services:\n  app:\n    image: x:1\n"
        "    ports: ['8080:80', '9090:90/udp', '[::1]:7070:70', 53]\n"
        "    volumes: ['foo:/work', '/srv/logs:/logs', {type: bind, source: /a, target: /cfg}]\n"
        "    secrets: [token, {source: key, target: /run/secrets/api}]\n"
        "    configs: [app_conf]\n    expose: [3306, '33060/tcp']\n",
        "services:\n  app:\n"
        "    ports: [{target: 80, published: '8080', protocol: tcp, mode: host},"
        " '9090:90', '[::1]:7070:70', '53']\n"
        "    volumes: ['bar:/work', {type: bind, source: /b, target: /cfg, read_only: true}]\n"
        "    secrets: [{source: token2, target: token}, api]\n"
        "    configs: [{source: other, target: /app_conf}]\n"
        "    expose: ['3306/tcp', 33060, 9000/udp]\n")
    app = project.services["app"]
    assert app.get("ports") == [
        {"target": 80, "published": "8080", "protocol": "tcp", "mode": "host"},
        "9090:90/udp", "[::1]:7070:70", "53", "9090:90"]
    assert app.get("volumes") == [
        "bar:/work", "/srv/logs:/logs",
        {"type": "bind", "source": "/b", "target": "/cfg", "read_only": True}]
    assert app.get("secrets") == [{"source": "token2", "target": "token"}, "api"]
    assert app.get("configs") == [{"source": "other", "target": "/app_conf"}]
    assert app.get("expose") == ["3306/tcp", 33060, "9000/udp"]


def test_string_or_list_and_list_or_map_attributes(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        "services:\n  app:\n    image: x:1\n    dns: 1.1.1.1\n    dns_search: [a.example]\n"
        "    depends_on: [db]\n    networks: [front]\n  db: {image: y:1}\n",
        "services:\n  app:\n    dns: [8.8.8.8, 1.1.1.1]\n    dns_search: b.example\n"
        "    depends_on: {cache: {condition: service_healthy}}\n"
        "    networks: {back: {aliases: [api]}}\n  cache: {image: z:1}\n")
    app = project.services["app"]
    assert app.get("dns") == ["1.1.1.1", "8.8.8.8"]
    assert app.get("dns_search") == ["a.example", "b.example"]
    assert app.get("depends_on") == {"db": None, "cache": {"condition": "service_healthy"}}
    assert app.get("networks") == {"front": None, "back": {"aliases": ["api"]}}


def test_plain_lists_still_append_and_commands_are_replaced(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        "services:\n  app:\n    image: x:1\n    cap_add: [NET_ADMIN]\n    command: [a, b]\n",
        "services:\n  app:\n    cap_add: [SYS_TIME, NET_ADMIN]\n    command: [c]\n")
    app = project.services["app"]
    assert app.get("cap_add") == ["NET_ADMIN", "SYS_TIME"]
    assert app.get("command") == ["c"]


def test_extends_from_another_directory_rebases_relative_paths(tmp_path: Path) -> None:
    (tmp_path / "common" / "deep").mkdir(parents=True)
    (tmp_path / "common" / "deep" / "root.yaml").write_text(
        "services:\n  root:\n    image: x:1\n    volumes: ['./cache:/cache']\n")
    (tmp_path / "common" / "base.yaml").write_text(
        "services:\n  base:\n    extends: {file: deep/root.yaml, service: root}\n"
        "    build: {context: ./app, dockerfile: Dockerfile}\n    env_file: [.env.common]\n"
        "    volumes: ['./data:/data', 'named:/named', '/srv:/srv',"
        " {type: bind, source: ../logs, target: /logs}]\n")
    main = tmp_path / "compose.yaml"
    main.write_text("services:\n  web:\n    extends: {file: common/base.yaml, service: base}\n"
                    "    volumes: ['./own:/own']\n")
    project = load_compose([main], env={})
    assert not project.errors
    web = project.services["web"]
    assert web.get("build") == {"context": "./common/app", "dockerfile": "Dockerfile"}
    assert web.get("env_file") == ["./common/.env.common"]
    assert web.get("volumes") == [
        "./common/deep/cache:/cache", "./common/data:/data", "named:/named", "/srv:/srv",
        {"type": "bind", "source": "./logs", "target": "/logs"}, "./own:/own"]
    same_dir = load_compose_text("services:\n  a:\n    image: x:1\n    volumes: ['./d:/d']\n"
                                 "  b:\n    extends: a\n", "c.yaml")
    assert same_dir.services["b"].get("volumes") == ["./d:/d"]


def test_reset_removes_a_whole_service(tmp_path: Path) -> None:
    project = _project(tmp_path, "services:\n  app: {image: x:1}\n  debug: {image: y:1}\n",
                       "services:\n  debug: !reset {}\n")
    assert list(project.services) == ["app"]
    single = load_compose_text("services:\n  app: {image: x:1}\n  gone: !reset {}\n"
                               "networks: !reset {}\n", "c.yaml")
    assert list(single.services) == ["app"] and not single.errors
