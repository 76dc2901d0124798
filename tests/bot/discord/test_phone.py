"""Every answer at phone width, on the stand-in: code blocks of at most 40 columns without emoji,
a short /fit verdict, details behind buttons, /rank in pages, and every error private (flags 64)."""

from __future__ import annotations

import asyncio
import itertools
import math
import re
import shutil
import subprocess
import unicodedata

import pytest

from bot._discord._phone import PHONE_COLUMNS, narrow_table, no_emoji, wrap_command
from bot._document import Column, Table, table_lines

from .conftest import running_bot
from .discord_standin import EPHEMERAL, DiscordStandin

pytestmark = pytest.mark.network

FENCE = "```"
# The default /fit answer: "about 12 lines" at phone width (issue 12 §5), counted as below.
FIT_PHONE_LINES = 13
_users = itertools.count(700000000000000001)  # one user per command: the cooldown is per user


def _opt(name: str, value: str) -> dict:
    return {"name": name, "type": 3, "value": value}


def _followup(r) -> bool:
    return r.method == "POST" and "/webhooks/" in r.path


def _callback(r) -> bool:
    return r.method == "POST" and r.path.endswith("/callback")


def _texts(embed: dict) -> list[str]:
    """What a phone shows of an embed, top to bottom."""
    out = [embed.get("title", "")]
    if embed.get("description"):
        out.append(embed["description"])
    for field in embed.get("fields", []):
        out += [field["name"], field["value"]]
    if embed.get("footer"):
        out.append(embed["footer"]["text"])
    return out


def _code_lines(embed: dict) -> list[str]:
    lines = []
    for text in _texts(embed):
        inside = False
        for line in text.split("\n"):
            if line.startswith(FENCE):
                inside = not inside
            elif inside:
                lines.append(line)
    return lines


def _visible(line: str) -> str:
    """A markdown line as shown: no emphasis markers, no escapes."""
    return re.sub(r"\\(.)", r"\1", line.replace("**", ""))


def phone_lines(embed: dict) -> int:
    """Lines on a 40-column screen: every shown line wrapped at 40 characters (fences are not shown)."""
    return sum(
        max(1, math.ceil(len(_visible(line)) / PHONE_COLUMNS))
        for text in _texts(embed)
        for line in text.split("\n")
        if not line.startswith(FENCE)
    )


def _has_emoji(text: str) -> bool:
    return any(unicodedata.category(c) == "So" for c in text)


def assert_phone_width(embed: dict) -> None:
    code = _code_lines(embed)
    assert all(len(line) <= PHONE_COLUMNS for line in code), max(code, key=len)
    assert not any(_has_emoji(line) for line in code)


async def _run(standin: DiscordStandin, name: str, options: list[dict]) -> object:
    """Run a command as a fresh user; the first reply (followup, or an immediate callback message)."""
    start = len(standin.requests)
    await standin.inject(standin.command(name, options, user_id=next(_users)))
    return await standin.wait_for(
        lambda r: _followup(r) or (_callback(r) and r.body.get("type") == 4), after=start
    )


FITS = [
    ("qwen2.5-32b", "24GB"),
    ("Qwen/Qwen3-30B-A3B", "RTX 3060"),
    ("openai/gpt-oss-120b", "M4 Max 128GB"),
    ("deepseek-ai/DeepSeek-V3", "2x3090 + 128GB RAM"),
    ("meta-llama/Llama-3.1-8B-Instruct", "RX 6700 XT"),
]


async def test_every_fit_answer_is_a_short_verdict_without_code(standin: DiscordStandin, db_path) -> None:
    """/fit's default answer: the pick first, no code block, at most ~12 lines on a phone."""
    async with running_bot(standin, db_path):
        replies = [await _run(standin, "fit", [_opt("model", m), _opt("budget", b)]) for m, b in FITS]
    for (model, budget), reply in zip(FITS, replies, strict=True):
        embed = reply.body["embeds"][0]
        assert not _code_lines(embed), model
        assert phone_lines(embed) <= FIT_PHONE_LINES, (model, budget, phone_lines(embed))
        assert "CUDA" not in embed["footer"]["text"]


@pytest.mark.parametrize(
    ("name", "options", "most_lines"),
    [
        ("model", [_opt("model", "deepseek v3")], 40),
        ("compare", [_opt("a", "qwen2.5-32b"), _opt("b", "llama 3.3 70b")], 40),
        ("define", [_opt("term", "kv cache")], 40),
        ("rank", [_opt("budget", "24GB")], 18),
        ("rank", [_opt("budget", "RTX 3090"), _opt("use", "code")], 15),
    ],
)
async def test_other_answers_fit_a_phone(standin: DiscordStandin, db_path, name, options, most_lines) -> None:
    """/model, /compare, /define and /rank: code blocks within 40 columns, no emoji in them, bounded length."""
    async with running_bot(standin, db_path):
        reply = await _run(standin, name, options)
    embed = reply.body["embeds"][0]
    assert_phone_width(embed)
    assert phone_lines(embed) <= most_lines, phone_lines(embed)


async def _press(standin: DiscordStandin, message: dict, custom_id: str, user_id: int):
    start = len(standin.requests)
    await standin.inject(standin.component(message, custom_id, user_id=user_id))
    return await standin.wait_for(_callback, after=start)


async def test_detail_buttons_show_table_chart_commands_and_why(standin: DiscordStandin, db_path) -> None:
    """Table, Chart, How to run and Why? each open their detail in place; pressing again closes it."""
    user = next(_users)
    async with running_bot(standin, db_path):
        start = len(standin.requests)
        options = [_opt("model", "Qwen/Qwen3-30B-A3B"), _opt("budget", "RTX 3060")]
        await standin.inject(standin.command("fit", options, user_id=user))
        first = (await standin.wait_for(_followup, after=start)).response
        table = await _press(standin, first, "fit:table", user)
        # Discord edits the same message in place; the view answers presses on that message id.
        start = len(standin.requests)
        deferred = await _press(standin, first, "fit:chart", user)
        # The chart is drawn after the acknowledgement (type 6), then the message is edited.
        chart = await standin.wait_for(lambda r: r.method == "PATCH" and r.path.endswith("/@original"), after=start)
        run = await _press(standin, first, "fit:run", user)
        why = await _press(standin, first, "fit:why", user)
        closed = await _press(standin, first, "fit:why", user)
    assert deferred.body["type"] == 6
    embeds = {name: r.body["data"]["embeds"][0] for name, r in (("table", table), ("run", run), ("why", why), ("closed", closed))}
    embeds["chart"] = chart.body["embeds"][0]
    for embed in embeds.values():
        assert_phone_width(embed)
    assert embeds["table"]["fields"][0]["name"].startswith("Memory at 8,192 tokens")
    assert "Q4_K_M" in "\n".join(_code_lines(embeds["table"]))
    assert embeds["chart"]["image"]["url"] == "attachment://fit.png"
    assert chart.files and chart.files[0][1].startswith(b"\x89PNG\r\n\x1a\n")
    assert "image" not in embeds["run"] and not run.files  # the chart goes when another detail opens
    assert embeds["run"]["fields"][0]["name"] == "How to run"
    assert "llama-server" in embeds["run"]["fields"][0]["value"]
    assert embeds["why"]["fields"][0]["name"] == "Why this pick"
    assert "fields" not in embeds["closed"] or not embeds["closed"]["fields"]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash to read the wrapped command")
async def test_how_to_run_commands_paste_back_into_the_same_command(standin: DiscordStandin, db_path) -> None:
    """Each wrapped command, read by bash, gives the recommendation's command word for word."""
    from bot._recommendation import recommendation_for
    from bot._service import CatalogService
    from bot._parsers import ModelRef
    from estimator import parse_budget
    from store import Database

    db = await Database.open(db_path)
    try:
        answer = await CatalogService(db).fit(ModelRef("meta-llama/Llama-3.1-405B-Instruct"), parse_budget("8xH100"))
    finally:
        await db.close()
    for _, command in recommendation_for(answer).launch:
        lines = wrap_command(command)
        assert all(len(line) <= PHONE_COLUMNS for line in lines)
        words = subprocess.run(
            ["bash", "-c", 'printf "%s\\n" ' + "\n".join(lines)], capture_output=True, text=True, check=True
        ).stdout.split("\n")[:-1]
        assert words == command.split()


def test_a_word_longer_than_a_line_is_cut_and_rejoined_by_bash() -> None:
    """A 70-character repo id is cut with a bare backslash; bash joins it back."""
    command = "vllm serve " + "org/" + "x" * 66 + " --max-model-len 8192"
    lines = wrap_command(command)
    assert all(len(line) <= PHONE_COLUMNS for line in lines)
    out = subprocess.run(["bash", "-c", 'printf "%s\\n" ' + "\n".join(lines)], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:-1] == command.split()


def test_a_wide_table_is_split_repeating_its_key_column() -> None:
    """A 58-column table becomes tables of at most 40 columns; every cell is still there, without emoji."""
    table = Table(
        (Column("quant", 9), Column("weights", 8, ">"), Column("KV", 6, ">"), Column("other", 6, ">"),
         Column("total", 7, ">"), Column("verdict", 11, "<", gap=2), Column("max ctx", 8, ">")),
        (("Q4_K_M", "18.1", "2.0", "0.7", "20.8", "✅ fits", "20,992"), ("BF16", "59.6", "2.0", "0.7", "62.3", "❌ no", "—")),
    )
    assert max(len(line) for line in table_lines(table)) > PHONE_COLUMNS
    parts = narrow_table(table)
    assert len(parts) > 1
    for part in parts:
        assert part.columns[0].name == "quant"
        assert all(len(line) <= PHONE_COLUMNS for line in table_lines(part))
    cells = {cell for part in parts for row in part.rows for cell in row}
    assert {"fits", "no", "20,992", "62.3"} <= cells and not any(_has_emoji(c) for c in cells)
    assert no_emoji("🟠 offload") == "offload"


async def test_rank_pages_turn_with_buttons_and_name_their_signals(standin: DiscordStandin, db_path) -> None:
    """/rank lists five models a page, says what ranks them, and Next shows models 6-10."""
    user = next(_users)
    async with running_bot(standin, db_path):
        start = len(standin.requests)
        await standin.inject(standin.command("rank", [_opt("budget", "24GB")], user_id=user))
        first = await standin.wait_for(_followup, after=start)
        page = await _press(standin, first.response, "page:next", user)
    embed = first.body["embeds"][0]
    assert embed["description"].startswith("**1. ") and "**5. " in embed["description"]
    assert "**6. " not in embed["description"]
    footer = embed["footer"]["text"]
    assert "downloads and likes" in footer and "page 1/" in footer
    assert "Speeds assume the slowest card" in footer  # a bare "24GB": the card is assumed, and said
    assert page.body["type"] == 7 and page.body["data"]["embeds"][0]["description"].startswith("**6. ")


async def test_rank_by_use_lists_only_that_kind(standin: DiscordStandin, db_path) -> None:
    """use:code keeps coder models only."""
    async with running_bot(standin, db_path):
        reply = await _run(standin, "rank", [_opt("budget", "RTX 3090"), _opt("use", "code")])
    embed = reply.body["embeds"][0]
    names = re.findall(r"\*\*\d+\. (.+?)\*\*", embed["description"])
    assert names and all("code" in _visible(n).lower() for n in names)
    assert embed["title"].endswith("for code")
    assert "assume" not in embed["footer"]["text"]  # a named card: nothing assumed


@pytest.mark.parametrize(
    ("name", "options", "says"),
    [
        ("fit", [_opt("model", "zzzz qqqq"), _opt("budget", "24GB")], "model box"),
        ("fit", [_opt("model", "qwen2.5-32b"), _opt("budget", "24 gigs")], "try 24GB"),
        ("model", [_opt("model", "zzzz qqqq")], "model box"),
        ("compare", [_opt("a", "qwen2.5-32b"), _opt("b", "zzzz qqqq")], "model box"),
        ("define", [_opt("term", "flux capacitor")], "term box"),
        ("rank", [_opt("budget", "24 gigs")], "try 24GB"),
        ("rank", [_opt("budget", "24GB"), _opt("use", "poetry")], "chat, code"),
    ],
)
async def test_every_error_is_private(standin: DiscordStandin, db_path, name, options, says) -> None:
    """A refused command is one ephemeral line (flags 64) that says what to do; nothing is posted publicly."""
    async with running_bot(standin, db_path):
        reply = await _run(standin, name, options)
        await asyncio.sleep(0.1)
    assert _callback(reply) and reply.body["data"]["flags"] & EPHEMERAL
    assert says in reply.body["data"]["content"] and "fitbot" not in reply.body["data"]["content"]
    assert standin.count(_followup) == 0
