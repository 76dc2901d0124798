"""The README's sample session is what fitbot prints today."""

from pathlib import Path

from click.testing import CliRunner

from bot.cli import main

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def _normalise(text: str) -> str:
    return " ".join(text.split())


def test_sample_session_matches_a_real_run(tmp_path):
    """`fitbot fit qwen2.5-32b 24GB` on a fresh database prints the README's block (whitespace aside)."""
    shown = README.split("$ fitbot fit qwen2.5-32b 24GB\n", 1)[1].split("```", 1)[0]
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "fresh.sqlite"), "fit", "qwen2.5-32b", "24GB"])
    assert result.exit_code == 0
    assert _normalise(result.output) == _normalise(shown)


def test_quick_start_commands_match_ci():
    """The README's test command is the one .ci/run runs."""
    ci = (Path(__file__).parents[1] / ".ci" / "run").read_text()
    command = "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/python -m pytest -q"
    assert command in README and command in ci
