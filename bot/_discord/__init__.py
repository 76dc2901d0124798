"""fitbot on Discord: the client, its cogs, embeds, views, the daily listing and command sync.

Presentation only: every command calls the same code as ``fitbot ask`` and renders the
shared ``Document``. Built and started by ``bot.app._discord_cli`` (the composition root).
"""

from ._client import FitBot, FitTree
from ._embeds import render_embeds, split_text
from ._errors import ERROR_TABLE, ErrorReply, answer_error, describe_error, unwrap
from ._listing import (
    DailyListing,
    ListingRun,
    due_day,
    listing_since,
    post_due_listings,
)
from ._params import BudgetTransformer, ContextTransformer, model_choices, term_choices
from ._sync import command_hash, command_payload, sync_commands, warn_if_unsynced

__all__ = [
    "ERROR_TABLE",
    "BudgetTransformer",
    "ContextTransformer",
    "DailyListing",
    "ErrorReply",
    "FitBot",
    "FitTree",
    "ListingRun",
    "answer_error",
    "command_hash",
    "command_payload",
    "describe_error",
    "due_day",
    "listing_since",
    "model_choices",
    "post_due_listings",
    "render_embeds",
    "split_text",
    "sync_commands",
    "term_choices",
    "unwrap",
    "warn_if_unsynced",
]
