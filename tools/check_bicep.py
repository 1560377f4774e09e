"""Static check of the Bicep in infra/: every file parses, and checkov fails no check.

Bicep's own compiler downloads itself from a site our machines cannot reach, so nothing here
compiles or deploys the templates. checkov reads Bicep with pycep but only logs a file pycep
cannot parse and passes the rest, so a syntax error would go unseen: this parses each file with
that same parser first and stops there, naming the file and the error. Then checkov runs on the
directory; a check is skipped only by a `// checkov:skip=CKV_AZURE_NN: reason` line inside the
resource it concerns, and a skip without its reason is an error here (checkov would take it).

    python tools/check_bicep.py [DIR]      DIR defaults to infra/; exit 1 on any problem

Runs in the lint venv (requirements-lint.txt), which has checkov and pycep.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from pycep import BicepParser

INFRA = Path(__file__).resolve().parent.parent / "infra"
# Bicep's `extension` statement (GA since Bicep 0.30; the Microsoft Graph extension is declared
# with it) is newer than pycep's grammar: a well-formed one is blanked out before parsing, its
# line kept so that errors still name the right line.
EXTENSION = re.compile(r"^extension\s+(?:'br:[^'\s]+:[^'\s]+'|[A-Za-z_]\w*)(?:\s+as\s+\w+)?\s*$")
# A skip and what follows its check ids: checkov's own pattern, made to demand the reason.
SKIP = re.compile(r"checkov:skip=\s*[\w-]+(?:,[\w-]+)*(?P<reason>:\s*\S.*)?")


def parse_errors(directory: Path) -> list[str]:
    """One line per Bicep file under `directory` that pycep cannot parse."""
    parser = BicepParser()
    errors = []
    for path in sorted(directory.rglob("*.bicep")):
        try:
            parser.parse(text=without_extensions(path.read_text(encoding="utf-8")))
        except Exception as error:  # lark raises several types; any of them means "not Bicep"
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
            errors.append(f"{path}: {type(error).__name__}: {first_line}")
    return errors


def without_extensions(text: str) -> str:
    return "\n".join("" if EXTENSION.match(line) else line for line in text.split("\n"))


def unexplained_skips(directory: Path) -> list[str]:
    """One line per `checkov:skip=` under `directory` that gives no reason after the ids."""
    found = []
    for path in sorted(directory.rglob("*.bicep")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for skip in SKIP.finditer(line):
                if not skip.group("reason"):
                    found.append(f"{path}:{number}: {skip.group(0).strip()}")
    return found


def main(argv: list[str]) -> int:
    directory = Path(argv[0]) if argv else INFRA
    if not any(directory.rglob("*.bicep")):
        print(f"{directory}: no .bicep files to check", file=sys.stderr)
        return 1
    errors = parse_errors(directory)
    if errors:
        print("Bicep that does not parse:", *errors, sep="\n  ", file=sys.stderr)
        return 1
    skips = unexplained_skips(directory)
    if skips:
        print("checkov skips without a reason:", *skips, sep="\n  ", file=sys.stderr)
        return 1
    checkov = [
        sys.executable,
        "-m",
        "checkov.main",
        "--framework",
        "bicep",
        "--skip-download",  # no Prisma Cloud/Bridgecrew calls: the checks shipped in the package
        "--compact",
        "--quiet",  # failed checks only
        "--directory",
        str(directory),
    ]
    return 1 if subprocess.run(checkov, check=False).returncode else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
