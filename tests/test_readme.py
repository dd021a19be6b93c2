"""The README's examples work as written: its Python runs, its commands parse.

A reader copies these first; an example that fails (a name never defined, a flag that
does not exist) is the first thing they meet.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from impact.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(language: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)


def _commands() -> list[list[str]]:
    """Every ``impact`` (or ``.venv/bin/impact``) command in the README's bash blocks."""
    found = []
    for block in _blocks("bash"):
        text = block.replace("\\\n", " ")
        for line in text.splitlines():
            for part in re.split(r"&&|;", line.split(" #")[0]):
                words = shlex.split(part.strip())
                if words and words[0] in ("impact", ".venv/bin/impact"):
                    found.append(words[1:])
    return found


def test_the_readme_has_python_and_command_examples():
    assert len(_blocks("python")) >= 3
    assert len(_commands()) >= 5


def test_python_examples_run_as_written(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__readme__"}
    try:
        for i, block in enumerate(_blocks("python")):
            code = compile(block, f"README.md python block {i + 1}", "exec")
            exec(code, namespace)  # the blocks build on each other, as a reader's session
    finally:
        plt.close("all")


@pytest.mark.parametrize("args", _commands(), ids=lambda a: " ".join(a[:2]))
def test_command_examples_name_real_commands_and_options(args):
    name, rest = args[0], args[1:]
    command = main.commands.get(name)
    assert command is not None, f"README runs `impact {name}`, which does not exist"
    options = {opt for p in command.params for opt in [*p.opts, *p.secondary_opts]}
    options |= {"--help", "-h"}
    takes_value = {
        opt
        for p in command.params
        if isinstance(p, click.Option) and not p.is_flag
        for opt in p.opts
    }
    positional = [p for p in command.params if isinstance(p, click.Argument)]
    n_positional = 0
    i = 0
    while i < len(rest):
        word = rest[i]
        if word.startswith("-"):
            flag = word.split("=")[0]
            assert flag in options, f"`impact {name}` has no option {flag}"
            if flag in takes_value and "=" not in word:
                i += 1
        else:
            n_positional += 1
        i += 1
    assert n_positional <= len(positional), f"too many arguments to `impact {name}`: {rest}"
