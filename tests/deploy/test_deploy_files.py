"""deploy/ agrees with the code: the commands it runs exist, every setting is documented,
and the container entry points work when run directly (no Docker engine runs here)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.app._cli import ERROR_TABLE, EXIT_CONFIG
from bot.app._settings import SPECS, SettingsError
from bot.cli import main

ROOT = Path(__file__).parents[2]
DEPLOY = ROOT / "deploy"


def _fitbot_commands(text: str, *, markdown: bool) -> set[str]:
    """Subcommands a file runs: lines whose command is `fitbot X` (in a guide, only inside
    code blocks), and `"fitbot", "X"` arrays (Dockerfile)."""
    if markdown:
        text = "\n".join(re.findall(r"```(?:sh|bash)?\n(.*?)```", text, re.DOTALL))
    line_start = r"^\s*(?:[A-Z_]+=\S*\s+|sudo\s+)*(?:\S*/bin/|ExecStart=\S*/bin/)?fitbot\s+([a-z][a-z-]+)"
    found = set(re.findall(line_start, text, re.MULTILINE))
    found |= set(re.findall(r"^ExecStart=\S*/bin/fitbot\s+([a-z-]+)", text, re.MULTILINE))
    found |= set(re.findall(r'"fitbot",\s*"([a-z-]+)"', text))
    return found


def test_compose_runs_two_services_from_one_image_on_one_volume():
    """compose.yaml: crawler and bot from the same image, shared volume, restarts, env file, log rotation."""
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"crawler", "bot"}
    for name, service in services.items():
        assert service["command"] == [name]
        assert service["command"][0] in main.commands
        assert service["image"] == "fitbot:latest"
        assert re.fullmatch(r"on-failure:([1-9]|10)", service["restart"]), service["restart"]  # capped retries
        assert service["env_file"] == [".env"]
        assert service["logging"]["options"]["max-size"]
        assert service["volumes"] == ["fitbot-data:/var/lib/fitbot"]
    assert "fitbot-data" in compose["volumes"]


def test_dockerfile_is_multistage_non_root_with_volume_and_healthcheck():
    """The image is built in two stages, runs as a non-root user, and checks `fitbot status`."""
    text = (DEPLOY / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", text, re.MULTILINE)) == 2
    assert re.search(r"^USER fitbot$", text, re.MULTILINE)
    assert re.search(r'^VOLUME \["/var/lib/fitbot"\]', text, re.MULTILINE)
    assert re.search(r'^HEALTHCHECK .*CMD \["fitbot", "status"\]', text, re.MULTILINE)
    assert re.search(r'^ENTRYPOINT \["fitbot"\]', text, re.MULTILINE)
    assert "FITBOT_DB=/var/lib/fitbot/fitbot.sqlite" in text


@pytest.mark.parametrize("unit", ["fitbot-crawler.service", "fitbot-bot.service"])
def test_systemd_units_are_hardened_and_run_real_commands(unit):
    """Each unit runs an existing command as an unprivileged user with a read-only system."""
    text = (DEPLOY / "systemd" / unit).read_text()
    command = re.search(r"^ExecStart=/opt/fitbot/bin/fitbot (\S+)$", text, re.MULTILINE).group(1)
    assert command in main.commands and unit == f"fitbot-{command}.service"
    for line in ("DynamicUser=yes", "StateDirectory=fitbot", "ProtectSystem=strict", "NoNewPrivileges=yes", "Restart=on-failure"):
        assert re.search(rf"^{re.escape(line)}$", text, re.MULTILINE), line


def test_every_command_the_deploy_files_name_exists():
    """Every `fitbot <command>` in deploy/ (guide included) is a real command."""
    named = set().union(*(_fitbot_commands(p.read_text(), markdown=p.suffix == ".md") for p in DEPLOY.rglob("*") if p.is_file()))
    assert {"crawler", "bot", "status", "sync-commands", "backup", "export", "config"} <= named
    assert named, "no commands found"
    assert named <= set(main.commands), named - set(main.commands)


def test_every_setting_is_in_env_example():
    """Every environment variable the code reads appears in .env.example, with a value or default."""
    text = (DEPLOY / ".env.example").read_text()
    documented = set(re.findall(r"^#?([A-Z][A-Z0-9_]+)=", text, re.MULTILINE))
    read_by_code = {spec.env[0] for spec in SPECS} | {"FITBOT_CONFIG"}
    assert read_by_code <= documented, read_by_code - documented
    settings_source = (ROOT / "bot" / "app" / "_settings.py").read_text()
    assert set(re.findall(r'"((?:FITBOT|DISCORD|HF)_[A-Z_]+)"', settings_source)) <= documented | {"FITBOT_DISCORD_TOKEN", "FITBOT_HF_TOKEN", "FITBOT_HF_ENDPOINT"}


def test_nothing_else_reads_the_environment():
    """Only the settings module reads os.environ; other variables would escape the docs."""
    offenders = []
    for package in ("bot", "crawler", "store", "estimator"):
        for path in (ROOT / package).rglob("*.py"):
            if path.name != "_settings.py" and re.search(r"os\.environ|os\.getenv", path.read_text()):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def _fitbot(*args, env=None, timeout=60):
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})}, cwd=ROOT,
    )


def test_entry_points_run_directly(tmp_path):
    """The container's commands start as the image runs them: help works, `status` is the health check."""
    env = {"FITBOT_DB": str(tmp_path / "db.sqlite")}
    for command in ("crawler", "bot", "status"):
        assert _fitbot(command, "--help", env=env).returncode == 0
    first = _fitbot("status", env=env)
    assert first.returncode == 1 and "does not exist yet" in first.stdout
    assert _fitbot("models", "--limit", "1", env=env).returncode == 0  # creates the database
    assert _fitbot("status", env=env).returncode == 1  # no crawl yet: unhealthy, as a health check should say


def test_bot_without_token_fails_in_one_line(tmp_path):
    """`fitbot bot` without DISCORD_TOKEN exits non-zero with one line that says what to set."""
    env = {"FITBOT_DB": str(tmp_path / "db.sqlite"), "DISCORD_TOKEN": ""}
    result = _fitbot("bot", env=env)
    assert result.returncode == EXIT_CONFIG  # the code the units' RestartPreventExitStatus= names
    assert "DISCORD_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def _unit(name: str) -> str:
    return (DEPLOY / "systemd" / name).read_text()


def _directive(text: str, key: str) -> str:
    found = re.findall(rf"^{key}=(.*)$", text, re.MULTILINE)
    assert len(found) == 1, f"{key}= appears {len(found)} times"
    return found[0].strip()


def test_configuration_errors_have_their_own_exit_code():
    """SettingsError (a bad setting, a missing or rejected token) maps to EXIT_CONFIG, and no
    other error does: a restart could never fix it, anything else it might."""
    codes = {kind: code for kind, code, _ in ERROR_TABLE}
    assert codes[SettingsError] == EXIT_CONFIG == 78
    assert [kind for kind, code in codes.items() if code == EXIT_CONFIG] == [SettingsError]


@pytest.mark.parametrize("unit", ["fitbot-crawler.service", "fitbot-bot.service"])
def test_units_stop_on_a_configuration_error_and_back_off_otherwise(unit):
    """RestartPreventExitStatus names the code the CLI uses; other failures restart with a
    growing delay and a start limit."""
    text = _unit(unit)
    assert _directive(text, "Restart") == "on-failure"
    assert _directive(text, "RestartPreventExitStatus").split() == [str(EXIT_CONFIG)]
    assert float(_directive(text, "RestartSec")) >= 1
    assert int(_directive(text, "RestartSteps")) >= 1
    assert float(_directive(text, "RestartMaxDelaySec")) > float(_directive(text, "RestartSec"))
    unit_section = text.split("[Service]")[0]
    assert "StartLimitIntervalSec=" in unit_section and "StartLimitBurst=" in unit_section  # [Unit] keys


def test_the_backup_timer_runs_the_backup_service_with_retention():
    """fitbot-backup.timer triggers fitbot-backup.service, which runs `fitbot backup --keep N`
    into a folder inside the services' state directory, with the same database and user."""
    timer, service = _unit("fitbot-backup.timer"), _unit("fitbot-backup.service")
    assert _directive(timer, "Unit") == "fitbot-backup.service"
    assert _directive(timer, "OnCalendar") and _directive(timer, "Persistent") == "true"
    assert "WantedBy=timers.target" in timer
    command = _directive(service, "ExecStart").split()
    assert command[:2] == ["/opt/fitbot/bin/fitbot", "backup"] and "backup" in main.commands
    keep = int(command[command.index("--keep") + 1])
    assert keep >= 2
    folder = command[-1]
    assert folder.endswith("/") and folder.startswith("/var/lib/fitbot/")
    bot = _unit("fitbot-bot.service")
    for key in ("User", "StateDirectory", "Environment", "DynamicUser"):
        assert _directive(service, key) == _directive(bot, key), key
    assert _directive(service, "Type") == "oneshot"


def test_every_backup_command_in_the_guide_names_the_database():
    """A `fitbot backup` typed by an operator outside the services' environment must say which
    database (--db or FITBOT_DB), or run where FITBOT_DB is set (the image, the unit)."""
    guide = (DEPLOY / "README.md").read_text()
    blocks = "\n".join(re.findall(r"```(?:sh|bash)?\n(.*?)```", guide, re.DOTALL))
    lines = [line for line in blocks.splitlines() if re.search(r"fitbot(\s+--db\s+\S+)?\s+backup\b", line)]
    assert lines, "the guide shows no backup command"
    for line in lines:
        assert "--db " in line or "FITBOT_DB=" in line or "docker compose exec" in line, line
