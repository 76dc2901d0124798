"""End to end: a real discord.py client, started by `fitbot bot`'s serve(), against the stand-in."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

import aiohttp
import pytest

from bot.app._discord_cli import open_bot
from bot._discord import sync_commands
from bot.app._database import open_database
from bot.app._settings import Settings, SettingsError
from store import get_guild_settings, get_model, upsert_model, upsert_subscription

from .conftest import TOKEN, running_bot, standin_settings
from .discord_standin import (
    ADMIN_ID,
    AUTOCOMPLETE,
    CHANNEL_ID,
    EPHEMERAL,
    GUILD_ID,
    MANAGE_GUILD,
    MEMBER_ID,
    OPTION_INTEGER,
    OPTION_STRING,
    OPTION_SUBCOMMAND,
    SEND_AND_EMBED,
    DiscordStandin,
)

pytestmark = pytest.mark.network


def _opt(name: str, value, kind: int = OPTION_STRING, **extra) -> dict:
    return {"name": name, "type": kind, "value": value, **extra}


def _callback(r) -> bool:
    return r.method == "POST" and r.path.endswith("/callback")


def _followup(r) -> bool:
    return r.method == "POST" and "/webhooks/" in r.path


def _channel_post(r) -> bool:
    return r.method == "POST" and r.path.endswith(f"/channels/{CHANNEL_ID}/messages")


async def _fit(standin: DiscordStandin, *, user_id: int = MEMBER_ID):
    """Run /fit qwen2.5-32b 24GB and return the followup request."""
    start = len(standin.requests)
    await standin.inject(standin.command("fit", [_opt("model", "qwen2.5-32b"), _opt("budget", "24GB")], user_id=user_id))
    return await standin.wait_for(_followup, after=start)


async def test_fit_defers_then_sends_the_verdict_first(standin: DiscordStandin, db_path) -> None:
    """/fit answers "thinking" first (type 5), then the verdict with detail buttons; no chart until asked."""
    async with running_bot(standin, db_path):
        followup = await _fit(standin)
        callback = standin.requests[[r is followup for r in standin.requests].index(True) - 1]
    assert _callback(callback) and callback.body["type"] == 5
    embed = followup.body["embeds"][0]
    assert embed["title"] == "Qwen/Qwen2.5-32B-Instruct"
    assert embed["description"].startswith("**Q4\\_K\\_M fits**: ")  # escaped by the Discord renderer
    assert "image" not in embed and not followup.files
    assert "fields" not in embed or not embed["fields"]
    custom_ids = [c["custom_id"] for row in followup.body["components"] for c in row["components"]]
    assert custom_ids == ["fit:table", "fit:chart", "fit:run", "fit:why", "fit:settings"]
    assert len(followup.body["components"]) == 2
    assert followup.body["allowed_mentions"] == {"parse": []}


async def test_autocomplete_offers_matching_models(standin: DiscordStandin, db_path) -> None:
    """Autocomplete (type 8) returns at most 25 choices of 1-100 chars, best match first."""
    async with running_bot(standin, db_path):
        options = [_opt("model", "qwen2.5 32", focused=True), _opt("budget", "")]
        await standin.inject(standin.command("fit", options, kind=AUTOCOMPLETE))
        callback = await standin.wait_for(_callback)
    assert callback.body["type"] == 8
    choices = callback.body["data"]["choices"]
    assert 1 <= len(choices) <= 25
    assert all(1 <= len(c["name"]) <= 100 for c in choices)
    assert choices[0]["value"] in {"Qwen/Qwen2.5-32B-Instruct", "Qwen/Qwen2.5-Coder-32B-Instruct"}
    assert "Qwen/Qwen2.5-32B-Instruct" in [c["value"] for c in choices]


async def test_bad_budget_is_answered_ephemerally_with_the_parser_message(standin: DiscordStandin, db_path) -> None:
    """A budget the parser rejects never reaches the command: one ephemeral line (flags 64)."""
    async with running_bot(standin, db_path):
        await standin.inject(standin.command("fit", [_opt("model", "qwen2.5-32b"), _opt("budget", "24 gigs")]))
        callback = await standin.wait_for(_callback)
        await asyncio.sleep(0.1)
    assert callback.body["type"] == 4
    assert callback.body["data"]["flags"] & EPHEMERAL
    assert "is not a size" in callback.body["data"]["content"]
    assert "try 24GB" in callback.body["data"]["content"]
    assert standin.count(_followup) == 0


async def test_unknown_model_is_answered_privately_before_any_public_message(standin: DiscordStandin, db_path) -> None:
    """A name that matches nothing gets one ephemeral reply with Discord advice; nothing public is posted."""
    async with running_bot(standin, db_path):
        await standin.inject(standin.command("fit", [_opt("model", "zzzz qqqq"), _opt("budget", "24GB")]))
        callback = await standin.wait_for(_callback)
        await asyncio.sleep(0.1)
    assert callback.body["type"] == 4 and callback.body["data"]["flags"] & EPHEMERAL
    content = callback.body["data"]["content"]
    assert "No model matches" in content and "model box" in content and "fitbot" not in content
    assert standin.count(_followup) == 0
    assert not [r for r in standin.requests if r.method == "DELETE"]


async def test_context_menu_reruns_the_estimate_in_place(standin: DiscordStandin, db_path) -> None:
    """Choosing "Context 32K" edits the same message (UPDATE_MESSAGE) with the 32,768-token estimate."""
    async with running_bot(standin, db_path):
        followup = await _fit(standin)
        start = len(standin.requests)
        await standin.inject(standin.select(followup.response, "fit:settings", ["ctx:32768"]))
        callback = await standin.wait_for(_callback, after=start)
    assert callback.body["type"] == 7
    assert "32,768 tokens of context" in callback.body["data"]["embeds"][0]["description"]
    assert "8,192 tokens of context" in followup.body["embeds"][0]["description"]
    menu = next(c for row in callback.body["data"]["components"] for c in row["components"] if c["type"] == 3)
    values = [o["value"] for o in menu["options"]]
    assert "ctx:32768" not in values and "ctx:8192" in values
    assert menu["placeholder"].startswith("32,768 tokens")


async def test_buttons_refuse_someone_else(standin: DiscordStandin, db_path) -> None:
    """Only the person who ran /fit can press its buttons; others get an ephemeral note."""
    async with running_bot(standin, db_path):
        followup = await _fit(standin, user_id=MEMBER_ID)
        start = len(standin.requests)
        await standin.inject(standin.component(followup.response, "fit:table", user_id=ADMIN_ID))
        callback = await standin.wait_for(_callback, after=start)
    assert callback.body["type"] == 4
    assert callback.body["data"]["flags"] & EPHEMERAL
    assert "belong to" in callback.body["data"]["content"]


async def test_define_sends_the_entry_with_related_buttons(standin: DiscordStandin, db_path) -> None:
    """/define moe: the entry, the live example, and one button per related term."""
    async with running_bot(standin, db_path):
        await standin.inject(standin.command("define", [_opt("term", "moe")]))
        followup = await standin.wait_for(_followup)
        start = len(standin.requests)
        await standin.inject(standin.component(followup.response, "define:router"))
        pressed = await standin.wait_for(_callback, after=start)
    embed = followup.body["embeds"][0]
    assert embed["title"] == "Mixture of experts (MoE)"
    assert any(f["name"] == "Live example" and "256 routed experts" in f["value"] for f in embed["fields"])
    labels = [c["label"] for row in followup.body["components"] for c in row["components"]]
    assert "Router (gate)" in labels
    assert pressed.body["type"] == 7 and pressed.body["data"]["embeds"][0]["title"] == "Router (gate)"


def _subscribe(standin: DiscordStandin, *, user_id: int, permissions: int, hour: int = 7) -> dict:
    options = [{"name": "subscribe", "type": OPTION_SUBCOMMAND, "options": [_opt("hour", hour, OPTION_INTEGER)]}]
    return standin.command("listing", options, user_id=user_id, permissions=permissions)


async def test_listing_subscribe_by_an_admin_is_stored(standin: DiscordStandin, db_path) -> None:
    """An admin (MANAGE_GUILD in the member's permissions) subscribes this channel at 07:00 UTC."""
    async with running_bot(standin, db_path) as bot:
        await standin.inject(_subscribe(standin, user_id=ADMIN_ID, permissions=SEND_AND_EMBED | MANAGE_GUILD))
        followup = await standin.wait_for(_followup)
        stored = await get_guild_settings(bot.db, GUILD_ID)
    assert followup.body["flags"] & EPHEMERAL
    assert "07:00 UTC" in followup.body["embeds"][0]["description"]
    assert stored is not None and (stored.channel_id, stored.post_hour_utc) == (CHANNEL_ID, 7)


async def test_listing_subscribe_is_refused_to_a_member(standin: DiscordStandin, db_path) -> None:
    """Without Manage Server the check refuses, ephemerally, and nothing is stored."""
    async with running_bot(standin, db_path) as bot:
        await standin.inject(_subscribe(standin, user_id=MEMBER_ID, permissions=SEND_AND_EMBED))
        callback = await standin.wait_for(_callback)
        stored = await get_guild_settings(bot.db, GUILD_ID)
    assert callback.body["type"] == 4 and callback.body["data"]["flags"] & EPHEMERAL
    assert "Manage Server" in callback.body["data"]["content"]
    assert stored is None


async def test_an_hour_outside_the_day_is_refused_with_what_to_type(standin: DiscordStandin, db_path) -> None:
    """Discord's client keeps hour in 0-23, a raw API call does not; the bot answers, stores nothing."""
    async with running_bot(standin, db_path) as bot:
        await standin.inject(_subscribe(standin, user_id=ADMIN_ID, permissions=SEND_AND_EMBED | MANAGE_GUILD, hour=99))
        callback = await standin.wait_for(_callback)
        stored = await get_guild_settings(bot.db, GUILD_ID)
    assert callback.body["data"]["flags"] & EPHEMERAL
    assert "0 to 23" in callback.body["data"]["content"]
    assert stored is None


async def _seed_listing(db_path) -> str:
    """A model re-read from its headers just now, and this channel subscribed at 00:00 UTC."""
    async with open_database(Settings(db_path=db_path)) as db:
        base = await get_model(db, "Qwen/Qwen3-30B-A3B")
        assert base is not None
        await upsert_model(db, replace(base, repo_id="standin-org/Qwen3-30B-A3B-Fresh", provenance="header", sha="a" * 40, aliases=()))
        await upsert_subscription(db, GUILD_ID, CHANNEL_ID, 0)
    return "standin-org/Qwen3-30B-A3B-Fresh"


async def test_daily_listing_posts_once_and_not_again_after_a_restart(standin: DiscordStandin, db_path) -> None:
    """The first start posts the due listing; a restart on the same database does not post again."""
    shown_name = await _seed_listing(db_path)
    async with running_bot(standin, db_path) as bot:
        post = await standin.wait_for(_channel_post)
        await _wait_runs(bot, 1)
    async with running_bot(standin, db_path) as bot:
        await _wait_runs(bot, 1)
        second = bot.listing.runs[0]
    description = post.body["embeds"][0]["description"]
    assert shown_name in description
    assert "30,532,122,624 parameters" in description or "parameters (30.5B)" in description
    assert "MoE 128 experts / top-8" in description
    assert "fits one" in description
    assert standin.count(_channel_post) == 1
    assert (second.posted, second.not_due) == (0, 1)


async def _wait_runs(bot, count: int) -> None:
    async with asyncio.timeout(60):  # a safety net on a condition, sized for a loaded machine
        while len(bot.listing.runs) < count:
            await asyncio.sleep(0.01)


async def test_sync_records_a_hash_and_the_bot_then_does_not_warn(standin: DiscordStandin, db_path, caplog) -> None:
    """sync-commands PUTs every command to the guild; afterwards `fitbot bot` starts without the warning."""
    settings = standin_settings(standin, db_path)
    async with running_bot(standin, db_path):
        pass
    assert "run `fitbot sync-commands`" in caplog.text
    async with open_bot(settings, serving=False) as bot:
        await bot.login(TOKEN)
        count = await sync_commands(bot.tree, bot.db, GUILD_ID)
    put = next(r for r in standin.requests if r.method == "PUT")
    assert put.path.endswith(f"/guilds/{GUILD_ID}/commands")
    assert {c["name"] for c in put.body} == {"fit", "model", "compare", "define", "rank", "new", "about", "help", "listing"} and count == 9
    listing = next(c for c in put.body if c["name"] == "listing")
    assert int(listing["default_member_permissions"]) == MANAGE_GUILD
    # A user-installable app: every answer command in servers, DMs and group DMs, installed either way;
    # /listing only in a server that installed the bot.
    for command in put.body:
        if command["name"] == "listing":
            assert (command["integration_types"], command["contexts"]) == ([0], [0])
        else:
            assert (sorted(command["integration_types"]), sorted(command["contexts"])) == ([0, 1], [0, 1, 2])
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        async with running_bot(standin, db_path):
            pass
    assert "sync-commands" not in caplog.text


async def test_a_rejected_token_is_one_clear_error_without_the_token(standin: DiscordStandin, db_path) -> None:
    """Discord's 401 at login becomes a SettingsError that says what to do and does not echo the token."""
    standin.rejected_token = TOKEN
    with pytest.raises(SettingsError) as caught:
        async with running_bot(standin, db_path):
            pass
    assert "Discord rejected DISCORD_TOKEN" in str(caught.value) and TOKEN not in str(caught.value)


async def test_each_command_logs_one_latency_line_without_user_ids(standin: DiscordStandin, db_path, caplog) -> None:
    """A command and a failed command each log one "command" line with its latency, and no ids."""
    with caplog.at_level(logging.INFO, logger="bot._discord._client"):
        async with running_bot(standin, db_path):
            # Its own user: the per-user cooldown is process-wide, and earlier tests ran /fit.
            await _fit(standin, user_id=424242)
            start = len(standin.requests)
            await standin.inject(standin.command("fit", [_opt("model", "qwen2.5-32b"), _opt("budget", "24 gigs")], user_id=424243))
            await standin.wait_for(_callback, after=start)
            async with asyncio.timeout(60):  # the latency line is logged after the answer went out
                while sum(r.getMessage() == "command" for r in caplog.records) < 2:
                    await asyncio.sleep(0.01)
    lines = [r for r in caplog.records if r.getMessage() == "command"]
    outcomes = sorted(r.fields["outcome"] for r in lines)
    assert outcomes == ["error:BudgetParseError", "ok"]
    assert all(r.fields["command"] == "fit" and r.fields["ms"] >= 0 for r in lines)
    assert all(set(r.fields) == {"command", "outcome", "ms"} for r in lines)


async def test_why_button_opens_the_notes_and_every_term_in_place(standin: DiscordStandin, db_path) -> None:
    """ "Why?" edits the answer to show the policy's notes, then each term of the estimate and its formula."""
    async with running_bot(standin, db_path):
        followup = await _fit(standin, user_id=515151)
        start = len(standin.requests)
        await standin.inject(standin.component(followup.response, "fit:why", user_id=515151))
        callback = await standin.wait_for(_callback, after=start)
    assert callback.body["type"] == 7
    embed = callback.body["data"]["embeds"][0]
    names = [f["name"] for f in embed["fields"]]
    assert names[0] == "Why this pick" and "RTX A5000" in embed["fields"][0]["value"]
    terms = [n.split(" = ")[0] for n in names if " = " in n]
    assert terms == ["weights on the GPU", "KV cache", "compute buffers", "runtime reserve"]
    assert any("2 (K and V) × kv_heads × head_dim" in f["value"] for f in embed["fields"])
    why = next(c for row in callback.body["data"]["components"] for c in row["components"] if c["custom_id"] == "fit:why")
    assert why["style"] == 1  # primary: the open detail


async def test_a_button_from_before_a_restart_says_it_expired(standin: DiscordStandin, db_path) -> None:
    """discord.py drops a press no live view claims; the bot answers it instead of letting it fail."""
    user = MEMBER_ID + 1  # the per-user cooldown is shared by the bots in this test process
    async with running_bot(standin, db_path):
        followup = await _fit(standin, user_id=user)
    async with running_bot(standin, db_path):
        start = len(standin.requests)
        await standin.inject(standin.component(followup.response, "fit:table", user_id=user))
        callback = await standin.wait_for(_callback, after=start)
    assert callback.body["data"]["flags"] & EPHEMERAL
    assert "expired" in callback.body["data"]["content"]


async def test_a_lost_connection_while_disabling_expired_buttons_is_not_an_error(caplog) -> None:
    """The timeout edit runs in a task nobody awaits; a dropped connection must end there quietly."""
    from bot._discord._views import OwnedView

    class DroppingMessage:
        async def edit(self, **_: object) -> None:
            raise aiohttp.ServerDisconnectedError()

    view = OwnedView(owner_id=MEMBER_ID)
    view.message = DroppingMessage()  # type: ignore[assignment]
    with caplog.at_level(logging.DEBUG, logger="bot._discord._views"):
        await view.on_timeout()
    assert "could not disable an expired view" in caplog.text
