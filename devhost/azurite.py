"""Azurite (the local Azure Storage emulator) as a child process.

Typical use in tests — an in-memory, table-only emulator on a free port::

    from devhost.azurite import Azurite

    with Azurite.table_only() as azurite:
        client = TableServiceClient.from_connection_string(azurite.connection_string)
        ...

or, for queues too, `Azurite.all_services()` (one binary serves blobs, queues and tables).

`Azurite(...)` starts nothing until `start()` (or `with`); `stop()` is safe to call twice.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

logger = logging.getLogger(__name__)

ACCOUNT_NAME = "devstoreaccount1"
# The emulator's fixed, publicly documented key: not a secret.
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
HOST = "127.0.0.1"
ALL_SERVICES: tuple[str, ...] = ("blob", "queue", "table")
STANDARD_PORTS = {"blob": 10000, "queue": 10001, "table": 10002}
IN_MEMORY = "memory"

# Where `npm ci` puts the binaries: devhost/ sits at the app root, next to node_modules/.
DEFAULT_BIN_DIR = Path(__file__).resolve().parent.parent / "node_modules" / ".bin"

_LOCAL_ENDPOINT = re.compile(
    r"(?:Blob|Queue|Table)Endpoint=https?://(?:127\.0\.0\.1|localhost)[:/]", re.IGNORECASE
)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = HOST, timeout: float = 0.2) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def is_local_dev_storage(connection_string: str | None) -> bool:
    """True for `UseDevelopmentStorage=true` or a connection string pointing at loopback."""
    if not connection_string:
        return False
    compact = connection_string.replace(" ", "").lower()
    return "usedevelopmentstorage=true" in compact or bool(
        _LOCAL_ENDPOINT.search(connection_string)
    )


def explicit_connection_string(value: str) -> str:
    """`value`, with the `UseDevelopmentStorage=true` shorthand spelled out for the standard
    ports (the Python storage SDKs do not read the shorthand)."""
    if value.replace(" ", "").lower().rstrip(";") == "usedevelopmentstorage=true":
        return connection_string(STANDARD_PORTS)
    return value


def is_azurite(port: int, host: str = HOST) -> bool:
    """True when an Azurite service answers on host:port (it names itself in `Server`)."""
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/", timeout=1) as response:
            server = response.headers.get("Server", "")
    except urllib.error.HTTPError as error:
        server = error.headers.get("Server", "")
    except OSError:
        return False
    return server.lower().startswith("azurite")


def data_location(port: int) -> str | None:
    """Where the Azurite listening on `port` keeps its data, read from /proc (Linux): its
    `--location` (or `-l`) resolved against its working folder, IN_MEMORY, or None when that
    cannot be told (no /proc, another user's process, no listener found)."""
    sockets = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                _, local, _, state, *_, inode = line.split()[:10]
                if local.endswith(f":{port:04X}") and state == "0A":  # 0A: listening
                    sockets.add(f"socket:[{inode}]")
    if not sockets:
        return None
    for fds in Path("/proc").glob("[0-9]*/fd"):
        try:
            if not sockets & {os.readlink(fd) for fd in fds.iterdir()}:
                continue
            cmdline = (fds.parent / "cmdline").read_bytes().decode(errors="replace")
            cwd = os.readlink(fds.parent / "cwd")
        except OSError:
            continue  # gone meanwhile, or not ours to read
        argv = cmdline.rstrip("\0").split("\0")
        for arg, following in zip(argv, [*argv[1:], ""], strict=True):
            name, equals, value = arg.partition("=")
            if name in ("--location", "-l"):
                return str(Path(cwd, value if equals else following).resolve())
        # Without --location, Azurite keeps its data in its working folder.
        return IN_MEMORY if any(a.startswith("--inMemoryPersistence") for a in argv) else cwd
    return None


def connection_string(ports: dict[str, int], host: str = HOST) -> str:
    """The dev-account connection string with an endpoint per service in `ports`."""
    parts = [
        "DefaultEndpointsProtocol=http",
        f"AccountName={ACCOUNT_NAME}",
        f"AccountKey={ACCOUNT_KEY}",
    ]
    parts += [
        f"{service.capitalize()}Endpoint=http://{host}:{port}/{ACCOUNT_NAME}"
        for service, port in ports.items()
    ]
    return ";".join(parts) + ";"


class Azurite:
    """One Azurite child process serving `services` on 127.0.0.1.

    `services` is either all three (the `azurite` binary) or exactly one (`azurite-blob`,
    `azurite-queue` or `azurite-table`, which start faster). `location=None` keeps data in
    memory; a directory keeps it across runs.
    """

    def __init__(
        self,
        location: Path | None = None,
        blob_port: int = STANDARD_PORTS["blob"],
        queue_port: int = STANDARD_PORTS["queue"],
        table_port: int = STANDARD_PORTS["table"],
        *,
        services: Sequence[str] = ALL_SERVICES,
        bin_dir: Path = DEFAULT_BIN_DIR,
        startup_timeout: float = 30.0,
    ) -> None:
        services = tuple(services)
        if set(services) != set(ALL_SERVICES) and (
            len(services) != 1 or services[0] not in ALL_SERVICES
        ):
            raise ValueError(f"services must be all of {ALL_SERVICES} or one of them: {services}")
        self.location = location
        self.services = services
        all_ports = {"blob": blob_port, "queue": queue_port, "table": table_port}
        self.ports = {
            service: all_ports[service] for service in ALL_SERVICES if service in services
        }
        self.bin_dir = bin_dir
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._output: collections.deque[str] = collections.deque(maxlen=40)
        self._drainer: threading.Thread | None = None

    @classmethod
    def table_only(cls, port: int | None = None, location: Path | None = None) -> Azurite:
        """Table service only, in memory unless `location` is given, on `port` or a free one."""
        return cls(location, table_port=port or free_port(), services=("table",))

    @classmethod
    def all_services(cls, location: Path | None = None) -> Azurite:
        """Blob, queue and table services on free ports, in memory unless `location` is given."""
        return cls(location, free_port(), free_port(), free_port())

    @property
    def connection_string(self) -> str:
        """Connection string with an endpoint for each service this instance runs."""
        return connection_string(self.ports)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def command(self) -> list[str]:
        binary = "azurite" if len(self.services) > 1 else f"azurite-{self.services[0]}"
        executable = self.bin_dir / binary
        if not executable.exists():
            raise FileNotFoundError(f"{executable} not found: run `npm ci` at the app root")
        argv = [str(executable)]
        for service, port in self.ports.items():
            argv += [f"--{service}Host", HOST, f"--{service}Port", str(port)]
        if self.location is None:
            argv.append("--inMemoryPersistence")
        else:
            argv += ["--location", str(self.location)]
        # No telemetry (no network beyond loopback); accept any SDK's API version and headers.
        argv += ["--disableTelemetry", "--skipApiVersionCheck", "--loose", "--silent"]
        return argv

    def start(self) -> Azurite:
        """Start Azurite and return once every port accepts connections."""
        if self.running:
            return self
        # Otherwise readiness polling would mistake the other listener for this Azurite.
        if busy := [port for port in self.ports.values() if port_open(port)]:
            raise RuntimeError(f"Cannot start Azurite: port(s) {busy} already in use")
        if self.location is not None:
            self.location.mkdir(parents=True, exist_ok=True)
        argv = self.command()
        logger.info("Starting Azurite (%s) on %s", ", ".join(self.services), self._port_list())
        # Own session: a Ctrl-C in the terminal reaches us, and we stop Azurite in order.
        self._process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._drainer = threading.Thread(target=self._drain, args=(self._process,), daemon=True)
        self._drainer.start()
        self._wait_until_listening()
        logger.info("Azurite ready on %s", self._port_list())
        return self

    def stop(self, grace: float = 5.0) -> None:
        """Terminate Azurite and wait for it; kill it if it outlives `grace` seconds."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        # SIGINT is Azurite's graceful stop: it saves its database first (on SIGTERM, writes
        # from its last few seconds are lost).
        process.send_signal(signal.SIGINT)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            logger.warning("Azurite did not stop within %.0f s; killing it", grace)
            process.kill()
            process.wait()
        logger.info("Azurite stopped")

    def __enter__(self) -> Azurite:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _port_list(self) -> str:
        return ", ".join(f"{service} {port}" for service, port in self.ports.items())

    def _drain(self, process: subprocess.Popen[bytes]) -> None:
        # Reading keeps the pipe from filling up; the tail explains a failed start.
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.decode(errors="replace").rstrip()
            self._output.append(line)
            logger.debug("azurite: %s", line)

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        pending = list(self.ports.values())
        while pending:
            assert self._process is not None
            if self._process.poll() is not None:
                self._fail(f"Azurite exited with code {self._process.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                self._fail(f"Azurite did not listen on {pending} within {self.startup_timeout} s")
            pending = [port for port in pending if not port_open(port)]
            if pending:
                time.sleep(0.05)

    def _fail(self, reason: str) -> None:
        self._process = None
        if self._drainer is not None:
            self._drainer.join(1)  # let the last lines of a crashed Azurite arrive
        tail = "\n".join(self._output) or "(no output)"
        raise RuntimeError(f"{reason}. Last output:\n{tail}")
