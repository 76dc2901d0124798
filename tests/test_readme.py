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


def test_catalog_size_stated_in_readme_is_the_bundled_count():
    """The quick start's "bundled catalog of N popular models" is the number of models shipped."""
    import json
    import re
    from importlib import resources

    stated = re.search(r"bundled catalog of (\d+) popular models", README)
    assert stated, "README no longer states the catalog size"
    folder = resources.files("store").joinpath("data", "catalog")
    shipped = sum(
        len(json.loads(part.read_text(encoding="utf-8"))["models"])
        for part in folder.iterdir()
        if part.name.endswith(".json")
    )
    assert int(stated.group(1)) == shipped
