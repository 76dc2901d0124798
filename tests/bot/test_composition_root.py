"""The composition root is one package, the only importer of crawler/; cheap commands import little."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
# numpy stands for the gguf package's __init__ (numpy, sentencepiece, yaml): the estimator loads only
# gguf/constants.py (estimator/_ggml_constants.py). rich is for a terminal, not a pipe.
HEAVY = ("crawler", "huggingface_hub", "apscheduler", "discord", "tqdm", "numpy", "sentencepiece", "rich")


def _imports(path: Path) -> set[str]:
    """Top-level package names a module imports, including imports inside functions."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("wired", ["crawler", "apscheduler", "tqdm"])
def test_only_bot_app_imports_the_crawler_and_the_scheduler(wired: str) -> None:
    """No module outside bot/app/ (in bot/, estimator/, store/) imports crawler/, APScheduler or tqdm."""
    offenders = [
        str(path.relative_to(ROOT))
        for package in ("bot", "estimator", "store")
        for path in (ROOT / package).rglob("*.py")
        if wired in _imports(path) and (ROOT / "bot" / "app") not in path.parents
    ]
    assert offenders == []
    assert any(wired in _imports(p) for p in (ROOT / "bot" / "app").glob("*.py"))


@pytest.mark.parametrize(
    "args",
    [
        ("fit", "qwen2.5-32b", "24GB"),
        ("model", "qwen2.5-32b"),
        ("define", "parameter"),
        ("models", "--limit", "3"),
        ("status",),
    ],
)
def test_cheap_commands_import_neither_crawler_hub_scheduler_nor_discord(args: tuple[str, ...], db_path: Path) -> None:
    """`fitbot fit` and friends load no crawler, Hub client, scheduler, discord, tqdm, numpy or rich."""
    probe = (
        "import json, sys\n"
        "from bot.app import main\n"
        "try:\n"
        f"    main({['--db', str(db_path), *args]!r}, prog_name='fitbot')\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({list(HEAVY)!r}))), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120)
    loaded = json.loads(done.stderr.strip().splitlines()[-1])
    assert loaded == [], done.stderr
    assert done.stdout.strip()
