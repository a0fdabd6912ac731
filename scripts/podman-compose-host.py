#!/usr/bin/env python3
# podman-compose 1.0.3 (Debian 12's) with two fixes for compose.yaml on this machine kind:
#
# 1. A service with `network_mode` gets no project network. 1.0.3 creates a bridge network
#    "<project>_default" and adds `--net` to every service, which podman refuses together with
#    `--network host` ("cannot set multiple networks without bridge network mode"); the lab uses
#    host networking only, never a bridge network.
# 2. `depends_on` conditions are honoured. 1.0.3 reads depends_on only for the start order (its
#    flat_deps() keeps the keys of the long form and drops `condition`), so a dependant starts at
#    once; later podman-compose versions wait, but through podman's own healthcheck schedule, which
#    podman 4.3 keeps in systemd timers ("unable to get systemd connection to add healthchecks"
#    here, no systemd), and `podman wait --condition healthy` is not in podman 4.3. So before
#    `up -d` runs a container, this waits for each of its dependencies as the compose
#    specification says: service_healthy -- runs the dependency's healthcheck itself
#    (`podman healthcheck run`, exit 0 = healthy) every `interval`, for at most
#    start_period + retries x (interval + timeout); service_completed_successfully -- `podman wait`
#    for its exit, which must be 0; service_started -- nothing more than the order. A dependency
#    that does not get there stops `up` with a message naming it and a non-zero exit.
#
# Usage: exactly podman-compose's, e.g.  python3 scripts/podman-compose-host.py -p poc up -d
import re
import subprocess
import sys
import time

try:
    import podman_compose
except ModuleNotFoundError:
    # Debian's package, when another python3 (pyenv, a venv) comes first on PATH.
    sys.path.append("/usr/lib/python3/dist-packages")
    import podman_compose

_get_net_args = podman_compose.get_net_args
_assert_cnt_nets = podman_compose.assert_cnt_nets
_container_to_args = podman_compose.container_to_args


def get_net_args(compose, cnt):
    return [] if cnt.get("network_mode") else _get_net_args(compose, cnt)


def assert_cnt_nets(compose, cnt):
    if not cnt.get("network_mode"):
        _assert_cnt_nets(compose, cnt)


_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}


def seconds(value, default):
    """A compose duration ("1s", "1m30s", "500ms") in seconds."""
    if value is None:
        return default
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", str(value))
    if not parts:
        raise ValueError("not a compose duration: {!r}".format(value))
    return sum(float(n) * _UNITS[u] for n, u in parts)


def fail(message):
    sys.stderr.write("podman-compose-host: {}\n".format(message))
    sys.exit(1)


def wait_healthy(podman, service, name, healthcheck):
    interval = seconds(healthcheck.get("interval"), 30)
    timeout = seconds(healthcheck.get("timeout"), 30)
    budget = seconds(healthcheck.get("start_period"), 0) + int(healthcheck.get("retries", 3)) * (interval + timeout)
    started = time.monotonic()
    while True:
        check = subprocess.run([podman, "healthcheck", "run", name], capture_output=True, text=True)
        if check.returncode == 0:
            print("** {} is healthy after {:.1f} s".format(service, time.monotonic() - started))
            return
        running = subprocess.run([podman, "inspect", "--format", "{{.State.Running}}", name], capture_output=True, text=True).stdout.strip()
        if running != "true":
            fail("{} ({}) exited before it was healthy; see: podman logs {}".format(service, name, name))
        if time.monotonic() - started > budget:
            fail("{} ({}) was not healthy within {:.0f} s (its healthcheck: {}); see: podman logs {}".format(service, name, budget, (check.stdout + check.stderr).strip().splitlines()[-1:] or "no output", name))
        time.sleep(interval)


def wait_completed(podman, service, name):
    waited = subprocess.run([podman, "wait", name], capture_output=True, text=True, timeout=600)
    code = waited.stdout.strip()
    if waited.returncode != 0 or code != "0":
        fail("{} ({}) did not complete successfully (exit {}); see: podman logs {}".format(service, name, code or waited.stderr.strip(), name))
    print("** {} completed successfully".format(service))


def wait_for_dependencies(compose, cnt):
    depends_on = cnt.get("depends_on") or {}
    if not isinstance(depends_on, dict):
        return  # the short form: the start order only
    podman = compose.podman.podman_path
    for service, spec in depends_on.items():
        condition = (spec or {}).get("condition", "service_started")
        for dep in [c for c in compose.containers if c["_service"] == service]:
            if condition == "service_healthy":
                healthcheck = compose.services[service].get("healthcheck")
                if not healthcheck:
                    fail("{} waits for {} to be healthy, but {} has no healthcheck".format(cnt["_service"], service, service))
                wait_healthy(podman, service, dep["name"], healthcheck)
            elif condition == "service_completed_successfully":
                wait_completed(podman, service, dep["name"])
            elif condition != "service_started":
                fail("{}: unknown depends_on condition {!r}".format(cnt["_service"], condition))


def container_to_args(compose, cnt, detached=True):
    # `up -d` runs each container right after this, in dependency order; without -d it only
    # creates them (and starts them all at once), so there is nothing to wait for then.
    if detached:
        wait_for_dependencies(compose, cnt)
    return _container_to_args(compose, cnt, detached)


podman_compose.get_net_args = get_net_args
podman_compose.assert_cnt_nets = assert_cnt_nets
podman_compose.container_to_args = container_to_args

if __name__ == "__main__":
    sys.exit(podman_compose.main())
