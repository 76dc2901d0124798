"""Discord's limits on what a bot sends, checked on the JSON bodies the stand-in recorded.

Lengths are Unicode code points, as Discord's API counts them (discord-api-docs#1315:
"the API calculates length based on the number of codepoints"). A message that breaks
any of these is rejected whole (HTTP 400), so a hostile value that pushes one field over
means the user gets no answer at all.
"""

from __future__ import annotations

import re

CONTENT = 2000
EMBEDS = 10
TITLE = 256
DESCRIPTION = 4096
FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
AUTHOR = 256
EMBED_TOTAL = 6000  # across every embed of one message
CHOICES = 25
CHOICE_TEXT = 100
ACTION_ROWS = 5
ROW_ITEMS = 5
LABEL = 80
CUSTOM_ID = 100
NO_PINGS = {"parse": []}
# What would ping if mentions were parsed: @everyone, @here, <@id>, <@!id>, <@&role>.
# (A channel link <#id> never pings, and the listing's own replies use one on purpose.)
PING = re.compile(r"@(everyone|here)(?!\u200b)|<@[!&]?\d+>")
# Control characters (newline and tab are layout) and bidirectional overrides, which can
# reorder what a reader sees; the bot's own text never contains them.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

# A URL Discord can take: http(s) or an attachment, only characters RFC 3986 allows (anything
# else percent-encoded). Discord answers 400 "Not a well formed URL" for the rest, and the
# whole message is lost.
URL = re.compile(r"^(https?|attachment)://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+$")

CALLBACK_MESSAGE = (4, 7)  # CHANNEL_MESSAGE_WITH_SOURCE, UPDATE_MESSAGE
CALLBACK_DEFERRED = (5, 6)
CALLBACK_AUTOCOMPLETE = 8


def body_problems(method: str, path: str, body: object) -> list[str]:
    """Everything wrong with one request the bot sent (an empty list when it is fine)."""
    if not isinstance(body, dict):
        return []
    if path.endswith("/callback"):
        kind = body.get("type")
        data = body.get("data") or {}
        if kind == CALLBACK_AUTOCOMPLETE:
            return choice_problems(data.get("choices"))
        if kind in CALLBACK_MESSAGE:
            return message_problems(data)
        return []
    if method in ("POST", "PATCH") and ("/webhooks/" in path or "/messages" in path):
        return message_problems(body)
    return []


def choice_problems(choices: object) -> list[str]:
    if not isinstance(choices, list):
        return ["autocomplete answer without a choices list"]
    problems = [f"{len(choices)} autocomplete choices (max {CHOICES})"] if len(choices) > CHOICES else []
    for choice in choices:
        for key in ("name", "value"):
            text = str(choice.get(key, ""))
            if not 1 <= len(text) <= CHOICE_TEXT:
                problems.append(f"autocomplete choice {key} of {len(text)} characters")
    return problems


def message_problems(message: dict) -> list[str]:
    """A message body: content, embeds, components, and mentions disabled."""
    problems = []
    content = message.get("content") or ""
    embeds = message.get("embeds") or []
    if len(content) > CONTENT:
        problems.append(f"content of {len(content)} characters")
    if len(embeds) > EMBEDS:
        problems.append(f"{len(embeds)} embeds")
    total = 0
    for embed in embeds:
        found, size = embed_problems(embed)
        problems += found
        total += size
    if total > EMBED_TOTAL:
        problems.append(f"embeds of {total} characters in all (max {EMBED_TOTAL})")
    problems += component_problems(message.get("components") or [])
    if (content or embeds) and message.get("allowed_mentions") != NO_PINGS:
        problems.append(f"allowed_mentions {message.get('allowed_mentions')!r}, not {NO_PINGS}")
    for text in [content, *(t for e in embeds for t in embed_texts(e))]:
        if match := PING.search(text):
            problems.append(f"an unescaped mention {match.group(0)!r}")
        if match := CONTROL.search(text):
            problems.append(f"a control character {match.group(0)!r}")
    return problems


def embed_texts(embed: dict) -> list[str]:
    fields = embed.get("fields") or []
    return [embed.get("title") or "", embed.get("description") or "", (embed.get("footer") or {}).get("text") or "",
            (embed.get("author") or {}).get("name") or "",
            *(f.get("name") or "" for f in fields), *(f.get("value") or "" for f in fields)]


def embed_urls(embed: dict) -> list[tuple[str, str]]:
    found = [("url", embed.get("url"))]
    for part, key in (("image", "url"), ("thumbnail", "url"), ("author", "url"), ("footer", "icon_url")):
        found.append((f"{part}.{key}", (embed.get(part) or {}).get(key)))
    return [(where, url) for where, url in found if url]


def embed_problems(embed: dict) -> tuple[list[str], int]:
    """(problems, characters counted towards the 6,000 total) of one embed."""
    problems = []
    for key, limit in (("title", TITLE), ("description", DESCRIPTION)):
        if len(embed.get(key) or "") > limit:
            problems.append(f"embed {key} of {len(embed[key])} characters (max {limit})")
    footer = (embed.get("footer") or {}).get("text") or ""
    if len(footer) > FOOTER:
        problems.append(f"embed footer of {len(footer)} characters")
    author = (embed.get("author") or {}).get("name") or ""
    if len(author) > AUTHOR:
        problems.append(f"embed author of {len(author)} characters")
    for where, url in embed_urls(embed):
        if not URL.match(url):
            problems.append(f"embed {where} is not a well-formed URL: {url[:80]!r}")
    fields = embed.get("fields") or []
    if len(fields) > FIELDS:
        problems.append(f"{len(fields)} embed fields")
    for f in fields:
        name, value = f.get("name") or "", f.get("value") or ""
        if not 1 <= len(name) <= FIELD_NAME:
            problems.append(f"field name of {len(name)} characters")
        if not 1 <= len(value) <= FIELD_VALUE:
            problems.append(f"field value of {len(value)} characters")
    size = sum(len(t) for t in embed_texts(embed))
    return problems, size


def component_problems(rows: list) -> list[str]:
    problems = [f"{len(rows)} action rows"] if len(rows) > ACTION_ROWS else []
    for row in rows:
        items = row.get("components") or []
        if len(items) > ROW_ITEMS:
            problems.append(f"{len(items)} components in a row")
        for item in items:
            if len(item.get("label") or "") > LABEL:
                problems.append(f"button label of {len(item['label'])} characters")
            if len(item.get("custom_id") or "") > CUSTOM_ID:
                problems.append(f"custom_id of {len(item['custom_id'])} characters")
    return problems
