"""`python -m devhost`: serve the function app locally, like `func start`.

Loads local.settings.json, starts Azurite when AzureWebJobsStorage is the local emulator, then runs
Core Tools (`func start`) when it is installed, or else the devhost runner.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from devhost.azurite import STANDARD_PORTS, Azurite, is_azurite, is_local_dev_storage, port_open
from devhost.functions import FunctionLoadError
from devhost.host import DEFAULT_HOST, DEFAULT_PORT, DevHost
from devhost.settings import apply_values, local_http_port, read_local_settings
from devhost.timers import ScheduleError

logger = logging.getLogger("devhost")

_ENDPOINT_PORT = re.compile(
    r"(Blob|Queue|Table)Endpoint=https?://(?:127\.0\.0\.1|localhost):(\d+)", re.IGNORECASE
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devhost", description=__doc__)
    parser.add_argument(
        "--port",
        type=int,
        help=f"HTTP port (default: Host.LocalHttpPort in local.settings.json, else {DEFAULT_PORT})",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to bind (local runner only)")
    parser.add_argument("--app-root", type=Path, default=Path(), help="function app folder")
    parser.add_argument(
        "--no-azurite", action="store_true", help="do not start Azurite even for local storage"
    )
    parser.add_argument(
        "--no-local-settings",
        action="store_true",
        help="read no local.settings.json: settings come from the environment only (tests)",
    )
    return parser.parse_args(argv)


def configure_logging() -> None:
    # Core Tools style: UTC timestamp in brackets, then the message.
    formatter = logging.Formatter("[%(asctime)s.%(msecs)03dZ] %(message)s", "%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    # The Azure SDK logs every storage request at INFO; the host does not show those.
    logging.getLogger("azure").setLevel(logging.WARNING)


def storage_ports(connection_string: str) -> dict[str, int]:
    """Ports of loopback endpoints in the connection string, standard ones for the rest."""
    ports = dict(STANDARD_PORTS)
    for service, port in _ENDPOINT_PORT.findall(connection_string):
        ports[service.lower()] = int(port)
    return ports


def ensure_azurite(app_root: Path, connection_string: str | None) -> Azurite | None:
    """Start Azurite for local dev storage; None when not needed or already running."""
    if not is_local_dev_storage(connection_string):
        logger.info("AzureWebJobsStorage is not the local emulator: not starting Azurite")
        return None
    assert connection_string is not None
    ports = storage_ports(connection_string)
    busy = {service: port for service, port in ports.items() if port_open(port)}
    if not busy:
        azurite = Azurite(
            app_root / ".azurite",
            ports["blob"],
            ports["queue"],
            ports["table"],
            bin_dir=app_root / "node_modules" / ".bin",
        )
        return azurite.start()
    if busy == ports and all(is_azurite(port) for port in ports.values()):
        logger.info("Azurite is already running on ports %s: using it", sorted(ports.values()))
        return None
    raise RuntimeError(
        f"Storage ports {sorted(busy.values())} are taken by something other than a full Azurite: "
        "stop it, or pass --no-azurite"
    )


def run_core_tools(func_path: str, app_root: Path, port: int) -> int:
    """Run `func start` in the foreground and return its exit code."""
    logger.info("Core Tools found at %s: running `func start --port %d`", func_path, port)
    process = subprocess.Popen([func_path, "start", "--port", str(port)], cwd=app_root)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.send_signal(signal.SIGINT)
        try:
            return process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging()
    # SIGTERM takes the same way out as Ctrl-C, so whatever we started gets stopped.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    app_root = args.app_root.resolve()
    azurite: Azurite | None = None
    try:
        if args.no_local_settings:
            logger.info("Not reading local.settings.json (--no-local-settings)")
            settings: dict = {}
        else:
            settings = read_local_settings(app_root)
            apply_values(settings)
        port = args.port or local_http_port(settings) or DEFAULT_PORT
        if not args.no_azurite:
            azurite = ensure_azurite(app_root, os.environ.get("AzureWebJobsStorage"))  # noqa: SIM112
        func_path = shutil.which("func")
        if func_path:
            if args.host != DEFAULT_HOST:
                logger.warning("--host is ignored by Core Tools")
            return run_core_tools(func_path, app_root, port)
        logger.info("Core Tools not found: serving with the devhost runner")
        asyncio.run(DevHost(app_root, args.host, port).serve())
        return 0
    except KeyboardInterrupt:
        return 130
    except (FunctionLoadError, ScheduleError, FileNotFoundError, RuntimeError, ValueError) as error:
        logger.error("%s", error)
        return 1
    finally:
        # asyncio.run puts SIGTERM back to its default: keep it graceful while we clean up.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        if azurite is not None:
            azurite.stop()


if __name__ == "__main__":
    sys.exit(main())
