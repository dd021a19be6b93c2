"""``impact teach``: the command, the missing-extra message, and the page's HTML."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from impact.cli import main


def test_teach_is_a_command_with_help():
    result = CliRunner().invoke(main, ["teach", "--help"])
    assert result.exit_code == 0
    assert "--no-browser" in result.output and "impact[teach]" in result.output


@pytest.mark.parametrize("missing", ["shiny", "uvicorn"])
def test_missing_extra_names_it_and_exits_2(monkeypatch, missing):
    monkeypatch.setitem(sys.modules, missing, None)  # importing it now fails
    result = CliRunner().invoke(main, ["teach", "--no-browser"])
    assert result.exit_code == 2
    assert 'pip install "impact[teach]"' in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_import_impact_and_the_cli_do_not_import_the_web_framework():
    code = (
        "import json, sys, impact, impact.cli, impact.teach; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('shiny', 'uvicorn', 'starlette'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_page_labels_every_control_and_fetches_nothing_from_the_internet():
    pytest.importorskip("shiny")
    from impact.teach.app import _page

    html = str(_page())
    for control in re.findall(r'<(?:input|select)[^>]*\sid="([^"]+)"', html):
        assert f'for="{control}"' in html or f'aria-labelledby="{control}-label"' in html, control
    assert not re.search(r'(src|href)="(https?:)?//', html)
    for label in ("Scottish schools", "Small pilot", "Selected on trend", "Staggered rollout",
                  "Large fonts (projector)", "Run Monte Carlo"):  # fmt: skip
        assert label in html


def test_a_taken_port_is_a_one_line_error():
    pytest.importorskip("shiny")
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["teach", "--no-browser", "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert "Traceback" not in result.output
