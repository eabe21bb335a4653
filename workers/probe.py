"""Is a worker on this host ready? The readiness check of a worker container (no HTTP server).

`python -m workers.probe` exits 0 when a worker on this host (the container's or pod's hostname)
has published a live heartbeat with at least one LibreOffice instance ready, and 1 otherwise —
the same heartbeat that the API's `/ready` reads (docgen/heartbeat.py). Used by the worker's
Kubernetes readiness probe (deploy/k8s/worker.yaml) and its compose healthcheck.

Only `DOCGEN_REDIS_URL` is read: a probe must not fail on an unrelated setting, and must not need
the link secret or S3 credentials. It is not a liveness check: with Redis down every worker would
fail it, and restarting workers would not bring Redis back.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import Any

from docgen.heartbeat import live_workers

__all__ = ["main", "ready_on_host"]


def ready_on_host(client: Any, host: str) -> bool:
    """A worker on `host` beat within the heartbeat's lifetime with a converter ready."""
    return any(w.host == host and w.converters_ready > 0 for w in live_workers(client))


def main() -> int:
    import redis

    url = os.environ.get("DOCGEN_REDIS_URL", "redis://127.0.0.1:6379/0").strip()
    client = redis.Redis.from_url(url, socket_timeout=3, socket_connect_timeout=2)
    host = socket.gethostname()
    try:
        ready = ready_on_host(client, host)
    except Exception as exc:  # any failure is "not ready"; say why for `kubectl describe`
        print(f"worker.probe: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()
    if not ready:
        print(f"worker.probe: no ready converter on {host}", file=sys.stderr)
    return 0 if ready else 1


if __name__ == "__main__":
    sys.exit(main())
