"""Microsoft's Adaptive Card Templating SDK (npm adaptivecards-templating), run under Node.js:
the reference our template expansion is held to."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
_SCRIPT = """
const ACData = require("adaptivecards-templating");
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = cases.map(([template, data]) => {
  try { return {card: new ACData.Template(template).expand({$root: data})}; }
  catch (error) { return {error: String(error.message || error)}; }
});
process.stdout.write(JSON.stringify(out));
"""


def expand_with_sdk(cases: list[tuple[Any, Any]]) -> list[dict[str, Any]]:
    """Each (template, data) expanded by the SDK: {"card": ...} or {"error": ...}."""
    node = shutil.which("node")
    assert node is not None, "Node.js runs Azurite for these tests; it must be on PATH"
    done = subprocess.run(
        [node, "-e", _SCRIPT],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=True,
        timeout=60,
    )
    return json.loads(done.stdout)
