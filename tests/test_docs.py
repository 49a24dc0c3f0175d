"""The docs stay true: every CLI command is documented, and --help works for each."""

from __future__ import annotations

from pathlib import Path

import click
from click.testing import CliRunner

from newsweave.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _commands(group: click.Group, prefix: str = "") -> list[str]:
    names = []
    for name, cmd in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        if isinstance(cmd, click.Group):
            names += _commands(cmd, f"{full} ")
        else:
            names.append(full)
    return names


def test_docs_every_cli_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [c for c in _commands(main) if f"newsweave {c}" not in readme]
    assert not missing, f"commands not documented in README.md: {missing}"


def test_docs_every_cli_command_has_help() -> None:
    runner = CliRunner()
    for c in _commands(main):
        result = runner.invoke(main, [*c.split(), "--help"])
        assert result.exit_code == 0, (c, result.output)
        assert "Usage:" in result.output


def test_docs_readme_gives_the_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "\ndemo:" in makefile and "\ntest:" in makefile


def test_docs_optional_embedder_without_its_extra_names_the_install_command() -> None:
    import importlib.util

    import pytest

    from newsweave.errors import NotInstalled
    from newsweave.registry import make_embedder

    if importlib.util.find_spec("torch") is not None:
        pytest.skip("torch is installed here: the gpu extra is present")
    with pytest.raises(NotInstalled, match=r"pip install 'newsweave\[gpu\]'"):
        make_embedder("gpu")
