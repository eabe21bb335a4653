"""DOCX → PDF through unoserver/LibreOffice.

`UnoserverConverter` talks to a running unoserver; `UnoserverProcess` starts one with its own
profile, ports and a hardened LibreOffice profile. The supervised pool is a later issue (#6).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import xmlrpc.client
from pathlib import Path
from typing import Protocol

from docgen.errors import DocgenError
from docgen.fonts import check_font_mapping
from docgen.processes import ManagedProcess, free_port, wait_until

__all__ = [
    "Converter",
    "UnoserverConverter",
    "UnoserverProcess",
    "ipc_socket",
    "unoserver_command",
]


class Converter(Protocol):
    def to_pdf(self, docx: bytes, *, pdf_a: bool = False) -> bytes:
        """The PDF of `docx`; PDF/A-2b when `pdf_a`."""
        ...


class _TimeoutTransport(xmlrpc.client.Transport):
    def __init__(self, timeout_s: float) -> None:
        super().__init__()
        self._timeout_s = timeout_s

    def make_connection(self, host: str) -> http.client.HTTPConnection:  # type: ignore[override]
        connection = super().make_connection(host)
        connection.timeout = self._timeout_s
        return connection


class UnoserverConverter:
    """A client of one unoserver (XML-RPC), sending and receiving bytes: no shared disk needed.

    unoserver's own `UnoClient` has no timeout and retries a refused connection for 50 s; this
    calls the same RPC (`convert`, unoserver API 3) with a socket timeout instead.
    """

    def __init__(self, address: str, timeout_s: float = 120.0) -> None:
        self.address = address
        self.timeout_s = timeout_s

    def to_pdf(self, docx: bytes, *, pdf_a: bool = False) -> bytes:
        # Lossless pictures: our only pictures are 附件2's charts, line art that JPEG would blur.
        # LibreOffice's default encodes each picture as JPEG too and keeps the smaller; for the
        # charts that was always Flate, so this gives the same PDF ≈30 ms sooner (BENCHMARKS §4).
        options = ["UseLosslessCompression=true"]
        if pdf_a:
            options.append("SelectPdfVersion=2")  # PDF/A-2b (1 would be PDF/A-1b)
        return self._convert(docx, "pdf", options, b"%PDF", "PDF")

    def to_odt(self, docx: bytes) -> bytes:
        """The document in LibreOffice's own format (the long-list path reads its tables)."""
        return self._convert(docx, "odt", [], b"PK", "ODT")

    def _convert(
        self, document: bytes, convert_to: str, options: list[str], magic: bytes, kind: str
    ) -> bytes:
        proxy = xmlrpc.client.ServerProxy(
            f"http://{self.address}", allow_none=True, transport=_TimeoutTransport(self.timeout_s)
        )
        try:
            # (inpath, indata, outpath, convert_to, filtername, filter_options, update_index,
            #  infiltername, password). update_index=False: our templates have no index, and
            #  the extra layout pass cost 20-30% throughput here (DESIGN §4).
            result = proxy.convert(
                None,
                xmlrpc.client.Binary(document),
                None,
                convert_to,
                None,
                options,
                False,
                None,
                None,
            )
        except TimeoutError as exc:
            raise DocgenError(
                "conversion.timeout",
                "PDF 转换超时",
                "PDF conversion timed out",
                retryable=True,
                detail=f"{self.address}: {exc}",
            ) from exc
        except (OSError, xmlrpc.client.ProtocolError) as exc:
            raise DocgenError(
                "conversion.unavailable",
                "PDF 转换服务暂不可用",
                "The PDF converter is unavailable",
                retryable=True,
                detail=f"{self.address}: {exc}",
            ) from exc
        except xmlrpc.client.Fault as exc:
            if "TimeoutError" in exc.faultString:
                # unoserver's own --conversion-timeout: it gives up, then exits.
                raise DocgenError(
                    "conversion.timeout",
                    "PDF 转换超时",
                    "PDF conversion timed out",
                    retryable=True,
                    detail=f"{self.address}: {exc.faultString[-200:]}",
                ) from exc
            raise DocgenError(
                "conversion.failed",
                "PDF 转换失败",
                "PDF conversion failed",
                detail=f"{self.address}: {exc.faultString[-500:]}",
            ) from exc
        data = result.data if isinstance(result, xmlrpc.client.Binary) else b""
        if not data.startswith(magic):
            raise DocgenError(
                "conversion.failed",
                "PDF 转换失败",
                "PDF conversion failed",
                detail=f"{self.address}: the answer is not a {kind}",
            )
        return data


_HIDDEN_LAUNCHER = Path(__file__).with_name("unoserver_hidden.py")


def unoserver_command(unoserver_bin: str) -> list[str]:
    """How to start unoserver: its script's own interpreter running docgen/unoserver_hidden.py
    (documents opened hidden: ≈25 % less time a small conversion), or the script itself when
    its first line names no Python interpreter."""
    try:
        with open(unoserver_bin, "rb") as script:
            first = script.readline(300)
    except OSError:
        return [unoserver_bin]
    if not first.startswith(b"#!") or b"python" not in first:
        return [unoserver_bin]
    # -P: not the launcher's folder first on sys.path, where docgen's `queue` would shadow the
    # standard library's for unoserver.
    return [*first[2:].decode().split(), "-P", str(_HIDDEN_LAUNCHER)]


# Macro security at its highest and untrusted links blocked: a .docx must not make LibreOffice
# read local files or fetch URLs into the PDF (DESIGN §4).
_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="DisableMacrosExecution" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="BlockUntrustedRefererLinks" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="FirstRun" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Jobs/Jobs/org.openoffice.Office.Jobs:Job['UpdateCheck']/Arguments"><prop oor:name="AutoCheckEnabled" oor:op="fuse"><value>false</value></prop></item>
</oor:items>
"""


class UnoserverProcess:
    """One unoserver + LibreOffice in its own process group, profile and ports.

    Runs under Debian's python3 (the only one with `uno`), through `unoserver_bin` from the venv
    the Makefile makes with `--system-site-packages`. The environment is built from scratch:
    LibreOffice gets no secrets (CVE-2024-12426 leaked environment variables).
    """

    def __init__(
        self,
        unoserver_bin: str,
        workdir: Path,
        fontconfig_file: str,
        timeout_s: float = 120.0,
        *,
        hidden: bool = True,  # False: unoserver exactly as its users run it (benchmarks)
    ) -> None:
        check_font_mapping(fontconfig_file)
        self.workdir = workdir
        self.port = free_port()
        self.profile = profile = workdir / "profile"
        (profile / "user").mkdir(parents=True, exist_ok=True)
        (profile / "user" / "registrymodifications.xcu").write_text(_PROFILE, "utf-8")
        tmp = workdir / "tmp"
        tmp.mkdir(exist_ok=True)
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(workdir),
            "LANG": "C.UTF-8",
            "TMPDIR": str(tmp),
            "FONTCONFIG_FILE": os.path.abspath(fontconfig_file),
            "SAL_USE_VCLPLUGIN": "svp",
        }
        self.process = ManagedProcess(
            "unoserver",
            [
                *(unoserver_command(unoserver_bin) if hidden else [unoserver_bin]),
                "--interface",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--uno-interface",
                "127.0.0.1",
                "--uno-port",
                str(free_port()),
                "--user-installation",
                str(profile),
                "--temp-dir",
                str(tmp),
                "--conversion-timeout",
                str(int(timeout_s)),
            ],
            log_path=workdir / "unoserver.log",
            env=env,
            cwd=workdir,
        )
        self.converter = UnoserverConverter(self.address, timeout_s)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def wait_ready(self, timeout_s: float = 90.0) -> None:
        """Ready means a tiny real conversion succeeds, not that a port answers."""
        probe = _tiny_docx()

        def converts() -> bool:
            try:
                self.converter.to_pdf(probe)
            except DocgenError:
                return False
            return True

        try:
            wait_until(converts, timeout_s, "unoserver", alive=self.process.alive)
        except (TimeoutError, RuntimeError) as exc:
            raise RuntimeError(f"{exc}\n{self.process.log_tail()}") from exc

    def stop(self) -> None:
        # After conversions LibreOffice took 15 s to honour SIGTERM here; its profile is
        # disposable, so it gets 2 s before the whole group is killed.
        self.process.stop(grace_s=2.0)
        # A killed LibreOffice leaves its single-instance socket in /tmp: one file per instance
        # ever started, i.e. per recycle (measured: bench/memory.py, tests/…/test_pool_leaks.py).
        with contextlib.suppress(OSError):
            ipc_socket(self.profile).unlink(missing_ok=True)


def ipc_socket(profile: Path) -> Path:
    """The socket through which a second LibreOffice would hand its work to the one using
    `profile` (`OSL_PIPE_<uid>_SingleOfficeIPC_<hash>`); LibreOffice removes it when it exits
    cleanly, never when killed.

    LibreOffice names it after the MD5 of the profile's URL as UTF-16 and writes the digest's
    bytes in hex without leading zeros (desktop/source/app/officeipcthread.cxx); the directory
    is fixed (sal/osl/unx/pipe.cxx): /tmp, or /var/tmp where /tmp is not writable.
    """
    url = profile.absolute().as_uri()  # as unoserver passes it: -env:UserInstallation=<url>
    digest = hashlib.md5(url.encode("utf-16-le"), usedforsecurity=False).digest()
    name = f"OSL_PIPE_{os.getuid()}_SingleOfficeIPC_" + "".join(f"{b:x}" for b in digest)
    folder = "/tmp" if os.access("/tmp", os.W_OK) else "/var/tmp"
    return Path(folder) / name


def _tiny_docx() -> bytes:
    path = Path(__file__).with_name("probe.docx")
    if path.exists():
        return path.read_bytes()
    raise FileNotFoundError(path)
