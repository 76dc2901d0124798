"""docs/reliability.md from the items' results: a summary, the bugs found, then each item."""

from __future__ import annotations

import importlib
from datetime import datetime

from ._common import ItemResult

MODULES = {1: "_crawl_faults", 2: "_crash", 3: "_readers", 4: "_hostile_input", 5: "_hostile_hub", 6: "_soak", 7: "_secrets",
           8: "_loud_outage", 9: "_cancel_writes", 10: "_loaded_suite"}
# What these checks found while they were being built; each is fixed, and a test keeps it fixed.
FOUND_AND_FIXED = (
    "\"database is locked\" on /listing subscribe during a crawl (the soak): a read on the bot's shared "
    "connection held its snapshot across an await, so another task's `BEGIN IMMEDIATE` failed at once "
    "(SQLITE_BUSY_SNAPSHOT) instead of waiting. Reads now run in one call into aiosqlite's thread "
    "(store/_db.py). Test: tests/reliability/test_write_during_reads.py.",
    "A press on a button sent before the bot restarted got no reply (\"This interaction failed\"): discord.py "
    "drops presses no live view claims. `FitBot.on_interaction` now answers them. Tests: "
    "tests/reliability/test_hostile_input.py, tests/bot/discord/test_e2e.py.",
    "An error about a 10 KB repo id made a 3,001-character reply that Discord refuses: the text was cut to "
    "1,900 characters and then escaped. `escape()` now counts its escapes against the limit (bot/_safe.py). "
    "Tests: tests/reliability/test_hostile_hub.py, tests/bot/test_commands_and_safety.py.",
    "A repo id with a space, `<` or a zero-width character went raw into the embed URL, so Discord refused the "
    "whole answer, and the terminal printed the invisible characters. `hub_url` now percent-encodes "
    "(bot/_answer_fit.py). Test: tests/reliability/test_hostile_hub.py.",
    "The terminal twin printed a 10 KB repo id in full in the \"cannot be sized\" error. `ModelUnusableError` "
    "now cleans and truncates the Hub's text (bot/errors.py). Test: tests/reliability/test_hostile_hub.py.",
    "A dropped connection while disabling an expired view's buttons became \"Task exception was never "
    "retrieved\" (a 60,000-interaction soak): aiohttp's error is not discord.py's. `OwnedView.on_timeout` "
    "catches both. Test: tests/bot/discord/test_e2e.py.",
    "The bot's memory grew after every name-index rebuild (the soak: +15% in the 20 s after one): the rebuild "
    "froze every live object out of the cyclic GC's sight, views with buttons included, so a view that expired "
    "later was never freed. Each rebuild now unfreezes, collects, then freezes (bot/_discord/_client.py). "
    "Test: tests/bot/discord/test_freeze.py.",
    "/listing subscribe with an hour outside 0-23 (Discord's client prevents it, a raw API call does not) hit "
    "the store's CHECK constraint: a traceback and \"something went wrong\". It is now refused with what to "
    "type. Test: tests/bot/discord/test_e2e.py.",
    "An unreachable Hub looked healthy (issue 14): `fitbot crawl` against a closed port ran 470.7 s (as reported in the issue), printed every "
    "retry line twice and ended \"completed\", exit 0. huggingface_hub's paginate retries each listing call 5 times "
    "(23 s) inside our own 6 tries; the crawl now asks one cheap question first (at most ~15 s of backoff, 45 s in "
    "all) and an `OutageBreaker` stops it at 18 of the last 20 repos; huggingface_hub's own stderr handler is removed "
    "(bot/_logging.py). Tests: tests/crawler/test_outage.py; item 8.",
    "\"cannot start a transaction within a transaction\" in `finish_run` (issue 14): a writer cancelled while its "
    "BEGIN waited in aiosqlite's thread got a transaction anyway (aiosqlite runs what is queued) and never rolled it "
    "back. `Database.write()` now queues a ROLLBACK on every way out but a finished COMMIT (store/_db.py). Tests: "
    "tests/store/test_cancellation.py, tests/crawler/test_heartbeat.py; item 9.",
    "The soak's per-user cooldowns never expired: the Discord stand-in's snowflakes counted up from its start time, so "
    "every interaction was \"created\" at the same millisecond and discord.py's cooldown mapping, pruned by that "
    "clock, kept all 20,000 users (+1,000 Cooldown objects per 3,000 interactions). A stand-in bug, not a production "
    "one: ids now carry the time they are made (tests/bot/discord/discord_standin.py).",
    "A Hub that died in the middle of a listing still took about 150 s per listing call (issue 14): huggingface_hub "
    "retries each page 5 times (23 s of sleeps), our call retried the whole listing 6 times on top, and after a "
    "refused connection huggingface_hub replaced its shared client with one that had none of our hooks (no timeout, "
    "no metering). A listing call now gets 2 tries and is given up once the Hub has sent no answer for 30 s "
    "(`RetryPolicy.listing_quiet_s`, checked in the request hook, restarted by every answer), the recreated client "
    "keeps the hooks (`set_client_factory`), and discovery stops at the first listing the Hub kept failing "
    "(crawler/_session.py, _hub.py, _crawl.py). Tests: tests/crawler/test_listing_quiet.py; item 8.",
    "`/new` with a day count outside 1-90 from a raw API call (Discord's client keeps the range, the soak's hostile "
    "values do not) raised OverflowError in `timedelta` and logged an ERROR: `run_new` now refuses it with what to "
    "type (bot/_commands.py). Test: tests/bot/discord/test_answers_misc.py.",
    "The suite failed once under load (issue 14, loaded suite run 1): "
    "`test_the_baseline_is_fault_free_and_cheaper` requires no retry in item 1's fault-free crawl, which used the "
    "item's scaled 1 s read timeout, so on a loaded machine a slow answer became a retry. The baseline now keeps "
    "the production 30 s read timeout (bench/reliability/_crawl_faults.py).",
    "The bot's RSS grew 16.7% after warm-up over the 60,000-interaction soak (190 to 222 MiB) while Python's own "
    "live memory fell (pymalloc in use -6.7 MiB): most of it (+18 MiB) was memory glibc's malloc had been handed "
    "back and kept, spread over the arenas of the bot's threads. The bot now returns it to the kernel each minute "
    "with `malloc_trim(0)` (bot/_malloc_trim.py, Linux/glibc only); the same soak then grew 5.5%, and nothing in "
    "its second half. mallinfo still counts the returned pages as free chunks, so 'freed, still held' keeps "
    "growing in the table while RSS does not. Test: tests/bot/test_malloc_trim.py; item 6.",
)


def item_text(number: int) -> str:
    """The item module's docstring: what it runs and how each condition is checked."""
    module = importlib.import_module(f"bench.reliability.{MODULES[number]}")
    return (module.__doc__ or "").strip()


def render(results: list[ItemResult], *, command: str, started: datetime, elapsed_s: float, machine: str) -> str:
    lines = [
        "# Reliability under load, faults and hostile input",
        "",
        f"Generated by `{command}` on {started:%Y-%m-%d %H:%M} UTC in {elapsed_s / 60:.1f} min, on {machine}.",
        "Every load and fault went to 127.0.0.1 only (the local Hub and Discord stand-ins); every loop is "
        "bounded in count and time. Issues 7 and 14 list the conditions; each section says how they were checked.",
        "",
        "| item | result | time |",
        "|---|---|---|",
    ]
    for r in results:
        verdict = "pass" if r.ok else f"**FAIL** ({len(r.problems)} problems)"
        lines.append(f"| {r.number}. {r.title} | {verdict} | {r.elapsed_s:.0f} s |")
    lines += ["", "## Bugs these checks found, all fixed", ""]
    lines += [f"{n}. {text}" for n, text in enumerate(FOUND_AND_FIXED, 1)]
    for r in results:
        lines += _section(r)
    return "\n".join(lines) + "\n"


def _section(r: ItemResult) -> list[str]:
    out = ["", f"## {r.number}. {r.title}", "", item_text(r.number), "", "| figure | value |", "|---|---|"]
    out += [f"| {name} | {_cell(value)} |" for name, value in r.figures]
    problems = list(r.problems)
    if problems:
        out += ["", f"Problems ({len(problems)}{', first 15' if len(problems) > 15 else ''}):", ""]
        out += [f"- {_code(p[:300])}" for p in problems[:15]]
    if r.details:
        out += ["", r.details]
    return out


HOSTILE = set("<>@*_~`[]#")


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell: invisible characters spelled out, and text
    that could format or mention (hostile examples) shown as code."""
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(text)).replace("\n", " ")
    return (_code(text) if HOSTILE & set(text) else text).replace("|", "\\|")


def _code(text: str) -> str:
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(text)).replace("\n", " ")
    return "`" + text.replace("`", "'") + "`"
