"""The layout is the architecture: sub-packages in layers, thin functions, one fact in one place."""

from __future__ import annotations

import ast
import json
from datetime import timedelta
from pathlib import Path

import pytest

from shared.notifications.lifecycle import FUNCTION_RUN_LIMIT

APP_ROOT = Path(__file__).resolve().parent.parent
SHARED = APP_ROOT / "shared"
# Bottom to top: a module may import from its own layer and the layers below it, never above.
LAYERS = (
    ("shared.settings", "shared.http", "shared.teams"),
    ("shared.cards",),
    ("shared.storage",),
    ("shared.channel",),
    ("shared.delivery",),
    ("shared.notifications",),
    ("shared.sending",),
    ("shared.chat",),
    ("shared.functions",),
    ("shared.app",),
)
FUNCTION_FOLDERS = sorted(p.parent for p in APP_ROOT.glob("*/function.json"))


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
        found.update(n for n in names if n == "shared" or n.startswith("shared."))
    return found


def layer_of(module: str) -> int:
    for index, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    raise AssertionError(f"{module} belongs to no layer")


def module_name(path: Path) -> str:
    parts = path.relative_to(APP_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


SHARED_MODULES = sorted(p for p in SHARED.rglob("*.py") if p != SHARED / "__init__.py")


@pytest.mark.parametrize("path", SHARED_MODULES, ids=lambda p: module_name(p))
def test_a_shared_module_imports_only_from_its_own_layer_or_below(path):
    own = layer_of(module_name(path))

    above = sorted(m for m in shared_imports(path) if layer_of(m) > own)

    assert above == []


def test_settings_is_a_leaf():
    assert shared_imports(SHARED / "settings.py") == set()


@pytest.mark.parametrize(
    "package",
    sorted(p for p in SHARED.iterdir() if p.is_dir() and p.name != "__pycache__"),
    ids=lambda p: p.name,
)
def test_a_sub_package_init_is_a_docstring_map_of_its_modules_and_nothing_else(package):
    tree = ast.parse((package / "__init__.py").read_text(encoding="utf-8"))
    docstring = ast.get_docstring(tree) or ""
    modules = sorted(p.stem for p in package.glob("*.py") if p.stem != "__init__")

    assert len(tree.body) == 1, "only the docstring: no imports, no re-exports"
    assert [m for m in modules if f"\n{m} " not in f"\n{docstring}"] == []


@pytest.mark.parametrize("folder", FUNCTION_FOLDERS, ids=lambda p: p.name)
def test_a_function_folder_imports_only_shared_app(folder):
    assert shared_imports(folder / "__init__.py") == {"shared.app"}


def test_claims_expire_after_the_longest_run_host_json_allows():
    config = json.loads((APP_ROOT / "host.json").read_text(encoding="utf-8"))
    hours, minutes, seconds = (int(part) for part in config["functionTimeout"].split(":"))

    assert timedelta(hours=hours, minutes=minutes, seconds=seconds) == FUNCTION_RUN_LIMIT


def readme_tree() -> set[str]:
    """The shared/ modules the README's "How it is built" tree names."""
    readme = (APP_ROOT / "README.md").read_text(encoding="utf-8")
    tree = readme.split("## How it is built", 1)[1].split("```", 2)[1]
    named, package = set(), None
    for line in tree.splitlines():
        if line.startswith("shared/"):
            path = line.split()[0]
            package = path if path.endswith("/") else None
            if package is None:
                named.add(path)
        elif package and line.startswith("    "):
            named.add(f"{package}{line.split()[0]}.py")
    return named


def test_the_readme_tree_names_every_shared_module_and_no_other():
    modules = {str(p.relative_to(APP_ROOT)) for p in SHARED_MODULES if p.stem != "__init__"}

    assert readme_tree() == modules
