"""`fitbot model PATH` and `fitbot fit PATH BUDGET` read a checkpoint on this machine (issue 10 §5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot._commands import parse_command
from bot.app import main
from tests.factories import header_tensors, numel, replica_from_config, safetensors_image, small_dense_config, small_moe_config


def write_checkpoint(folder: Path, config: dict, *, shards: int) -> int:
    """Write config.json, the safetensors files (zero weights) and the index; return the stored element count."""
    replica = replica_from_config("local/tiny", config, shards=shards)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(replica.config), encoding="utf-8")
    total = 0
    for name, header in replica.files.items():
        assert isinstance(header, dict)
        image = safetensors_image(header)
        (folder / name).write_bytes(image.read(0, image.size))
        total += sum(numel(shape) for _, _, shape in header_tensors(header))
    if replica.index is not None:
        (folder / "model.safetensors.index.json").write_text(json.dumps(replica.index), encoding="utf-8")
    return total


def run(db_path: Path, *args: str):
    return CliRunner().invoke(main, ["--db", str(db_path), *args])


@pytest.mark.parametrize("shards", [0, 3])
@pytest.mark.parametrize("config", [small_dense_config(), small_moe_config()], ids=["dense", "moe"])
def test_model_reads_a_local_checkpoint_from_its_headers(db_path: Path, tmp_path: Path, config: dict, shards: int) -> None:
    """A folder with config.json and safetensors (single or sharded) is counted from its headers, exactly."""
    folder = tmp_path / "ckpt"
    stored = write_checkpoint(folder, config, shards=shards)
    result = run(db_path, "model", str(folder), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["provenance"] == "header" and data["total_params"] == stored
    assert data["repo_id"] == str(folder.resolve())


def test_a_bare_config_json_is_counted_from_config(db_path: Path, tmp_path: Path) -> None:
    """config.json alone: counts derived from config, equal to what the headers hold for this family."""
    folder = tmp_path / "ckpt"
    stored = write_checkpoint(folder, small_dense_config(), shards=0)
    result = run(db_path, "model", str(folder / "config.json"), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["provenance"] == "config" and data["total_params"] == stored


def test_an_undescribed_family_shows_no_guessed_count(db_path: Path, tmp_path: Path) -> None:
    """A config.json of a family no builder describes: no total, component table or count in text or JSON."""
    config = {**small_dense_config(), "model_type": "brand_new_arch", "architectures": ["BrandNewForCausalLM"]}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    data = json.loads(run(db_path, "model", str(path), "--json").output)
    assert data["count_basis"] == "needs_headers"
    assert data["total_params"] is None and data["active_params"] is None and data["components"] is None
    assert any("'brand_new_arch' is not described" in note for note in data["notes"])
    text = run(db_path, "model", str(path))
    assert text.exit_code == 0, text.output
    assert "Parameter counts need the safetensors headers" in text.output
    assert "Components (parameters)" not in text.output and "total " not in text.output


def test_fit_sizes_a_local_checkpoint_and_links_nowhere(db_path: Path, tmp_path: Path) -> None:
    """`fitbot fit DIR 24GB` answers like a repo id (text and JSON), with no Hub link for a local folder."""
    folder = tmp_path / "ckpt"
    write_checkpoint(folder, small_dense_config(), shards=2)
    text = run(db_path, "fit", str(folder), "24GB")
    assert text.exit_code == 0, text.output
    assert "huggingface.co" not in text.output and "Best choice" in text.output
    data = json.loads(run(db_path, "fit", str(folder), "24GB", "--json").output)
    assert data["model"] == str(folder.resolve()) and data["provenance"] == "header" and data["best"]


@pytest.mark.parametrize("text", ["./no-such-folder", "/no/such/config.json"])
def test_a_missing_path_is_one_line_and_exit_2(db_path: Path, text: str) -> None:
    """A path that does not exist says so; it is never fuzzy-matched to a catalog name."""
    result = run(db_path, "model", text)
    assert result.exit_code == 2
    assert "is not a checkpoint directory or config.json" in result.stderr


def test_a_folder_without_config_is_refused(db_path: Path, tmp_path: Path) -> None:
    """Safetensors without config.json cannot be sized: the answer says what to give."""
    folder = tmp_path / "ckpt"
    write_checkpoint(folder, small_dense_config(), shards=0)
    (folder / "config.json").unlink()
    result = run(db_path, "model", str(folder))
    assert result.exit_code == 2 and "has no config.json" in result.stderr


def test_discord_and_ask_never_read_paths(tmp_path: Path) -> None:
    """The bot's surfaces take catalog names only: an existing folder stays a name there."""
    folder = tmp_path / "ckpt"
    write_checkpoint(folder, small_dense_config(), shards=0)
    _, args = parse_command(f"/model {folder}")
    assert args["model"].path is None and args["model"].text == str(folder)
