"""The layout is the architecture: sub-packages in layers, thin functions, one fact in one place."""

from __future__ import annotations

import ast
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

from shared.notifications.lifecycle import FUNCTION_RUN_LIMIT

APP_ROOT = Path(__file__).resolve().parent.parent
SHARED = APP_ROOT / "shared"
# Bottom to top: a module may import from its own layer and the layers below it, never above.
# A nested package belongs to its top package's layer.
LAYERS = (
    (
        "shared.settings",
        "shared.http",
        "shared.teams",
        "shared.request_errors",
        "shared.pooling",
        "shared.standard_webhooks",
        "shared.telemetry",
    ),
    ("shared.cards",),
    ("shared.storage",),
    ("shared.channel",),
    ("shared.delivery", "shared.graph"),
    ("shared.notifications", "shared.engagement"),
    ("shared.sending", "shared.feedback"),
    ("shared.chat",),
    ("shared.functions",),
    ("shared.app",),
)
FUNCTION_FOLDERS = sorted(p.parent for p in APP_ROOT.glob("*/function.json"))
# A package a reader can hold: about 16 modules at most, and no more Python than this.
MOST_MODULES_IN_A_PACKAGE = 16
MOST_LINES_IN_A_PACKAGE = 2_500
# Four modules sharing a name prefix are a sub-package waiting to be made.
MOST_MODULES_SHARING_A_PREFIX = 3
STORAGE_SDK = ("azure.data.tables", "azure.storage", "azure.core")
# Only these speak HTTP and the Functions host's types; the domain below them speaks its own.
FUNCTIONS_HOST = ("shared.http", "azure.functions")
SPEAKING_FUNCTIONS_HOST = ("shared/http.py", "shared/functions/", "shared/app.py")


def within(name: str, prefixes: Iterable[str]) -> bool:
    """Whether a dotted name is one of the prefixes or inside one of them."""
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def shared_imports(path: Path) -> set[str]:
    """The shared.* modules a file imports (absolute imports only, as the style asks)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            names = [node.module or ""]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found.update(n for n in names if within(n, ["shared"]))
    return found


def imported_names(path: Path) -> set[str]:
    """Everything a file imports, at module level or in a function, as full dotted names.

    `from a.b import c` is `a.b.c`, so a rule about `a.b` catches `from a import b` too.
    """
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            found.update(f"{node.module or ''}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def forbidden_imports(
    paths: Iterable[Path],
    root: Path,
    forbidden: Iterable[str],
    allowed: Mapping[str, Iterable[str]],
) -> dict[str, list[str]]:
    """Each file's imports of `forbidden` names that `allowed` does not permit where the file is.

    `allowed` maps a file, or a folder ending in `/`, relative to `root`, to names it may import.
    """
    found = {}
    for path in paths:
        relative = path.relative_to(root).as_posix()
        permitted = [
            name
            for place, names in allowed.items()
            if relative == place or (place.endswith("/") and relative.startswith(place))
            for name in names
        ]
        names = [n for n in imported_names(path) if within(n, forbidden)]
        if offending := sorted(n for n in names if not within(n, permitted)):
            found[relative] = offending
    return found


def listing(found: Mapping[str, Iterable[str]]) -> str:
    return "\n".join(f"  {where}: {', '.join(what)}" for where, what in sorted(found.items()))


def layer_of(module: str) -> int:
    for index, prefixes in enumerate(LAYERS):
        if within(module, prefixes):
            return index
    raise AssertionError(f"{module} belongs to no layer")


def module_name(path: Path, root: Path = APP_ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_id(package: Path) -> str:
    return package.relative_to(APP_ROOT).as_posix()


SHARED_MODULES = sorted(p for p in SHARED.rglob("*.py") if p != SHARED / "__init__.py")
SHARED_FILES = sorted(SHARED.rglob("*.py"))
FUNCTION_FILES = sorted(p for folder in FUNCTION_FOLDERS for p in folder.glob("*.py"))
SUB_PACKAGES = sorted(
    p.parent
    for p in SHARED.rglob("__init__.py")
    if p.parent != SHARED and "__pycache__" not in p.parts
)
PACKAGES = [SHARED, *SUB_PACKAGES]
NESTED_PACKAGES = [p for p in SUB_PACKAGES if p.parent != SHARED]


def own_modules(package: Path) -> list[Path]:
    """A package's modules, not counting its __init__ or its sub-packages' modules."""
    return sorted(p for p in package.glob("*.py") if p.stem != "__init__")


def map_names(init: Path) -> set[str]:
    """What a package's docstring map names: the first word of each of its lines."""
    docstring = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
    return {line.split()[0] for line in docstring.splitlines() if line.strip()}


def import_time_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """The imports a module runs when it is imported.

    Those at module level and in its `if TYPE_CHECKING:`, `try` and class blocks count; those in
    function bodies do not: they run later, lazily on purpose.
    """
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            pending.extend(ast.iter_child_nodes(node))


def import_graph(shared: Path) -> dict[str, set[str]]:
    """Each module under `shared` and the modules under it that it imports when it is imported.

    `from package import name` imports the module `package.name` when there is one, else `package`.
    A package's __init__ is only a docstring, so importing it imports none of its children.
    """
    files = {module_name(p, shared.parent): p for p in shared.rglob("*.py")}
    graph = {}
    for module, path in files.items():
        imported = set()
        for node in import_time_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
                continue
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                imported.add(name if name in files else node.module or "")
        graph[module] = imported & files.keys()
    return graph


def an_import_loop(graph: Mapping[str, set[str]]) -> list[str]:
    """One loop, each module importing the next and the first repeated last; [] if there is none."""
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as loop:
        return list(reversed(loop.args[1]))
    return []


def crowded_prefixes(stems: Iterable[str]) -> dict[str, list[str]]:
    """Groups of too many module names sharing their first underscore-separated word."""
    groups = defaultdict(list)
    for stem in sorted(stems):
        groups[stem.split("_")[0]].append(stem)
    return {
        prefix: group
        for prefix, group in groups.items()
        if len(group) > MOST_MODULES_SHARING_A_PREFIX
    }


def readme_tree(readme: str) -> set[str]:
    """The shared/ modules the README's "How it is built" tree names.

    A `shared/x.py` line names a top-level module; a `shared/x/` line opens a package whose modules
    are indented four spaces under it. An indented name ending in `/` opens a nested package, whose
    modules are indented four spaces more.
    """
    tree = readme.split("## How it is built", 1)[1].split("```", 2)[1]
    named, packages = set(), []  # the packages open at the current line, outermost first
    for line in tree.splitlines():
        if not line.strip():
            continue
        name = line.split()[0]
        depth, stray = divmod(len(line) - len(line.lstrip(" ")), 4)
        if depth == 0:
            shared = name.startswith("shared/")
            packages = [name] if shared and name.endswith("/") else []
            if shared and name.endswith(".py"):
                named.add(name)
        elif packages:
            assert not stray, f"README tree: {line!r} is not indented by fours"
            assert depth <= len(packages), f"README tree: {line!r} is indented under no package"
            del packages[depth:]
            if name.endswith("/"):
                packages.append(packages[-1] + name)
            else:
                named.add(f"{packages[-1]}{name}.py")
    return named


@pytest.mark.parametrize("path", SHARED_MODULES, ids=lambda p: module_name(p))
def test_a_shared_module_imports_only_from_its_own_layer_or_below(path):
    own = layer_of(module_name(path))

    above = sorted(m for m in shared_imports(path) if layer_of(m) > own)

    assert above == []


def test_settings_is_a_leaf():
    assert shared_imports(SHARED / "settings.py") == set()


def test_every_folder_of_modules_under_shared_is_a_package():
    folders = {p.parent for p in SHARED_MODULES}

    assert sorted(package_id(f) for f in folders if not (f / "__init__.py").exists()) == []


@pytest.mark.parametrize("package", SUB_PACKAGES, ids=package_id)
def test_a_sub_package_init_is_a_docstring_map_of_its_modules_and_nothing_else(package):
    tree = ast.parse((package / "__init__.py").read_text(encoding="utf-8"))
    modules = {p.stem for p in own_modules(package)}

    assert len(tree.body) == 1, "only the docstring: no imports, no re-exports"
    assert sorted(modules - map_names(package / "__init__.py")) == []


@pytest.mark.parametrize("package", NESTED_PACKAGES, ids=package_id)
def test_a_nested_sub_package_is_named_in_its_parents_map_as_a_folder(package):
    assert f"{package.name}/" in map_names(package.parent / "__init__.py")


def test_no_shared_modules_import_each_other_in_a_loop_not_even_for_type_checking():
    assert an_import_loop(import_graph(SHARED)) == []


def test_only_shared_storage_imports_the_storage_sdk():
    # The composition root hands the Storage clients their credential, so it may name that type.
    allowed = {"shared/storage/": STORAGE_SDK, "shared/app.py": ["azure.core.credentials_async"]}

    found = forbidden_imports(SHARED_FILES + FUNCTION_FILES, APP_ROOT, STORAGE_SDK, allowed)

    assert found == {}, f"the Storage SDK imported outside shared/storage/:\n{listing(found)}"


def test_only_http_functions_and_app_import_http_or_azure_functions():
    allowed = dict.fromkeys(SPEAKING_FUNCTIONS_HOST, FUNCTIONS_HOST)

    found = forbidden_imports(SHARED_FILES, APP_ROOT, FUNCTIONS_HOST, allowed)

    assert found == {}, f"domain code importing HTTP or azure.functions:\n{listing(found)}"


@pytest.mark.parametrize("package", PACKAGES, ids=package_id)
def test_a_package_holds_at_most_16_modules(package):
    assert len(own_modules(package)) <= MOST_MODULES_IN_A_PACKAGE


@pytest.mark.parametrize("package", PACKAGES, ids=package_id)
def test_a_package_holds_at_most_2500_lines_of_python(package):
    lines = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in package.glob("*.py"))

    assert lines <= MOST_LINES_IN_A_PACKAGE


@pytest.mark.parametrize("package", PACKAGES, ids=package_id)
def test_no_four_modules_of_a_package_share_a_name_prefix(package):
    crowded = crowded_prefixes(p.stem for p in own_modules(package))

    groups = listing({f"{prefix}_*": group for prefix, group in crowded.items()})
    assert crowded == {}, f"modules sharing a name prefix; make each group a sub-package:\n{groups}"


@pytest.mark.parametrize("folder", FUNCTION_FOLDERS, ids=lambda p: p.name)
def test_a_function_folder_imports_only_shared_app(folder):
    assert shared_imports(folder / "__init__.py") == {"shared.app"}


def test_claims_expire_after_the_longest_run_host_json_allows():
    config = json.loads((APP_ROOT / "host.json").read_text(encoding="utf-8"))
    hours, minutes, seconds = (int(part) for part in config["functionTimeout"].split(":"))

    assert timedelta(hours=hours, minutes=minutes, seconds=seconds) == FUNCTION_RUN_LIMIT


def test_the_readme_tree_names_every_shared_module_and_no_other():
    modules = {p.relative_to(APP_ROOT).as_posix() for p in SHARED_MODULES if p.stem != "__init__"}

    assert readme_tree((APP_ROOT / "README.md").read_text(encoding="utf-8")) == modules
