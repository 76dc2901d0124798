"""The composition root: settings, logging, the database, the Discord bot and its scheduler,
the crawler and the ``fitbot`` command group are wired here and nowhere else.

It is the only package that imports ``crawler`` (``tests/bot/test_composition_root.py``).
"""

from ._cli import LAZY_COMMANDS, CliState, FitbotGroup, main
from ._cli_table import ParserType
from ._database import open_database, open_service
from ._settings import SPECS, Secret, Settings, SettingsError, load_settings

__all__ = [
    "LAZY_COMMANDS",
    "SPECS",
    "CliState",
    "FitbotGroup",
    "ParserType",
    "Secret",
    "Settings",
    "SettingsError",
    "load_settings",
    "main",
    "open_database",
    "open_service",
]
