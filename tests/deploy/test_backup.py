"""`fitbot backup`: refuses a missing database without creating one; keeps the N newest."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.app._ops_cli import backup_name, prune_backups

ROOT = Path(__file__).parents[2]


def _fitbot(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FITBOT_DB", "FITBOT_CONFIG")}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], check=False, capture_output=True,
                          text=True, timeout=120, env={**env, "PYTHONPATH": str(ROOT)}, cwd=ROOT)


def test_backup_of_a_missing_database_fails_and_creates_nothing(tmp_path):
    """Exit 3, one line naming the path and how to point at the right one; no file appears."""
    missing, target = tmp_path / "nope.sqlite", tmp_path / "backup.sqlite"
    result = _fitbot("--db", str(missing), "backup", str(target))
    assert result.returncode == 3, result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert str(missing) in result.stderr and "--db" in result.stderr
    assert "schema" not in result.stderr
    assert not missing.exists() and not target.exists()


def test_backup_into_a_folder_keeps_the_newest(tmp_path):
    """A folder target gets a timestamped copy; --keep deletes only older fitbot backups."""
    db = tmp_path / "fitbot.sqlite"
    assert _fitbot("--db", str(db), "models", "--limit", "1").returncode == 0  # creates and seeds it
    folder = tmp_path / "backups"
    folder.mkdir()
    old = [folder / backup_name(datetime(2026, 1, day, tzinfo=UTC)) for day in (1, 2, 3)]
    for path in old:
        path.write_bytes(b"old")
    stranger = folder / "notes.txt"
    stranger.write_text("not a backup")
    result = _fitbot("--db", str(db), "backup", "--keep", "2", f"{folder}/")
    assert result.returncode == 0, result.stderr
    kept = sorted(p.name for p in folder.iterdir())
    assert stranger.name in kept and old[2].name in kept
    assert old[0].name not in kept and old[1].name not in kept
    newest = max(p for p in folder.glob("fitbot-*.sqlite"))
    assert newest not in old and newest.stat().st_size > 1000
    assert re.search(r"backed up [1-9][0-9]* models to ", result.stdout)


def test_prune_keeps_exactly_n_in_time_order(tmp_path):
    """Names sort as times: the N latest survive, whatever the order they were written in."""
    names = [backup_name(datetime(2026, 3, d, h, tzinfo=UTC)) for d, h in ((5, 1), (1, 23), (5, 0), (2, 12))]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    gone = prune_backups(tmp_path, 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)[-2:]
    assert len(gone) == 2
