"""CI runners on the build host: GitLab Runner, GitHub Actions runner services,
Jenkins agents."""

from __future__ import annotations

from collections.abc import Iterator

from lashing.host.subject import HostSubject as H
from lashing.model import Severity, Surface
from lashing.rules.framework import Example, NotApplicable, Violation, rule
from lashing.rules.host.spec import F, docker, host

TAG = ("ci",)
B = Surface.BUILD_HOST
GITLAB = "/etc/gitlab-runner/config.toml"
UNITS = "/etc/systemd/system"
SOCKETS = ("/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock",
           "/run/podman/podman.sock")


def _gitlab(s: H) -> list[dict[str, object]]:
    data = s.toml(GITLAB)
    if data is None:
        raise NotApplicable("no GitLab Runner configuration")
    runners = data.get("runners") or []
    return [r for r in runners if isinstance(r, dict)]


def _docker_section(r: dict[str, object]) -> dict[str, object]:
    d = r.get("docker")
    return d if isinstance(d, dict) else {}


@rule(
    id="LSH-HOST-070", title="GitLab Runner runs jobs in privileged containers",
    severity=Severity.HIGH, surface=B, nist=("4.4.3", "4.5.2"), tags=TAG,
    references=("https://docs.gitlab.com/runner/security/",),
    remediation="Set privileged = false; build images with rootless BuildKit, kaniko or "
    "buildah instead of docker-in-docker.",
    examples=(
        Example(host(F(GITLAB, '[[runners]]\nname = "build"\nexecutor = "docker"\n'
                       "[runners.docker]\nprivileged = true\n")), True),
        Example(host(F(GITLAB, '[[runners]]\nname = "build"\nexecutor = "docker"\n'
                       "[runners.docker]\nprivileged = false\n")), False),
    ),
)
def gitlab_privileged(s: H) -> Iterator[Violation]:
    """Any project's job then controls the host."""
    for r in _gitlab(s):
        if _docker_section(r).get("privileged") is True:
            name = str(r.get("name") or "?")
            yield s.violation(GITLAB, f"runner {name} runs jobs privileged", name)


@rule(
    id="LSH-HOST-071", title="GitLab Runner mounts the container engine socket into jobs",
    severity=Severity.HIGH, surface=B, nist=("4.5.4", "4.4.3"), tags=TAG,
    references=("https://docs.gitlab.com/runner/security/",),
    remediation="Remove the docker.sock volume; use rootless builders or a dedicated, "
    "isolated build VM.",
    examples=(
        Example(host(F(GITLAB, '[[runners]]\nname = "b"\n[runners.docker]\nvolumes = '
                       '["/var/run/docker.sock:/var/run/docker.sock", "/cache"]\n')), True),
        Example(host(F(GITLAB, '[[runners]]\nname = "b"\n[runners.docker]\nvolumes = '
                       '["/cache"]\n')), False),
    ),
)
def gitlab_socket(s: H) -> Iterator[Violation]:
    """A job with the socket starts a privileged container with / mounted."""
    for r in _gitlab(s):
        vols = _docker_section(r).get("volumes") or []
        for v in vols if isinstance(vols, list) else []:
            if str(v).split(":", 1)[0] in SOCKETS:
                name = str(r.get("name") or "?")
                yield s.violation(GITLAB, f"runner {name} mounts {v}", f"{name}:{v}")


def _actions_units(s: H) -> list[str]:
    return s.glob(UNITS, "actions.runner.*.service")


@rule(
    id="LSH-HOST-072", title="GitHub Actions runner runs as root or in the docker group",
    severity=Severity.HIGH, surface=B, nist=("4.5.4",), tags=TAG,
    references=("https://docs.github.com/en/actions/hosting-your-own-runners",),
    remediation="Run the runner service as a dedicated unprivileged user that is not in the "
    "docker group; prefer ephemeral runners in VMs.",
    examples=(
        Example(docker(F(f"{UNITS}/actions.runner.org-repo.host.service",
                         "[Service]\nExecStart=/home/gh/runsvc.sh\n")), True),
        Example(docker(F(f"{UNITS}/actions.runner.org-repo.host.service",
                         "[Service]\nExecStart=/home/gh/runsvc.sh\nUser=gh\n"),
                       F("/etc/group", "root:x:0:\ndocker:x:999:gh\n")), True, "docker group"),
        Example(docker(F(f"{UNITS}/actions.runner.org-repo.host.service",
                         "[Service]\nExecStart=/home/gh/runsvc.sh\nUser=gh\n")), False),
    ),
)
def actions_runner(s: H) -> Iterator[Violation]:
    """Workflows of every repository the runner serves run with its rights."""
    units = _actions_units(s)
    if not units:
        raise NotApplicable("no GitHub Actions runner service")
    for path in units:
        unit = s.unit(path.rsplit("/", 1)[1])
        users = unit.values("Service.User") if unit else []
        user = users[-1] if users else "root"
        if user in ("root", "0"):
            yield s.violation(path, "the runner service runs as root", "User")
        elif s.docker_installed and user in s.group_members("docker"):
            yield s.violation(path, f"the runner user {user} is in the docker group "
                              "(root-equivalent)", "docker-group")


@rule(
    id="LSH-HOST-073", title="Jenkins agent user is in the docker group",
    severity=Severity.HIGH, surface=B, nist=("4.5.4",), tags=TAG,
    remediation="Take the jenkins user out of the docker group; build with rootless tools "
    "or on ephemeral agents.",
    examples=(
        Example(docker(F("/etc/passwd", "root:x:0:0::/root:/bin/sh\n"
                         "jenkins:x:110:110::/var/lib/jenkins:/bin/sh\n"),
                       F("/etc/group", "docker:x:999:jenkins\n")), True),
        Example(docker(F("/etc/passwd", "root:x:0:0::/root:/bin/sh\n"
                         "jenkins:x:110:110::/var/lib/jenkins:/bin/sh\n")), False),
    ),
)
def jenkins(s: H) -> Iterator[Violation]:
    """Every pipeline of every job then has root on the agent."""
    s.need_docker()
    agents = [u for u in s.users if u == "jenkins" or u.startswith("jenkins")]
    if not agents and not s.exists("/var/lib/jenkins"):
        raise NotApplicable("no Jenkins user")
    in_group = [u for u in agents if u in s.group_members("docker")]
    if in_group:
        yield s.violation("/etc/group", "Jenkins user(s) in group docker: "
                          + ", ".join(in_group), "docker")


RULES = (gitlab_privileged, gitlab_socket, actions_runner, jenkins)
