"""The README's curl examples, read from its `sh` code blocks and run as a reader would run them.

Each block becomes a bash script of its commands, less those that serve or deploy the app
(`make run`, `azd up`: the test serves the app itself). Bash expands every variable and `$(...)`
the README uses (dates are computed when the block runs) and runs the real curl, through a
function that records each answer's status. A comment right after a command that starts with a
status (`# 202 {...}`) is the answer the README promises for it.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
DOCUMENTED_HOST = "http://127.0.0.1:7071"  # where the README's examples send

_FENCE = re.compile(r"^(\s*)```(\w*)\s*$")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_PROMISED = re.compile(r"#\s*(\d{3})\b")
SERVING = frozenset({"make", "azd", "az", "func"})  # programs that serve or deploy the app
# The real curl, its answer's body on stdout as curl prints it, and one line per call in
# $README_STATUSES: the command's number and the status (000: no answer).
_PRELUDE = """\
set -euo pipefail
curl() {
  local body status
  body=$(mktemp)
  status=$(command curl --silent --show-error --max-time 30 --output "$body" \\
    --write-out '%{http_code}' "$@") || status=000
  printf '%s %s\\n' "$README_COMMAND" "$status" >> "$README_STATUSES"
  cat "$body"
  rm -f "$body"
}
"""


@dataclass(frozen=True)
class Command:
    text: str
    promised: int | None  # the status the README says it gets, where it says one


@dataclass(frozen=True)
class Example:
    line: int  # where its block starts in README.md
    commands: tuple[Command, ...]

    @property
    def text(self) -> str:
        return "\n".join(c.text for c in self.commands)

    def uses(self, name: str) -> bool:
        return re.search(rf"\$({name}\b|\{{{name}\b)", self.text) is not None

    def sets(self, name: str) -> bool:
        return any(c.text.startswith(f"{name}=") for c in self.commands)


@dataclass(frozen=True)
class Answers:
    statuses: list[list[int]]  # per command, each curl call's status
    output: str


def readme_examples(readme: Path = README) -> list[Example]:
    """Every `sh` block of the README that calls curl, as its runnable commands."""
    examples = []
    for line, block in _sh_blocks(readme.read_text(encoding="utf-8")):
        commands = tuple(c for c in _commands(block) if _runnable(c.text))
        if any(_calls_curl(c.text) for c in commands):
            examples.append(Example(line, commands))
    return examples


def run_example(example: Example, base_url: str, env: dict[str, str], workdir: Path) -> Answers:
    """Run the example's commands in bash against the app at `base_url`."""
    statuses_file = workdir / "statuses"
    statuses_file.write_text("")
    script = [_PRELUDE]
    for number, command in enumerate(example.commands):
        script += [f"README_COMMAND={number}", command.text.replace(DOCUMENTED_HOST, base_url)]
    done = subprocess.run(
        [_bash(), "-c", "\n".join(script)],
        env={**env, "README_STATUSES": str(statuses_file)},
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    statuses: list[list[int]] = [[] for _ in example.commands]
    for record in statuses_file.read_text().splitlines():
        number, status = record.split()
        statuses[int(number)].append(int(status))
    output = f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    return Answers(statuses, output)


def _sh_blocks(markdown: str) -> list[tuple[int, str]]:
    blocks = []
    lines = markdown.splitlines()
    start: int | None = None
    for number, line in enumerate(lines):
        fence = _FENCE.match(line)
        if fence is None:
            continue
        if start is None:
            start = number if fence.group(2) == "sh" else -1
            continue
        if start >= 0:
            blocks.append((start + 1, textwrap.dedent("\n".join(lines[start + 1 : number]))))
        start = None
    return blocks


def _commands(block: str) -> list[Command]:
    """The block's shell commands (a command may go on over lines: `\\`, an open quote, a pipe),
    each with the status the comment after it promises."""
    commands: list[Command] = []
    pending: list[str] = []
    for line in block.splitlines():
        if not pending and line.lstrip().startswith("#"):
            promised = _PROMISED.match(line.strip())
            if promised and commands and commands[-1].promised is None:
                commands[-1] = Command(commands[-1].text, int(promised.group(1)))
            continue
        pending.append(line)
        text = "\n".join(pending)
        if text.endswith("\\") or not _complete(text):
            continue
        if text.strip():
            commands.append(Command(text, None))
        pending = []
    return commands


def _complete(text: str) -> bool:
    """Whether bash reads the text as whole commands (it says "unexpected end of file" if not)."""
    checked = subprocess.run(
        [_bash(), "-n"], input=text, capture_output=True, text=True, timeout=10, check=False
    )
    return checked.returncode == 0


def _bash() -> str:
    bash = shutil.which("bash")
    assert bash is not None, "the README's examples are shell: bash is needed"
    return bash


def _calls_curl(text: str) -> bool:
    return re.search(r"(^|[\s($|])curl\s", text) is not None


def _runnable(text: str) -> bool:
    """Anything but a program that serves or deploys the app (after any `NAME=value` words)."""
    words = shlex.split(text, comments=True)
    program = next((w for w in words if not _ASSIGNMENT.match(w)), "")
    return program not in SERVING
