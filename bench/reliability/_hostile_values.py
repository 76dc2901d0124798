"""A seeded generator of hostile interaction payloads, built from the bot's own command schema.

The schema is what ``fitbot sync-commands`` sends Discord (``command_payload``), so every
option of every command gets a value of the type Discord would deliver (a string, an
integer, a resolved channel), but its content is hostile: random, oversized (far past
the 200 characters Discord would allow), unicode, markdown, mentions, control and
zero-width characters, numbers that overflow, or real names and budgets laced with all
of those. Choice options get values outside their choices too. Lone surrogates are left
out: Discord's gateway is UTF-8 JSON and cannot carry them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from tests.bot.discord.discord_standin import (
    AUTOCOMPLETE,
    CHANNEL_ID,
    GUILD_ID,
    MANAGE_GUILD,
    SEND_AND_EMBED,
    DiscordStandin,
)

from ._discord_load import Interaction

SUBCOMMAND, STRING, INTEGER, CHANNEL = 1, 3, 4, 7
MENTIONS = ("@everyone", "@here", "<@123456789012345678>", "<@!42>", "<@&987654321098765432>",
            f"<#{CHANNEL_ID}>", "</fit:1>", "<t:0:R>", "<:pwn:1>", "<a:pwn:2>", "@\u200beveryone")
MARKDOWN = ("**", "__", "*", "_", "~~", "||", "`", "```", "```py\n", "> ", ">>> ", "# ", "-# ", "- ", "1. ",
            "[click](https://evil.invalid)", "<https://evil.invalid>", "\\", "](", "\n", "\r\n", "\t")
CONTROL = (*(chr(c) for c in range(32)), "\x7f", "\x85", "\u200b", "\u200c", "\u200d", "\u200e", "\u200f",
           "\u202a", "\u202e", "\u2060", "\u2066", "\ufeff", "\u2028", "\u2029", "\ufff9", "\U000e0001", "\x1b[31m")
UNICODE = ("Ω", "ß", "İ", "ﬁ", "ǅ", "a\u0301", "\u0301" * 30, "👨‍👩‍👧‍👦", "🏳️‍🌈", "𝕿𝖊𝖘𝖙", "﷽", "مرحبا", "中文模型",
           "\U0010fffd", "\ue000", "Ⅻ", "٣٢", "½", "\u00a0", "\u3000", "ＱＷＥＮ", "２４ＧＢ", "Ａ" * 3, "ᵍᵖᵘ")
REAL = ("qwen2.5-32b", "llama 3.1 8b", "deepseek v3", "Qwen/Qwen3-30B-A3B", "gpt-oss-120b", "mixtral 8x7b",
        "24GB", "2x3090", "RTX 4090", "M3 Max 128GB", "3090 + 64GB RAM", "8x H100", "32k", "8192", "128k",
        "q8_0", "f16", "q4_0", "kv cache", "moe", "Q4_K_M", "parameter", "gguf")
NUMERIC = ("0", "-1", "1e309", "nan", "inf", "-inf", "9" * 400, "0x10", "1_000", "24 GB" * 40, "9" * 30 + "GB",
           "0.0000001GB", "-24GB", "1e-300GB", "1" + "0" * 4000, "٢٤GB", "24GB" + "\u0000", "2x" * 100 + "3090",
           "99999x3090", "0x3090", "24GB + 99999999TB RAM", "1e18k", "-32k", "32k" * 50, "0k")
INTEGERS = (-(2**53), -(2**31), -1, 0, 1, 7, 23, 24, 90, 91, 2**31, 2**53)
# Plausible values per option name: a fifth of the commands use only these, so that real
# answers (with buttons to press) come back too, not only refusals.
PLAUSIBLE = {
    "model": REAL[:6], "a": REAL[:6], "b": REAL[:6], "budget": REAL[6:12], "context": REAL[12:15],
    "kv_cache": REAL[15:18], "term": REAL[18:], "days": (1, 7, 30), "hour": (0, 9, 23),
}


class HostileValues:
    """Seeded hostile strings, integers and channels."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._kinds: list[tuple[Callable[[], str], int]] = [
            (self.ascii, 10), (self.oversized, 10), (self.soup(UNICODE), 10), (self.soup(MARKDOWN), 10),
            (self.soup(MENTIONS), 10), (self.soup(CONTROL), 10), (self.laced, 25), (self.numeric, 8),
            (lambda: self.rng.choice(("", " ", "\u200b", "\n")), 2), (lambda: self.rng.choice(REAL), 5),
        ]

    def string(self) -> str:
        kinds, weights = zip(*self._kinds)
        return self.rng.choices(kinds, weights)[0]()

    def ascii(self) -> str:
        return "".join(chr(self.rng.randrange(32, 127)) for _ in range(self.rng.randint(1, 60)))

    def soup(self, pieces: tuple[str, ...]) -> Callable[[], str]:
        return lambda: "".join(self.rng.choice(pieces + ("x", " ", "qwen")) for _ in range(self.rng.randint(1, 20)))

    def oversized(self) -> str:
        size = self.rng.choice((201, 257, 1025, 2001, 4097, 6001, 10_000))
        piece = self.rng.choice((*MENTIONS, *MARKDOWN, *UNICODE, "a", "qwen2.5-32b ", "24GB"))
        return (piece * (size // max(1, len(piece)) + 1))[:size]

    def laced(self) -> str:
        """A real value with hostile pieces spliced in."""
        text = self.rng.choice(REAL)
        for _ in range(self.rng.randint(1, 4)):
            at = self.rng.randint(0, len(text))
            piece = self.rng.choice((*MENTIONS, *MARKDOWN, *CONTROL, *UNICODE))
            text = text[:at] + piece + text[at:]
        return text

    def numeric(self) -> str:
        return self.rng.choice(NUMERIC)

    def integer(self) -> int:
        return self.rng.choice(INTEGERS) if self.rng.random() < 0.7 else self.rng.randint(-1000, 1000)

    def channel(self, kind: int) -> tuple[str, dict]:
        """A channel option's value and its resolved entry, with a hostile name."""
        channel_id = str(self.rng.choice((CHANNEL_ID, 900000000000000201, 2**63 - 1, 1)))
        entry = {"id": channel_id, "name": self.string()[:100] or "x", "type": kind,
                 "permissions": str(self.rng.choice((0, SEND_AND_EMBED))), "guild_id": str(GUILD_ID),
                 "position": 0, "permission_overwrites": [], "nsfw": False, "parent_id": None}
        return channel_id, entry


class PayloadMaker:
    """Interaction payloads for every command in ``schema`` (``command_payload``'s output)."""

    def __init__(self, standin: DiscordStandin, schema: list[dict], rng: random.Random, *, users: int = 5000,
                 plausible_share: float = 0.2) -> None:
        self.standin = standin
        self.plausible_share = plausible_share  # commands built from plausible values only; the rest hostile
        self.past_discord = False  # set while building a payload with a value Discord would refuse
        self.schema = [c for c in schema if c.get("type", 1) == 1]
        self.rng = rng
        self.values = HostileValues(rng)
        self.users = users
        self.plausible = False  # set while building a command from plausible values only
        self.autocompleted = [(c, path, o) for c in self.schema for path, o in _leaves(c) if o.get("autocomplete")]

    def user(self) -> int:
        """Mostly fresh users (the cooldown is per user), sometimes one of a few busy ones."""
        if self.rng.random() < 0.1:
            return 777_000 + self.rng.randrange(3)
        return 1_000_000 + self.rng.randrange(self.users)

    def command(self) -> Interaction:
        spec = self.rng.choice(self.schema)
        self.past_discord = False
        self.plausible = self.rng.random() < self.plausible_share
        options, resolved, name = self._options(spec)
        user = self.user()
        admin = self.rng.random() < 0.5
        payload = self.standin.command(spec["name"], options, user_id=user,
                                       permissions=SEND_AND_EMBED | (MANAGE_GUILD if admin else 0))
        if resolved:
            payload["data"]["resolved"] = {"channels": resolved}
        return Interaction("command", name, user, self._maybe_dm(payload), self.past_discord)

    def autocomplete(self) -> Interaction:
        spec, path, focused = self.rng.choice(self.autocompleted)
        options, _, name = self._options(spec, path=path)
        target = options
        for step in path[:-1]:
            target = next(o for o in target if o["name"] == step)["options"]
        chosen = next((o for o in target if o["name"] == focused["name"]), None)
        if chosen is None:
            chosen = {"name": focused["name"], "type": STRING, "value": ""}
            target.append(chosen)
        chosen["focused"] = True
        if self.rng.random() < self.plausible_share:  # someone typing a real name, keystroke by keystroke
            name = str(self.rng.choice(PLAUSIBLE.get(focused["name"], REAL)))
            chosen["value"] = name[: self.rng.randint(0, len(name))]
        else:
            chosen["value"] = self.values.string() if self.rng.random() < 0.9 else ""
        user = self.user()
        payload = self.standin.command(spec["name"], options, user_id=user, kind=AUTOCOMPLETE)
        return Interaction("autocomplete", f"{name}.{focused['name']}", user, payload)

    def _options(self, spec: dict, path: tuple[str, ...] | None = None) -> tuple[list[dict], dict, str]:
        options = spec.get("options") or []
        subs = [o for o in options if o["type"] == SUBCOMMAND]
        if subs:
            sub = next(o for o in subs if o["name"] == path[0]) if path and len(path) > 1 else self.rng.choice(subs)
            inner, resolved, _ = self._options(sub)
            return [{"name": sub["name"], "type": SUBCOMMAND, "options": inner}], resolved, f"{spec['name']} {sub['name']}"
        out, resolved = [], {}
        for option in options:
            if not option.get("required") and self.rng.random() < 0.4:
                continue
            value = self._value(option, resolved)
            out.append({"name": option["name"], "type": option["type"], "value": value})
        return out, resolved, spec["name"]

    def _value(self, option: dict, resolved: dict) -> object:
        """A hostile value of the option's type; notes when Discord's own checks would refuse it."""
        kind = option["type"]
        if self.plausible and option["name"] in PLAUSIBLE:
            return self.rng.choice(PLAUSIBLE[option["name"]])
        if kind == INTEGER:
            value = self.values.integer()
            low, high = option.get("min_value", -(2**53)), option.get("max_value", 2**53)
            self.past_discord |= not low <= value <= high
            return value
        if kind == CHANNEL:
            allowed = option.get("channel_types") or [0]
            channel_type = self.rng.choice(allowed) if self.rng.random() < 0.8 else self.rng.choice((2, 4, 13, 15))
            self.past_discord |= channel_type not in allowed
            channel_id, entry = self.values.channel(channel_type)
            resolved[channel_id] = entry
            return channel_id
        choices = option.get("choices") or []
        if choices and self.rng.random() < 0.5:
            return self.rng.choice(choices)["value"]
        value = self.values.string()
        low, high = option.get("min_length", 1 if option.get("required") else 0), option.get("max_length", 6000)
        self.past_discord |= bool(choices) or not low <= len(value) <= high
        return value

    def _maybe_dm(self, payload: dict) -> dict:
        """Now and then, the same interaction from a direct message (no server, no member)."""
        if self.rng.random() >= 0.05:
            return payload
        member = payload.pop("member")
        payload.pop("guild_id", None)
        payload["user"] = member["user"]
        payload["channel"] = {"id": str(CHANNEL_ID + 1), "type": 1, "recipients": [member["user"]]}
        payload["channel_id"] = str(CHANNEL_ID + 1)
        payload["context"] = 1
        payload.pop("authorizing_integration_owners", None)
        return payload


def _leaves(command: dict, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], dict]]:
    out = []
    for option in command.get("options") or []:
        if option["type"] == SUBCOMMAND:
            out += _leaves(option, (*path, option["name"]))
        else:
            out.append(((*path, option["name"]), option))
    return out


def click_payload(standin, rng: random.Random, maker: PayloadMaker) -> Interaction | None:
    """A press of a button as a Discord client shows it (enabled, on the message's current
    components), by its owner or, a fifth of the time, by someone else."""
    now = time.monotonic()
    idle = [m for m, (_, _, shown) in getattr(standin, "clickable", {}).items() if m not in standin.busy and shown <= now]
    if not idle:
        return None
    message, owner, _ = standin.clickable[rng.choice(idle)]
    buttons = [c for row in message["components"] for c in row["components"]
               if c.get("custom_id") and not c.get("disabled")]
    if not buttons:
        return None
    custom_id = rng.choice(buttons)["custom_id"]
    user = owner if rng.random() < 0.8 else maker.user()
    payload = standin.component(message, custom_id, user_id=user)
    return Interaction("component", custom_id, user, payload, message_id=message["id"])


def next_interaction(standin, maker: PayloadMaker, rng: random.Random) -> Interaction:
    """A command (45%), an autocomplete request (40%) or a button press (15%)."""
    draw = rng.random()
    if draw < 0.15 and (click := click_payload(standin, rng, maker)) is not None:
        return click
    return maker.autocomplete() if draw < 0.55 else maker.command()
