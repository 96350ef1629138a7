"""Makes a service on the host's loopback reachable from the real node and its pods.

The control plane (and any server a test starts, e.g. the S3 server) listens on 127.0.0.1 of the
host, which the node's network namespace cannot reach. A forwarder listens on the host's end of
the node's veth (netns.NodeAddresses.host_ip) and copies bytes to 127.0.0.1 on the same port, so
nothing listens on the host's other interfaces and no host firewall rule is needed.

`python -m tests.cluster.forwarder LISTEN_IP PORT` runs one; start() spawns it as a cluster child.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.cluster.processes import CLUSTER_MARKER, spawn

PROJECT_ROOT = Path(__file__).resolve().parents[2]


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def _serve(listen_ip: str, port: int) -> None:
    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            target_reader, target_writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(_pipe(client_reader, target_writer), _pipe(target_reader, client_writer))

    server = await asyncio.start_server(handle, listen_ip, port, reuse_address=True)
    async with server:
        await server.serve_forever()


def start(listen_ip: str, port: int, state_dir: Path) -> subprocess.Popen[bytes]:
    """Spawn a forwarder from listen_ip:port to 127.0.0.1:port and wait until it accepts."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(PROJECT_ROOT),
        CLUSTER_MARKER: str(state_dir),
    }
    process = spawn(
        [sys.executable, "-m", "tests.cluster.forwarder", listen_ip, str(port)],
        env=env,
        log=state_dir / "logs" / f"forwarder-{port}.log",
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"forwarder for port {port} exited with {process.returncode}")
        try:
            socket.create_connection((listen_ip, port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"forwarder for port {port} did not start listening on {listen_ip}")


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1], int(sys.argv[2])))
