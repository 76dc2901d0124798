"""The bot's one error handler: every failure becomes one ephemeral line that says what to do.

discord.py wraps errors: a transformer's ``InputError`` arrives as ``TransformerError``
(the original is its ``__cause__``), an error inside a callback as ``CommandInvokeError``
(``.original``). They are unwrapped first, then matched against an ordered table,
subclasses before their parents (as in python-discord's ``error_handler.py``). Only the
unexpected ones carry a traceback, and only into the log.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import discord
from discord import app_commands

from estimator.errors import InputError
from store.errors import ModelNotFoundError, StoreError, TermNotFoundError

from .._safe import escape

log = logging.getLogger(__name__)

NONE = discord.AllowedMentions.none()
MESSAGE_LIMIT = 1900  # Discord's 2,000 minus room for the escapes


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """What the user is told, and whether the log gets a traceback."""

    text: str
    unexpected: bool = False


def _cooldown(e: BaseException) -> str:
    assert isinstance(e, app_commands.CommandOnCooldown)
    return f"Slow down: you can run this again in {math.ceil(e.retry_after)} s."


def _missing_permissions(e: BaseException) -> str:
    assert isinstance(e, app_commands.MissingPermissions)
    names = ", ".join(p.replace("_", " ").replace("guild", "server").title() for p in e.missing_permissions)
    return f"You need the {names} permission for this: ask a server admin to run it."


def _bot_missing(e: BaseException) -> str:
    assert isinstance(e, app_commands.BotMissingPermissions)
    names = ", ".join(p.replace("_", " ").replace("guild", "server").title() for p in e.missing_permissions)
    return f"I lack the {names} permission in this channel: ask an admin to grant it, then try again."


def _model_not_found(e: BaseException) -> str:
    # The store's message ends with terminal advice (`fitbot models`); Discord users get their own.
    assert isinstance(e, ModelNotFoundError)
    guess = (
        f"Did you mean {', '.join(e.suggestions[:3])}?"
        if e.suggestions
        else "Paste a repo id such as Qwen/Qwen2.5-32B-Instruct, or"
    )
    return f"No model matches '{e.text}'. {guess} Start typing in the model box to see suggestions."


def _term_not_found(e: BaseException) -> str:
    assert isinstance(e, TermNotFoundError)
    guess = f" Did you mean {', '.join(e.suggestions[:3])}?" if e.suggestions else ""
    return f"'{e.text}' is not in the glossary.{guess} Start typing in the term box to see suggestions."


def _transformer(e: BaseException) -> str:
    assert isinstance(e, app_commands.TransformerError)
    return f"'{e.value}' is not a valid {e.type.name}: check the option and try again."


# Ordered: subclasses first. (error type, message, unexpected?)
ERROR_TABLE: tuple[tuple[type[BaseException], Callable[[BaseException], str], bool], ...] = (
    (app_commands.CommandOnCooldown, _cooldown, False),
    (app_commands.MissingPermissions, _missing_permissions, False),
    (app_commands.BotMissingPermissions, _bot_missing, False),
    (
        app_commands.NoPrivateMessage,
        lambda e: "This command works in a server, not in direct messages.",
        False,
    ),
    (app_commands.CheckFailure, lambda e: "You cannot use this command here.", False),
    (app_commands.TransformerError, _transformer, False),
    (ModelNotFoundError, _model_not_found, False),
    (TermNotFoundError, _term_not_found, False),
    (InputError, str, False),
    (StoreError, lambda e: "The catalog database is unavailable right now: try again in a minute.", True),
    (discord.HTTPException, lambda e: "Discord did not accept my answer: try again in a moment.", True),
)
FALLBACK = "Something went wrong on my side; it has been logged. Try again, or report the command you ran."


def unwrap(error: BaseException) -> BaseException:
    """The error that really happened, out of discord.py's wrappers."""
    while True:
        if isinstance(error, app_commands.CommandInvokeError):
            error = error.original
        elif isinstance(error, app_commands.TransformerError) and isinstance(error.__cause__, InputError):
            error = error.__cause__
        else:
            return error


def describe_error(error: BaseException) -> ErrorReply:
    """The reply for ``error``: its table entry, or the fallback for anything unexpected."""
    real = unwrap(error)
    for kind, message, unexpected in ERROR_TABLE:
        if isinstance(real, kind):
            return ErrorReply(message(real), unexpected)
    return ErrorReply(FALLBACK, True)


async def answer_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Log ``error`` and tell the user, ephemerally, through whichever channel is still open."""
    reply = describe_error(error)
    command = interaction.command.qualified_name if interaction.command else _custom_id(interaction)
    if reply.unexpected:
        log.exception("command %s failed", command, exc_info=unwrap(error))
    else:
        log.info("command %s refused: %s", command, type(unwrap(error)).__name__)
    if interaction.type is discord.InteractionType.autocomplete or interaction.is_expired():
        return
    text = "⚠️ " + escape(reply.text, MESSAGE_LIMIT)
    try:
        if not interaction.response.is_done():
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NONE)
            return
        if interaction.response.type is discord.InteractionResponseType.deferred_channel_message:
            # A public "thinking…" placeholder would turn the first followup public; remove it
            # so the error stays between the bot and the person who asked.
            await interaction.delete_original_response()
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NONE)
    except discord.HTTPException as e:
        log.warning("could not deliver an error reply for %s: %s", command, e)


def _custom_id(interaction: discord.Interaction) -> str:
    data: Mapping[str, object] = interaction.data or {}
    return f"component {data.get('custom_id', '?')}"
