"""`python -m devhost`: serve the function app locally, like `func start`.

Loads local.settings.json, runs the app's own start-up check when --preflight names one (and
refuses to start if it raises), starts Azurite when AzureWebJobsStorage is the local emulator (or
uses one already running there, warning when its data is not this checkout's .azurite/), then
runs Core Tools (`func start`) when it is installed, or else the devhost runner.
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

from devhost.azurite import (
    IN_MEMORY,
    STANDARD_PORTS,
    Azurite,
    data_location,
    is_azurite,
    is_local_dev_storage,
    port_open,
)
from devhost.functions import FunctionLoadError, import_from_app
from devhost.host import DEFAULT_HOST, DEFAULT_PORT, DevHost, PortInUseError
from devhost.settings import apply_values, local_http_port, read_local_settings
from devhost.timers import ScheduleError

logger = logging.getLogger("devhost")

_ENDPOINT_PORT = re.compile(
    r"(Blob|Queue|Table)Endpoint=https?://(?:127\.0\.0\.1|localhost):(\d+)", re.IGNORECASE
)
_PREFLIGHT = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")
# Shown when an Azurite this run did not start holds the storage ports: how to get one of our own.
_OWN_AZURITE_HINT = (
    "For an Azurite of this checkout's own, stop that one, or set AzureWebJobsStorage to the "
    "emulator account with explicit endpoints on free ports, e.g. "
    "BlobEndpoint=http://127.0.0.1:20000/devstoreaccount1;"
    "QueueEndpoint=http://127.0.0.1:20001/devstoreaccount1;"
    "TableEndpoint=http://127.0.0.1:20002/devstoreaccount1, and devhost starts one there"
)


class PreflightError(RuntimeError):
    """The app's start-up check (--preflight) failed or could not be found."""


def preflight_target(value: str) -> str:
    """argparse type for --preflight: `MODULE:FUNCTION`."""
    if not _PREFLIGHT.fullmatch(value):
        raise argparse.ArgumentTypeError(f"expected MODULE:FUNCTION, got {value!r}")
    return value


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
    parser.add_argument(
        "--preflight",
        metavar="MODULE:FUNCTION",
        type=preflight_target,
        help="once settings are applied, import MODULE from the app root and call FUNCTION(); "
        "refuse to start if it raises (e.g. shared.settings:check_environment)",
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
        log_reused_azurite(ports, app_root / ".azurite")
        return None
    raise RuntimeError(
        f"Storage ports {sorted(busy.values())} are taken by something other than a full Azurite: "
        "stop it, or pass --no-azurite"
    )


def log_reused_azurite(ports: dict[str, int], own_location: Path) -> None:
    """Say whose data the running Azurite holds: another checkout's `make run` may have started it,
    and then this run reads and writes that checkout's data, not `own_location`."""
    location = data_location(ports["table"])
    own = str(own_location.resolve())
    if location == own:
        logger.info(
            "Azurite is already running on ports %s with this checkout's data (%s): using it",
            sorted(ports.values()),
            own,
        )
        return
    if location is None:
        whose = f"where it keeps its data cannot be told, so likely not in this checkout's {own}"
    elif location == IN_MEMORY:
        whose = f"it keeps its data in memory, not in this checkout's {own}"
    else:
        whose = f"its data is in {location}, not in this checkout's {own}"
    logger.warning(
        "Using an Azurite already running on ports %s that this run did not start: %s. %s",
        sorted(ports.values()),
        whose,
        _OWN_AZURITE_HINT,
    )


def run_preflight(target: str, app_root: Path) -> None:
    """Import MODULE and call FUNCTION() of `target` ("MODULE:FUNCTION"), so that a bad setting
    is named before anything starts; PreflightError when it is missing or raises."""
    module_name, _, function_name = target.partition(":")
    try:
        module = import_from_app(module_name, app_root)
    except ModuleNotFoundError as error:
        raise PreflightError(f"--preflight {target}: {error}") from error
    check = getattr(module, function_name, None)
    if not callable(check):
        raise PreflightError(f"--preflight {target}: {module_name} has no {function_name}()")
    try:
        check()
    except Exception as error:
        # The check's message names the bad setting; a traceback would bury it.
        raise PreflightError(f"Refusing to start: {str(error) or type(error).__name__}") from error
    logger.info("Preflight %s passed", target)


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
        if args.preflight:
            run_preflight(args.preflight, app_root)
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
    except PortInUseError as error:
        logger.error(
            "%s: choose another with --port N, or Host.LocalHttpPort in local.settings.json",
            error,
        )
        return 1
    except (FunctionLoadError, ScheduleError, FileNotFoundError, RuntimeError, ValueError) as error:
        logger.error("%s", error)
        return 1
    finally:
        if azurite is not None:
            azurite.stop()


if __name__ == "__main__":
    sys.exit(main())
