"""The error table: every failure maps to one line that says what to do; only surprises log a traceback."""

from __future__ import annotations

import pytest
from discord import AppCommandOptionType, app_commands

from bot._discord import ERROR_TABLE, BudgetTransformer, describe_error, unwrap
from bot._discord._cog_lookup import LookupCog
from bot._discord._errors import FALLBACK
from estimator import parse_budget
from estimator.errors import BudgetParseError, UnknownGpuError
from store.errors import ModelNotFoundError, SchemaVersionError, TermNotFoundError


def _transformer_error(value: str, cause: BaseException | None) -> app_commands.TransformerError:
    error = app_commands.TransformerError(value, AppCommandOptionType.string, BudgetTransformer())
    error.__cause__ = cause
    return error


def _parse_error(text: str) -> BudgetParseError:
    with pytest.raises(BudgetParseError) as caught:
        parse_budget(text)
    return caught.value


def test_table_lists_subclasses_before_their_parents() -> None:
    """An entry never shadows a later, more specific one."""
    kinds = [kind for kind, _, _ in ERROR_TABLE]
    for i, earlier in enumerate(kinds):
        for later in kinds[i + 1 :]:
            assert not issubclass(later, earlier), f"{later.__name__} is unreachable after {earlier.__name__}"


def test_bad_budget_from_the_transformer_gets_the_parsers_message() -> None:
    """TransformerError wrapping the parser's error shows the parser's own words."""
    cause = _parse_error("24 gigs")
    reply = describe_error(_transformer_error("24 gigs", cause))
    assert reply.text == str(cause) and "try 24GB" in reply.text
    assert not reply.unexpected


def test_unknown_gpu_suggests_names() -> None:
    """An unknown GPU (a BudgetParseError subclass) keeps its "did you mean"."""
    reply = describe_error(_transformer_error("rtx 4900", _parse_error("rtx 4900")))
    assert "did you mean" in reply.text and isinstance(unwrap(_transformer_error("x", _parse_error("rtx 4900"))), UnknownGpuError)


def test_invoke_error_is_unwrapped_to_the_store_message() -> None:
    """An unknown model raised inside the command reaches the user with its suggestions."""
    original = ModelNotFoundError("qwen9", ("Qwen/Qwen3-8B",))
    reply = describe_error(app_commands.CommandInvokeError(LookupCog.fit, original))
    assert reply.text == (
        "No model matches 'qwen9'. Did you mean Qwen/Qwen3-8B? Start typing in the model box to see suggestions."
    )


def test_cooldown_says_when_to_retry() -> None:
    """A cooldown names the wait, rounded up."""
    reply = describe_error(app_commands.CommandOnCooldown(app_commands.Cooldown(5, 30.0), 12.2))
    assert reply.text == "Slow down: you can run this again in 13 s."


def test_missing_permission_names_it_in_discords_words() -> None:
    """manage_guild is "Manage Server" in Discord's interface."""
    reply = describe_error(app_commands.MissingPermissions(["manage_guild"]))
    assert "Manage Server" in reply.text and "admin" in reply.text


def test_transformer_error_without_an_input_error_is_still_an_answer() -> None:
    """A value Discord itself could not convert gets a generic, non-alarming line."""
    reply = describe_error(_transformer_error("abc", None))
    assert "'abc' is not a valid string" in reply.text and not reply.unexpected


@pytest.mark.parametrize("error", [ZeroDivisionError("x"), KeyError("k"), RuntimeError("boom")])
def test_unexpected_errors_get_the_fallback_and_a_traceback(error: BaseException) -> None:
    """Anything not in the table is logged with a traceback and answered politely, without details."""
    reply = describe_error(app_commands.CommandInvokeError(LookupCog.fit, error))
    assert reply == type(reply)(FALLBACK, True)
    assert str(error) not in reply.text


def test_database_errors_are_logged_and_explained() -> None:
    """A store failure is unexpected (traceback) but the user is told to retry."""
    reply = describe_error(app_commands.CommandInvokeError(LookupCog.fit, SchemaVersionError(2, 1)))
    assert reply.unexpected and "try again" in reply.text


@pytest.mark.parametrize(
    "error",
    [ModelNotFoundError("zzzz"), ModelNotFoundError("qwen9", ("Qwen/Qwen3-8B",)), TermNotFoundError("flux capacitor")],
)
def test_not_found_errors_give_discord_advice_not_terminal_commands(error: BaseException) -> None:
    """The store's messages end with `fitbot ...` advice; on Discord they point at the autocomplete box."""
    reply = describe_error(app_commands.CommandInvokeError(LookupCog.fit, error))
    assert "box to see suggestions" in reply.text
    assert "fitbot" not in reply.text and "`" not in reply.text and not reply.unexpected
