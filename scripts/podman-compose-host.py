#!/usr/bin/env python3
# podman-compose 1.0.3 (Debian 12's) with one fix: a service with `network_mode` gets no project
# network. 1.0.3 creates a bridge network "<project>_default" and adds `--net` to every service,
# which podman refuses together with `--network host` ("cannot set multiple networks without
# bridge network mode"); the lab uses host networking only, never a bridge network.
# Usage: exactly podman-compose's, e.g.  python3 scripts/podman-compose-host.py -p poc up -d
import sys

try:
    import podman_compose
except ModuleNotFoundError:
    # Debian's package, when another python3 (pyenv, a venv) comes first on PATH.
    sys.path.append("/usr/lib/python3/dist-packages")
    import podman_compose

_get_net_args = podman_compose.get_net_args
_assert_cnt_nets = podman_compose.assert_cnt_nets


def get_net_args(compose, cnt):
    return [] if cnt.get("network_mode") else _get_net_args(compose, cnt)


def assert_cnt_nets(compose, cnt):
    if not cnt.get("network_mode"):
        _assert_cnt_nets(compose, cnt)


podman_compose.get_net_args = get_net_args
podman_compose.assert_cnt_nets = assert_cnt_nets

if __name__ == "__main__":
    sys.exit(podman_compose.main())
