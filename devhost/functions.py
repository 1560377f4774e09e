"""Function discovery and loading for the folder model, as the host and Python worker do it.

Each `<folder>/function.json` at the app root is one function named after its folder; its
`scriptFile` (default `__init__.py`) is imported as the worker imports it, as a submodule of the
namespace package `__app__` whose path is the app root (`__app__.<folder>`), with the app root on
`sys.path` for absolute imports of shared code; its `entryPoint` (default `main`) is called with
keyword arguments named after the bindings.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import inspect
import json
import logging
import os
import sys
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import azure.functions as func

logger = logging.getLogger(__name__)

HTTP_TRIGGER = "httpTrigger"
TIMER_TRIGGER = "timerTrigger"
QUEUE_TRIGGER = "queueTrigger"
SUPPORTED_TRIGGERS = (HTTP_TRIGGER, TIMER_TRIGGER, QUEUE_TRIGGER)
SKIPPED_FOLDERS = {"node_modules", ".venv", "venv", "__pycache__"}
# The worker passes `context` to any main that declares it, without a binding.
CONTEXT_PARAMETER = "context"
# The package the worker imports every function under.
APP_PACKAGE = "__app__"


class FunctionLoadError(Exception):
    """A function.json or its Python entry point that the host would refuse to load."""


@dataclass(frozen=True)
class QueueOutput:
    """A `queue` output binding of one function, as function.json declares it."""

    name: str  # the function's
    binding: str  # the parameter's
    queue_name: str | None  # as written, maybe with %setting% references
    connection: str | None = None


@dataclass(frozen=True)
class FunctionSpec:
    """What function.json says about one function."""

    name: str
    directory: Path
    script_file: Path
    entry_point: str
    trigger_type: str
    trigger_name: str
    binding_names: tuple[str, ...]
    auth_level: str | None = None
    # Upper-case; None means every method, as when function.json has no `methods`.
    methods: tuple[str, ...] | None = None
    route: str | None = None
    schedule: str | None = None
    run_on_startup: bool = False
    queue_name: str | None = None
    # The app setting with the storage connection string; None means the host's default.
    connection: str | None = None
    queue_outputs: tuple[QueueOutput, ...] = ()

    @property
    def is_http(self) -> bool:
        return self.trigger_type == HTTP_TRIGGER

    @property
    def is_timer(self) -> bool:
        return self.trigger_type == TIMER_TRIGGER

    @property
    def is_queue(self) -> bool:
        return self.trigger_type == QUEUE_TRIGGER


@dataclass(frozen=True)
class LoadedFunction:
    """A FunctionSpec with its imported entry point."""

    spec: FunctionSpec
    main: Callable[..., Any]
    is_async: bool
    wants_context: bool


def parse_function_json(directory: Path) -> FunctionSpec:
    """Parse `<directory>/function.json` into a FunctionSpec."""
    path = directory / "function.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise FunctionLoadError(f"{path} is not valid JSON: {error}") from error
    bindings: list[dict[str, Any]] = config.get("bindings") or []
    triggers = [b for b in bindings if str(b.get("type", "")).endswith("Trigger")]
    if len(triggers) != 1:
        raise FunctionLoadError(f"{path} must declare exactly one trigger binding")
    trigger = triggers[0]
    if trigger["type"] not in SUPPORTED_TRIGGERS:
        raise FunctionLoadError(
            f"{path}: trigger type {trigger['type']!r} is not supported by devhost "
            f"(supported: {', '.join(SUPPORTED_TRIGGERS)})"
        )
    queue_outputs = []
    for binding in bindings:
        http_return = binding.get("type") == "http" and binding.get("name") == "$return"
        if binding is trigger or http_return:
            continue
        if binding.get("type") == "queue" and binding.get("direction") == "out":
            queue_outputs.append(
                QueueOutput(
                    directory.name,
                    binding["name"],
                    binding.get("queueName"),
                    binding.get("connection"),
                )
            )
            continue
        # Besides the trigger: the HTTP response as return value, and queue outputs.
        raise FunctionLoadError(
            f"{path}: binding {binding.get('name')!r} of type {binding.get('type')!r} "
            "is not supported by devhost"
        )
    methods = trigger.get("methods")
    return FunctionSpec(
        name=directory.name,
        directory=directory,
        script_file=(directory / config.get("scriptFile", "__init__.py")).resolve(),
        entry_point=config.get("entryPoint", "main"),
        trigger_type=trigger["type"],
        trigger_name=trigger["name"],
        binding_names=tuple(b["name"] for b in bindings),
        auth_level=trigger.get("authLevel"),
        methods=tuple(m.upper() for m in methods) if methods else None,
        route=trigger.get("route"),
        schedule=trigger.get("schedule"),
        run_on_startup=bool(trigger.get("runOnStartup", False)),
        queue_name=trigger.get("queueName"),
        connection=trigger.get("connection"),
        queue_outputs=tuple(queue_outputs),
    )


def is_disabled(name: str, environ: Mapping[str, str]) -> bool:
    """True when the app setting `AzureWebJobs.<name>.Disabled` is "true" or "1".

    Setting names are case-insensitive, and Linux hosts spell the dots `__`.
    """
    wanted = {f"azurewebjobs.{name}.disabled".lower(), f"azurewebjobs__{name}__disabled".lower()}
    return any(
        key.lower() in wanted and value.strip().lower() in ("true", "1")
        for key, value in environ.items()
    )


def discover_functions(
    app_root: Path, environ: Mapping[str, str] | None = None
) -> list[FunctionSpec]:
    """Every enabled function under `app_root` (one folder level deep), sorted by name."""
    environ = os.environ if environ is None else environ
    specs = []
    for config in sorted(app_root.glob("*/function.json")):
        folder = config.parent.name
        if folder.startswith((".", "_")) or folder in SKIPPED_FOLDERS:
            continue
        spec = parse_function_json(config.parent)
        if is_disabled(spec.name, environ):
            logger.info(
                "Function '%s' is disabled by its AzureWebJobs.*.Disabled setting", spec.name
            )
            continue
        specs.append(spec)
    return specs


def module_name(spec: FunctionSpec, app_root: Path) -> str:
    """The module the worker imports: `__app__.folder` for `__init__.py`, else
    `__app__.folder.<stem>`."""
    try:
        relative = spec.script_file.relative_to(app_root.resolve())
    except ValueError as error:
        raise FunctionLoadError(
            f"Function '{spec.name}': scriptFile {spec.script_file} is outside the app root"
        ) from error
    parts = list(relative.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([APP_PACKAGE, *parts])


def import_from_app(name: str, app_root: Path) -> ModuleType:
    """Import module `name` as the worker does: with the app root on sys.path, and `__app__`
    a namespace package over the app root."""
    root = str(app_root.resolve())
    if root not in sys.path:
        sys.path.insert(0, root)
    package = sys.modules.get(APP_PACKAGE)
    if package is None:
        spec = importlib.machinery.ModuleSpec(APP_PACKAGE, None, is_package=True)
        package = importlib.util.module_from_spec(spec)
        package.__path__ = []
        sys.modules[APP_PACKAGE] = package
    if root not in package.__path__:
        package.__path__.append(root)
    return importlib.import_module(name)


def load_function(spec: FunctionSpec, app_root: Path) -> LoadedFunction:
    """Import the entry point and check its parameters against the bindings, as the worker does."""
    if not spec.script_file.is_file():
        raise FunctionLoadError(f"Function '{spec.name}': {spec.script_file} not found")
    module = import_from_app(module_name(spec, app_root), app_root)
    main = getattr(module, spec.entry_point, None)
    if not callable(main):
        raise FunctionLoadError(
            f"Function '{spec.name}': {module.__name__} has no callable {spec.entry_point!r}"
        )
    parameters = set(inspect.signature(main).parameters)
    inputs = {name for name in spec.binding_names if name != "$return"}
    if missing := inputs - parameters:
        raise FunctionLoadError(
            f"Function '{spec.name}': bindings {sorted(missing)} are declared in function.json "
            f"but not as parameters of {spec.entry_point}"
        )
    if extra := parameters - inputs - {CONTEXT_PARAMETER}:
        raise FunctionLoadError(
            f"Function '{spec.name}': parameters {sorted(extra)} of {spec.entry_point} "
            "have no binding in function.json"
        )
    check_annotations(spec, main)
    return LoadedFunction(
        spec=spec,
        main=main,
        is_async=inspect.iscoroutinefunction(main),
        wants_context=CONTEXT_PARAMETER in parameters,
    )


def check_annotations(spec: FunctionSpec, main: Callable[..., Any]) -> None:
    """Refuse, as the worker does at load, a trigger, `context` or return annotation that does
    not fit its binding in function.json (a `str` or `bytes` trigger is the generic binding)."""
    try:
        hints = typing.get_type_hints(main)
    except Exception as error:
        raise FunctionLoadError(
            f"Function '{spec.name}': cannot read the annotations of {spec.entry_point}: {error}"
        ) from error
    registry = func.get_binding_registry()
    trigger = hints.get(spec.trigger_name)
    converter = registry.get(spec.trigger_type)
    checked = trigger is not None and trigger not in (str, bytes) and converter is not None
    if checked and not (
        isinstance(trigger, type) and converter.check_input_type_annotation(trigger)
    ):
        raise FunctionLoadError(
            f"Function '{spec.name}': type of {spec.trigger_name} binding in function.json "
            f"{spec.trigger_type!r} does not match its Python annotation {trigger!r}"
        )
    context = hints.get(CONTEXT_PARAMETER)
    if context is not None and getattr(context, "__name__", None) != "Context":
        raise FunctionLoadError(
            f"Function '{spec.name}': the {CONTEXT_PARAMETER!r} parameter is expected to be of "
            f"type azure.functions.Context, got {context!r}"
        )
    for output in spec.queue_outputs:
        annotation = hints.get(output.binding)
        if annotation is None:
            continue
        inner = typing.get_args(annotation)
        if typing.get_origin(annotation) is not func.Out:
            raise FunctionLoadError(
                f"Function '{spec.name}': binding {output.binding} is declared to have the "
                '"out" direction, but its annotation in Python is not a subclass of '
                "azure.functions.Out"
            )
        if inner and not registry.get("queue").check_output_type_annotation(inner[0]):
            raise FunctionLoadError(
                f"Function '{spec.name}': type of {output.binding} binding in function.json "
                f"'queue' does not match its Python annotation {inner[0]!r}"
            )
    returned = hints.get("return")
    http_out = registry.get("http")
    checked = "$return" in spec.binding_names and returned is not None
    if checked and not (
        isinstance(returned, type) and http_out.check_output_type_annotation(returned)
    ):
        raise FunctionLoadError(
            f"Function '{spec.name}': Python return annotation {returned!r} does not match "
            "binding type 'http'"
        )
