"""Settings: precedence, validation, secrets that never show."""

from pathlib import Path

import pytest

from bot.app._settings import Secret, SettingsError, load_settings


def test_environment_beats_file_and_flags_beat_environment(tmp_path):
    """Flags > environment > TOML file > defaults."""
    config = tmp_path / "fitbot.toml"
    config.write_text('[fitbot]\ncrawl_hour_utc = 7\nlog_format = "json"\n')
    settings = load_settings({"FITBOT_CRAWL_HOUR": "5"}, config_file=config, overrides={"db_path": Path("/x.sqlite")})
    assert settings.crawl_hour_utc == 5
    assert settings.log_format == "json"
    assert settings.db_path == Path("/x.sqlite")


def test_unknown_key_in_file_is_refused(tmp_path):
    """A typo in the TOML file is an error that lists the known settings."""
    config = tmp_path / "fitbot.toml"
    config.write_text("crawl_hr = 3\n")
    with pytest.raises(SettingsError, match="crawl_hr"):
        load_settings({}, config_file=config)


@pytest.mark.parametrize(("env", "value"), [("FITBOT_LOG_FORMAT", "xml"), ("HF_ENDPOINT", "ftp://x"), ("FITBOT_CRAWL_CONCURRENCY", "0")])
def test_bad_values_name_the_variable(env, value):
    """Each invalid value names its variable and shows a valid example."""
    with pytest.raises(SettingsError, match=env):
        load_settings({env: value})


def test_secrets_are_masked_everywhere():
    """Tokens never appear in repr, str or the `config show` rows."""
    settings = load_settings({"DISCORD_TOKEN": "abc.def.ghi-secret", "HF_TOKEN": "hf_supersecret"})
    assert settings.discord_token.reveal() == "abc.def.ghi-secret"
    text = repr(settings) + str(settings) + str(settings.shown())
    assert "abc.def.ghi-secret" not in text and "hf_supersecret" not in text
    assert ("discord_token", "(set, hidden)", "DISCORD_TOKEN") in settings.shown()
    assert repr(Secret("x")) == "Secret('********')"
