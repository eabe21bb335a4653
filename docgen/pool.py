"""A supervised pool of LibreOffice instances (unoserver), one conversion per instance at a time.

One LibreOffice converts one document at a time (DESIGN §4), so throughput comes from K
instances, each with its own profile and ports. The pool hands a conversion to an idle instance
(a caller waits in a bounded queue), and keeps the instances healthy:

- an instance is started and counted ready only when a tiny real conversion succeeds;
- a conversion that times out (a hang, e.g. SIGSTOP) or finds its instance dead (a crash) gets
  the instance's whole process group killed and replaced, and is retried once on another
  instance; a second failure fails the document with that reason;
- an instance is recycled after `max_conversions` (200, like JODConverter) or when its
  processes' resident memory passes `max_memory_mb`.

Restarts, timeouts and conversion durations are counted for metrics.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

from docgen.convert import Converter, UnoserverConverter, UnoserverProcess
from docgen.errors import DocgenError

__all__ = ["ConverterPool", "PoolSettings", "PoolStats", "group_members", "group_rss_mb"]

log = logging.getLogger("docgen.pool")


class PoolSettings(msgspec.Struct, frozen=True):
    size: int = max(os.cpu_count() or 1, 1)  # K: one LibreOffice per core
    timeout_s: float = 120.0  # per conversion
    max_conversions: int = 200  # then the instance is recycled
    max_memory_mb: int = 1024  # resident memory of an instance's processes, then recycled
    wait_s: float = 300.0  # how long a caller waits for an idle instance


class PoolStats(msgspec.Struct):
    conversions: int = 0
    failures: int = 0
    timeouts: int = 0
    restarts: int = 0
    recycles: int = 0
    seconds_total: float = 0.0
    # Upper bounds of the duration histogram (Prometheus style), counts per bucket.
    buckets: dict[str, int] = msgspec.field(
        default_factory=lambda: dict.fromkeys(
            ("0.25", "0.5", "1", "2", "5", "10", "30", "60", "+Inf"), 0
        )
    )

    def observe(self, seconds: float) -> None:
        self.conversions += 1
        self.seconds_total += seconds
        for bound in self.buckets:
            if bound == "+Inf" or seconds <= float(bound):
                self.buckets[bound] += 1


def group_rss_mb(pgid: int) -> float:
    """Resident memory of every process in a process group (LibreOffice runs several)."""
    found = (_member_rss_kb(pid, pgid) for pid in group_members(pgid))
    return sum(kb for kb in found if kb is not None) / 1024


def group_members(pgid: int) -> list[int]:
    """The processes of a process group: a walk over /proc (1.5 ms with 84 processes here)."""
    return [int(e) for e in os.listdir("/proc") if e.isdigit() and _group_of(int(e)) == pgid]


def _group_of(pid: int) -> int | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        # Field 5 is the process group; the command name (field 2) may hold spaces.
        return int(stat[stat.rindex(")") + 2 :].split()[2])
    return None


def _member_rss_kb(pid: int, pgid: int) -> int | None:
    """VmRSS of `pid`; None when it has gone or left the group."""
    if _group_of(pid) != pgid:
        return None
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0  # a zombie has no VmRSS line


class _Stopped(RuntimeError):
    """An instance was asked for while the pool was stopping."""

    def __init__(self) -> None:
        super().__init__("the converter pool is stopping")


class _Instance:
    """One unoserver + LibreOffice; replaced as a whole, never repaired."""

    def __init__(self, number: int, process: UnoserverProcess, workdir: Path) -> None:
        self.number = number
        self.process = process
        self.workdir = workdir
        self.conversions = 0
        self._members: list[int] = []

    @property
    def address(self) -> str:
        return self.process.address

    def rss_mb(self) -> float:
        """Resident memory of this instance's processes, read after every conversion. They are
        looked for in /proc when one found before has gone, and at every 20th reading in case
        one was added; in between only their own files are read (0.1 ms instead of 1.5)."""
        pgid = self.process.process.pid
        if self.conversions % 20 == 0:
            self._members = []
        readings = [_member_rss_kb(pid, pgid) for pid in self._members]
        if not readings or None in readings:
            self._members = group_members(pgid)
            readings = [_member_rss_kb(pid, pgid) for pid in self._members]
        return sum(kb or 0 for kb in readings) / 1024

    def stop(self) -> None:
        self.process.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


class ConverterPool(Converter):
    """K supervised instances behind the `Converter` interface."""

    def __init__(
        self,
        unoserver_bin: str,
        fontconfig_file: str,
        settings: PoolSettings,
        *,
        workdir: Path | None = None,
        starter: Callable[[Path], UnoserverProcess] | None = None,
    ) -> None:
        self.settings = settings
        self.fontconfig_file = fontconfig_file
        self.stats = PoolStats()
        self._root = workdir or Path(tempfile.mkdtemp(prefix="docgen-pool-"))
        self._root.mkdir(parents=True, exist_ok=True)
        self._starter = starter or (
            lambda path: UnoserverProcess(unoserver_bin, path, fontconfig_file, settings.timeout_s)
        )
        # Idle instances; interactive callers are served before batch callers (issue 7: a
        # year-end batch must not slow down the requests people are waiting for).
        self._free: list[_Instance] = []
        self._changed = threading.Condition()
        self._interactive_waiting = 0
        self._lock = threading.Lock()
        self._instances: dict[int, _Instance | None] = {}
        self._next = 0
        self._closed = False
        # Instances still starting and threads replacing one: `stop` must reach these too, or an
        # instance launched by a recycle while the pool stops runs on forever (bench/memory.py
        # found one left with its socket in /tmp).
        self._starting: set[UnoserverProcess] = set()
        self._replacing: set[threading.Thread] = set()

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> ConverterPool:
        """Start every instance in parallel; return when all convert (or raise)."""
        errors: list[BaseException] = []

        def start_one(number: int) -> None:
            try:
                self._put(self._launch(number))
            except BaseException as exc:  # reported below, after the others started
                errors.append(exc)

        threads = [
            threading.Thread(target=start_one, args=(n,), daemon=True)
            for n in range(self.settings.size)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            self.stop()
            raise RuntimeError(f"converter pool did not start: {errors[0]}") from errors[0]
        log.info("pool.started size=%d", self.settings.size)
        return self

    def _launch(self, number: int) -> _Instance:
        with self._lock:
            if self._closed:
                raise _Stopped
            self._next += 1
            path = self._root / f"i{number}-{self._next}"
        process = self._starter(path)
        with self._lock:
            closed = self._closed
            if not closed:
                self._starting.add(process)
        try:
            if closed:
                raise _Stopped
            process.wait_ready()
        except BaseException:
            process.stop()
            shutil.rmtree(path, ignore_errors=True)
            raise
        finally:
            with self._lock:
                self._starting.discard(process)
        instance = _Instance(number, process, path)
        with self._lock:
            if not self._closed:
                self._instances[number] = instance
                return instance
        instance.stop()  # the pool stopped while this one started
        raise _Stopped

    def _replace(self, instance: _Instance, why: str) -> None:
        """Kill the instance's whole process group and start a fresh one in its slot."""
        with self._lock:
            self._instances[instance.number] = None
            self.stats.restarts += 1
            if why == "recycle":
                self.stats.recycles += 1
        log.warning("pool.replace instance=%d why=%s", instance.number, why)
        try:
            instance.stop()
            self._retry_launch(instance.number)
        finally:
            with self._lock:
                self._replacing.discard(threading.current_thread())

    def _replace_in_background(self, instance: _Instance, why: str) -> None:
        thread = threading.Thread(target=self._replace, args=(instance, why), daemon=True)
        with self._lock:  # started under the lock: `stop` never sees it unstarted
            self._replacing.add(thread)
            thread.start()

    def _retry_launch(self, number: int) -> None:
        if self._closed:
            return
        try:
            self._put(self._launch(number))
        except Exception:
            if self._closed:
                return
            log.exception("pool.restart_failed instance=%d", number)
            threading.Timer(5.0, self._retry_launch, args=(number,)).start()

    def stop(self) -> None:
        """Stop every instance, those starting or being replaced too; remove the pool's folder."""
        with self._lock:
            self._closed = True
            instances = [i for i in self._instances.values() if i is not None]
            self._instances = {}
            starting = list(self._starting)
            replacing = list(self._replacing)
        for instance in instances:
            instance.stop()
        for process in starting:  # its launch sees the pool closed and cleans up after itself
            process.stop()
        for thread in replacing:
            thread.join(timeout=60)
        shutil.rmtree(self._root, ignore_errors=True)

    # -- state ----------------------------------------------------------------------------------

    @property
    def parallelism(self) -> int:
        """How many conversions run at once: one per instance (docgen.longlists splits long
        lists into parts for them)."""
        return self.settings.size

    def ready_count(self) -> int:
        """Instances that are up (idle or converting); the heartbeat reports it."""
        with self._lock:
            return sum(
                1 for i in self._instances.values() if i is not None and i.process.process.alive()
            )

    def instance_pids(self) -> list[int]:
        """Process group ids of the running instances (each instance is one group)."""
        with self._lock:
            return [i.process.process.pid for i in self._instances.values() if i is not None]

    def stats_snapshot(self) -> PoolStats:
        """A copy of the counts, consistent (taken under the lock the conversions update)."""
        with self._lock:
            return msgspec.structs.replace(self.stats, buckets=dict(self.stats.buckets))

    def busy_pids(self) -> list[int]:
        """Process group ids of the instances converting right now."""
        with self._changed:
            idle = {id(i) for i in self._free}
        with self._lock:
            return [
                i.process.process.pid
                for i in self._instances.values()
                if i is not None and id(i) not in idle
            ]

    # -- converting -----------------------------------------------------------------------------

    def to_pdf(self, docx: bytes, *, pdf_a: bool = False, low_priority: bool = False) -> bytes:
        """Convert on an idle instance; one retry on another after a hang or a crash.

        A `low_priority` caller (batch work) gets an instance only when no other caller waits.
        """
        return self._convert(lambda c: c.to_pdf(docx, pdf_a=pdf_a), low_priority)

    def to_odt(self, docx: bytes, *, low_priority: bool = False) -> bytes:
        """`docx` in LibreOffice's own format, as `to_pdf` converts (the long-list path)."""
        return self._convert(lambda c: c.to_odt(docx), low_priority)

    def _convert(self, convert: Callable[[UnoserverConverter], bytes], low_priority: bool) -> bytes:
        last: DocgenError | None = None
        for _ in range(2):
            instance = self._take(low_priority)
            started = time.monotonic()
            try:
                result = convert(instance.process.converter)
            except DocgenError as exc:
                last = exc
                self._after_failure(instance, exc)
                if not exc.retryable:
                    raise
                continue
            with self._lock:
                self.stats.observe(time.monotonic() - started)
            self._give_back(instance)
            return result
        assert last is not None
        raise last

    def low_priority(self) -> Converter:
        """This pool as a `Converter` for batch work: served after every interactive caller."""
        return _LowPriority(self)

    def _take(self, low_priority: bool) -> _Instance:
        deadline = time.monotonic() + self.settings.wait_s
        with self._changed:
            if not low_priority:
                self._interactive_waiting += 1
            try:
                while not self._free or (low_priority and self._interactive_waiting):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise DocgenError(
                            "conversion.busy",
                            "PDF 转换繁忙，请稍后重试",
                            "Every converter stayed busy; retry later",
                            retryable=True,
                        )
                    self._changed.wait(remaining)
                return self._free.pop()
            finally:
                if not low_priority:
                    self._interactive_waiting -= 1
                    self._changed.notify_all()  # batch callers may go now

    def _put(self, instance: _Instance) -> None:
        with self._changed:
            self._free.append(instance)
            self._changed.notify_all()

    def _after_failure(self, instance: _Instance, exc: DocgenError) -> None:
        with self._lock:
            self.stats.failures += 1
            if exc.code == "conversion.timeout":
                self.stats.timeouts += 1
        if exc.code in ("conversion.timeout", "conversion.unavailable") or not (
            instance.process.process.alive()
        ):
            # A hung or dead LibreOffice is not trusted again: replaced in the background, so the
            # retry can go to another instance at once.
            self._replace_in_background(instance, exc.code)
        else:  # the document's fault (not a valid file): the instance is fine
            self._give_back(instance)

    def _give_back(self, instance: _Instance) -> None:
        instance.conversions += 1
        worn = instance.conversions >= self.settings.max_conversions
        heavy = instance.rss_mb() > self.settings.max_memory_mb
        if worn or heavy:
            self._replace_in_background(instance, "recycle")
        else:
            self._put(instance)


class _LowPriority:
    def __init__(self, pool: ConverterPool) -> None:
        self._pool = pool

    @property
    def parallelism(self) -> int:
        return self._pool.parallelism

    @property
    def fontconfig_file(self) -> str:
        return self._pool.fontconfig_file

    def to_pdf(self, docx: bytes, *, pdf_a: bool = False) -> bytes:
        return self._pool.to_pdf(docx, pdf_a=pdf_a, low_priority=True)

    def to_odt(self, docx: bytes) -> bytes:
        return self._pool.to_odt(docx, low_priority=True)
