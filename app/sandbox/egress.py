"""The network of an agent phase with `[agent] network = "allowlist"` (DESIGN §4.1).

The agent's box joins a Docker network of its own, created `internal` (no route out) and with
no address of the host on it (`inhibit_ipv4`: the host's services are out of reach too). The
only other member is a forward proxy (app/sandbox/egress_proxy.py) in a hardened container of
the sandbox image, also attached to the upstream network (Docker's `bridge`); the agent gets
HTTP(S)_PROXY pointing at it, and the proxy lets HTTP and CONNECT through to the listed hosts
only. Whatever bypasses the proxy has no route, and the box's DNS forwarder points at the proxy,
which answers no DNS: names do not resolve in the box. Every request is logged for the report.
The network and the proxy carry the owner labels of app.sandbox.containers and are removed
with the phase (or with the leftovers of a dead process).
"""

from __future__ import annotations

import ipaddress
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.envpack.egress_hosts import parse_hosts
from app.sandbox import containers
from app.sandbox.base import SandboxUnavailable

UPSTREAM = "bridge"  # Docker's default network: the proxy's way out
PROXY_SOURCE = Path(__file__).with_name("egress_proxy.py")
PROXY_USER = "65534:65534"
PROXY_LOG = "/logs/egress.jsonl"
READY_S = 20.0
LOG_READ_CAP = 3 << 20  # bytes of the proxy's log read per phase (it stops near 2 MB)


@dataclass(frozen=True, slots=True)
class EgressPolicy:
    """What the agent phase may reach: the manifest's hosts, through `upstream`."""

    hosts: tuple[str, ...]
    upstream: str = UPSTREAM

    def rules(self) -> list[list]:
        """The proxy's rules; malformed entries (GX194 in stage 1) allow nothing."""
        return [rule.as_json() for rule in parse_hosts(list(self.hosts))[0]]


class Egress:
    """One internal network and its proxy; `box_options` connects a box to them."""

    def __init__(self, client: Any, policy: EgressPolicy, image: str | None = None) -> None:
        from app.sandbox.images import default_image

        self.client, self.policy = client, policy
        self.network: Any = None
        self.proxy: Any = None
        self.address = ""
        self._log_offset = 0
        try:
            self._start(image or default_image())  # not the task's: it may lack python3
        except BaseException:
            self.close()
            raise

    def _start(self, image: str) -> None:
        import docker.errors

        name = f"gauntlet-egress-{secrets.token_hex(6)}"
        try:
            self.network = self.client.networks.create(
                name,
                driver="bridge",
                internal=True,
                options={"com.docker.network.bridge.inhibit_ipv4": "true"},
                labels=containers.owner_labels(),
            )
            self.network.reload()
            subnet = ipaddress.ip_network(self.network.attrs["IPAM"]["Config"][0]["Subnet"])
            self.proxy = self._create_proxy(image, name, str(subnet.network_address + 1))
            self.client.networks.get(self.policy.upstream).connect(self.proxy)
            self.proxy.start()
        except docker.errors.NotFound as exc:
            raise SandboxUnavailable(
                f"the proxy's upstream network {self.policy.upstream!r} or image {image} is "
                f"missing: {exc}"
            ) from exc
        except docker.errors.DockerException as exc:
            raise SandboxUnavailable(f"Docker could not set up the agent's network: {exc}") from exc
        self.address = self._wait_ready()

    def _create_proxy(self, image: str, network: str, probe: str) -> Any:
        from docker.types import LogConfig, Ulimit

        rules = json.dumps(self.policy.rules())
        source = PROXY_SOURCE.read_text(encoding="utf-8")
        return self.client.containers.create(
            image,
            ["python3", "-I", "-c", source, rules, probe],
            entrypoint=[],
            user=PROXY_USER,
            working_dir="/",
            environment={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            network=network,
            read_only=True,
            tmpfs={"/logs": "rw,noexec,nosuid,nodev,size=4m,mode=1777", "/tmp": "size=1m"},
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            pids_limit=96,
            mem_limit="96m",
            memswap_limit="96m",
            nano_cpus=int(0.5e9),
            ulimits=[
                Ulimit(name="core", soft=0, hard=0),
                Ulimit(name="nofile", soft=512, hard=512),
            ],
            log_config=LogConfig(type="json-file", config={"max-size": "256k", "max-file": "1"}),
            ipc_mode="private",
            labels=containers.owner_labels(),
            hostname="egress-proxy",
        )

    def _wait_ready(self) -> str:
        deadline = time.monotonic() + READY_S
        while time.monotonic() < deadline:
            for entry in self._read_log():
                if entry.get("event") == "ready":
                    return str(entry["address"])
            self.proxy.reload()
            if self.proxy.status not in ("created", "running"):
                break
            time.sleep(0.1)
        said = self.proxy.logs(tail=20).decode("utf-8", "replace").strip()
        raise SandboxUnavailable(f"the agent's network proxy did not start: {said[-500:]}")

    def box_options(self) -> dict[str, Any]:
        """What start_box gives a box of this network: the network, the proxy, no DNS."""
        url = f"http://{self.address}"
        proxies = {key: url for key in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")}
        # the box's DNS forwarder asks the proxy, which answers no DNS: no name resolves, and
        # a lookup gives up after 1 s instead of the resolver's default 2 x 5 s
        return {
            "network": self.network.name,
            "dns": [self.address.split(":")[0]],
            "dns_opt": ["timeout:1", "attempts:1"],
            "env": proxies,
        }

    def take_log(self) -> list[dict[str, Any]]:
        """The requests logged since the last call (one phase's, on a reused proxy)."""
        return [entry for entry in self._read_log() if "event" not in entry]

    def _read_log(self) -> list[dict[str, Any]]:
        from app.sandbox.agentic_box import exec_io

        command = ["sh", "-c", f"tail -c +{self._log_offset + 1} {PROXY_LOG} 2>/dev/null"]
        try:
            _, raw = exec_io(self.proxy, command, user=PROXY_USER)
        except Exception:  # noqa: BLE001 - a proxy that died logs nothing more
            return []
        complete = raw[: raw.rfind(b"\n") + 1][:LOG_READ_CAP]  # a half-written line waits
        self._log_offset += len(complete)
        entries = []
        for line in complete.decode("utf-8", "replace").splitlines():
            try:
                entries.append(json.loads(line))
            except ValueError:
                continue
        return entries

    def isolate(self, box: Any) -> None:
        """Take `box` off the network (the shared verifier runs in it with no network)."""
        import docker.errors

        try:
            self.network.disconnect(box, force=True)
        except docker.errors.DockerException as exc:
            raise SandboxUnavailable(
                f"could not take the agent's box off its network: {exc}"
            ) from exc

    def close(self) -> None:
        """Remove the proxy and the network (boxes still on it are disconnected first)."""
        from app.sandbox.agentic_box import remove_box

        remove_box(self.proxy)
        self.proxy = None
        if self.network is not None:
            remove_network(self.network)
            self.network = None


def remove_network(network: Any) -> None:
    """Remove a network, first taking off whatever is still attached to it."""
    try:
        network.reload()
        for member in network.attrs.get("Containers") or {}:
            network.disconnect(member, force=True)
        network.remove()
    except Exception:  # noqa: BLE001 - already gone; a leftover is cleaned up later
        pass
