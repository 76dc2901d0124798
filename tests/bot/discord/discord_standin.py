"""A local Discord for end-to-end tests: the REST routes and the gateway a discord.py bot uses.

It listens on 127.0.0.1, on a port the OS picks. A real, unmodified discord.py client
reaches it through ``FITBOT_DISCORD_API_BASE`` / ``FITBOT_DISCORD_GATEWAY`` (the same
settings ``fitbot bot`` reads). Tests inject gateway events (``INTERACTION_CREATE``) and
assert on the REST requests the bot made, which are all recorded.

Protocol details that discord.py depends on (found by building it, see
docs/reference/discord-notes.md §3c):

* ``json_or_text`` parses a body only when Content-Type is exactly ``application/json``
  (aiohttp's ``json_response`` appends a charset), so bodies are sent as raw bytes;
* interaction callbacks are posted with ``?with_response=1`` and discord.py reads the
  ``InteractionCallbackResponse`` body: a 204 would break ``defer()``;
* the client asks for ``compress=zlib-stream`` but accepts plain text frames.

Limits: no rate-limit headers, no permission checks (a 403 is never returned), no
guild or member cache beyond what interaction payloads carry.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import WSMsgType, web

APP_ID = 900000000000000001
BOT_ID = 900000000000000001
GUILD_ID = 900000000000000100
CHANNEL_ID = 900000000000000200
ADMIN_ID = 900000000000000300
MEMBER_ID = 900000000000000301
DISCORD_EPOCH_MS = 1420070400000
MANAGE_GUILD = 1 << 5
SEND_AND_EMBED = (1 << 11) | (1 << 14) | (1 << 15)  # send messages, embed links, attach files

OPTION_STRING, OPTION_INTEGER, OPTION_SUBCOMMAND = 3, 4, 1
COMMAND, COMPONENT, AUTOCOMPLETE = 2, 3, 4
EPHEMERAL = 64
LOADING = 128


@dataclass
class Recorded:
    """One REST request the bot made."""

    method: str
    path: str
    query: dict[str, str]
    body: object  # the JSON body, or the multipart form's payload_json
    files: list[tuple[str, bytes]] = field(default_factory=list)  # (filename, content)
    response: object = None


def _user(user_id: int, name: str, *, bot: bool = False) -> dict:
    return {"id": str(user_id), "username": name, "discriminator": "0", "global_name": None, "avatar": None, "bot": bot}


def _json(data: object, status: int = 200) -> web.Response:
    # Exactly "application/json": discord.py compares the header verbatim.
    return web.Response(body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"})


class DiscordStandin:
    """The stand-in server: ``start()``, then point a bot at ``api_base`` and ``gateway_url``."""

    def _next_id(self) -> int:
        """A snowflake for now, unique and increasing."""
        now_ms = int(datetime.now(UTC).timestamp() * 1000) - DISCORD_EPOCH_MS
        self._last_id = max(self._last_id + 1, now_ms << 22)
        return self._last_id

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.identified = asyncio.Event()
        self.identifies: list[dict] = []  # IDENTIFY payloads, one per gateway session (shard)
        self._changed = asyncio.Condition()
        # Snowflakes carry their creation time (ms since 2015 << 22); discord.py derives
        # an interaction's expiry and its cooldown clock from it, so ids must say "now" when
        # they are made. (Counting up from the start time froze that clock: discord.py's
        # cooldown mappings, pruned by it, then kept every user of a 20,000-user soak.)
        self._last_id = 0
        self._sequence = itertools.count(1)
        self._sockets: list[web.WebSocketResponse] = []
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.bot_user = _user(BOT_ID, "fitbot", bot=True)
        self.messages: dict[str, dict] = {}
        self.rejected_token: str | None = None  # a token that gets 401, as Discord answers a bad one
        # Interaction token -> the message "@original" names: the response message of a command,
        # the message a button sits on. Discord edits that message in place, keeping its id.
        self._originals: dict[str, str] = {}

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        api = "/api/v10"
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get(f"{api}/users/@me", self._me)
        app.router.add_get(f"{api}/oauth2/applications/@me", self._application)
        app.router.add_put(f"{api}/applications/{{app}}/commands", self._sync)
        app.router.add_put(f"{api}/applications/{{app}}/guilds/{{guild}}/commands", self._sync)
        app.router.add_post(f"{api}/interactions/{{id}}/{{token}}/callback", self._callback)
        app.router.add_post(f"{api}/webhooks/{{app}}/{{token}}", self._followup)
        app.router.add_patch(f"{api}/webhooks/{{app}}/{{token}}/messages/{{message}}", self._edit)
        app.router.add_delete(f"{api}/webhooks/{{app}}/{{token}}/messages/{{message}}", self._delete)
        app.router.add_post(f"{api}/channels/{{channel}}/messages", self._channel_message)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # -- what tests call -------------------------------------------------------------

    async def inject(self, payload: dict) -> None:
        """Send an INTERACTION_CREATE to the connected bot."""
        await asyncio.wait_for(self.identified.wait(), 60)
        ws = self._sockets[-1]
        await ws.send_str(json.dumps({"op": 0, "t": "INTERACTION_CREATE", "s": next(self._sequence), "d": payload}))

    async def wait_for(self, match: Callable[[Recorded], bool], *, after: int = 0, timeout: float = 60.0) -> Recorded:
        """The first request (from index ``after`` on) that ``match`` accepts."""

        def found() -> Recorded | None:
            return next((r for r in self.requests[after:] if match(r)), None)

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: found() is not None), timeout)
        result = found()
        assert result is not None
        return result

    def count(self, match: Callable[[Recorded], bool]) -> int:
        return sum(1 for r in self.requests if match(r))

    def command(
        self,
        name: str,
        options: list[dict] | None = None,
        *,
        user_id: int = MEMBER_ID,
        permissions: int = SEND_AND_EMBED,
        kind: int = COMMAND,
    ) -> dict:
        """An interaction payload for a slash command (or its autocomplete, ``kind=AUTOCOMPLETE``)."""
        data = {"id": str(self._next_id()), "name": name, "type": 1, "options": options or []}
        return self._interaction(kind, data, user_id=user_id, permissions=permissions)

    def component(self, message: dict, custom_id: str, *, user_id: int = MEMBER_ID) -> dict:
        """A button press on ``message`` (a message dict this stand-in returned)."""
        payload = self._interaction(COMPONENT, {"custom_id": custom_id, "component_type": 2}, user_id=user_id)
        payload["message"] = message
        self._originals[payload["token"]] = message["id"]
        return payload

    def select(self, message: dict, custom_id: str, values: list[str], *, user_id: int = MEMBER_ID) -> dict:
        """A choice in a select menu (component type 3) on ``message``."""
        data = {"custom_id": custom_id, "component_type": 3, "values": values}
        payload = self._interaction(COMPONENT, data, user_id=user_id)
        payload["message"] = message
        self._originals[payload["token"]] = message["id"]
        return payload

    # -- gateway ---------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}))
        async for message in ws:
            if message.type is not WSMsgType.TEXT:
                break
            frame = json.loads(message.data)
            if frame["op"] == 1:
                await ws.send_str(json.dumps({"op": 11}))
            elif frame["op"] == 2:
                ready = {
                    "v": 10,
                    "user": self.bot_user,
                    "guilds": [],
                    "session_id": "standin-session",
                    "resume_gateway_url": self.gateway_url,
                    "application": {"id": str(APP_ID), "flags": 0},
                }
                if "shard" in frame["d"]:  # Discord echoes [shard_id, shard_count] from IDENTIFY
                    ready["shard"] = frame["d"]["shard"]
                self.identifies.append(frame["d"])
                await ws.send_str(json.dumps({"op": 0, "t": "READY", "s": next(self._sequence), "d": ready}))
                self.identified.set()
        self._sockets.remove(ws)
        return ws

    # -- REST ------------------------------------------------------------------------

    async def _record(self, request: web.Request) -> Recorded:
        body: object = None
        files: list[tuple[str, bytes]] = []
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if part.name == "payload_json":
                    body = json.loads(await part.text())
                else:
                    files.append((part.filename or "", bytes(await part.read())))
        elif request.can_read_body:
            body = await request.json()
        recorded = Recorded(request.method, request.path, dict(request.query), body, files)
        async with self._changed:
            self.requests.append(recorded)
            self._changed.notify_all()
        return recorded

    async def _me(self, request: web.Request) -> web.Response:
        await self._record(request)
        if self.rejected_token and request.headers.get("Authorization") == f"Bot {self.rejected_token}":
            return _json({"message": "401: Unauthorized", "code": 0}, status=401)
        return _json(self.bot_user)

    async def _application(self, request: web.Request) -> web.Response:
        await self._record(request)
        return _json(
            {
                "id": str(APP_ID), "name": "fitbot", "description": "", "icon": None, "bot_public": True,
                "bot_require_code_grant": False, "owner": _user(1, "owner"), "verify_key": "0" * 64, "flags": 0,
                "summary": "", "rpc_origins": [],
            }
        )

    async def _sync(self, request: web.Request) -> web.Response:
        recorded = await self._record(request)
        commands = []
        for command in recorded.body or []:  # type: ignore[union-attr]
            commands.append(
                {
                    **command,
                    "id": str(self._next_id()),
                    "application_id": str(APP_ID),
                    "version": "1",
                    "default_member_permissions": command.get("default_member_permissions"),
                }
            )
        return _json(commands)

    def _message(self, payload: dict, files: list[tuple[str, bytes]], *, channel_id: int = CHANNEL_ID, flags: int = 0, message_id: str | None = None) -> dict:
        message = {
            "id": message_id or str(self._next_id()),
            "channel_id": str(channel_id),
            "type": 0,
            "content": payload.get("content") or "",
            "author": self.bot_user,
            "attachments": [
                {"id": str(self._next_id()), "filename": name, "size": len(data), "url": f"https://cdn.invalid/{name}", "proxy_url": f"https://cdn.invalid/{name}"}
                for name, data in files
            ],
            "embeds": payload.get("embeds") or [],
            "components": payload.get("components") or [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None,
            "flags": flags | int(payload.get("flags") or 0),
            "application_id": str(APP_ID),
        }
        self.messages[message["id"]] = message
        return message

    async def _callback(self, request: web.Request) -> web.Response:
        recorded = await self._record(request)
        body = recorded.body if isinstance(recorded.body, dict) else {}
        kind = int(body.get("type", 0))
        data = body.get("data") or {}
        interaction = {"id": request.match_info["id"], "type": kind}
        resource: dict = {"type": kind}
        if kind in (4, 5):  # a new message, or a deferred one ("thinking…")
            message = self._message(data, recorded.files, flags=LOADING if kind == 5 else 0)
            self._originals.setdefault(request.match_info["token"], message["id"])
            interaction.update(
                response_message_id=message["id"],
                response_message_loading=kind == 5,
                response_message_ephemeral=bool(int(data.get("flags") or 0) & EPHEMERAL),
            )
            resource["message"] = message
        elif kind == 7:  # UPDATE_MESSAGE: the component's message, edited
            resource["message"] = self._message(data, recorded.files)
        recorded.response = {"interaction": interaction, "resource": resource}
        return _json(recorded.response)

    async def _followup(self, request: web.Request) -> web.Response:
        recorded = await self._record(request)
        recorded.response = self._message(recorded.body or {}, recorded.files)  # type: ignore[arg-type]
        return _json(recorded.response)

    async def _edit(self, request: web.Request) -> web.Response:
        recorded = await self._record(request)
        message_id = request.match_info["message"]
        if message_id == "@original":
            message_id = self._originals.get(request.match_info["token"], message_id)
        old = self.messages.get(message_id, {})
        recorded.response = self._message(recorded.body or {}, recorded.files, message_id=old.get("id"))  # type: ignore[arg-type]
        return _json(recorded.response)

    async def _delete(self, request: web.Request) -> web.Response:
        await self._record(request)
        return web.Response(status=204)

    async def _channel_message(self, request: web.Request) -> web.Response:
        recorded = await self._record(request)
        channel = int(request.match_info["channel"])
        recorded.response = self._message(recorded.body or {}, recorded.files, channel_id=channel)  # type: ignore[arg-type]
        return _json(recorded.response)

    # -- payloads --------------------------------------------------------------------

    def _interaction(self, kind: int, data: dict, *, user_id: int, permissions: int = SEND_AND_EMBED) -> dict:
        return {
            "id": str(self._next_id()),
            "application_id": str(APP_ID),
            "type": kind,
            "data": data,
            "guild_id": str(GUILD_ID),
            "channel_id": str(CHANNEL_ID),
            "channel": {
                "id": str(CHANNEL_ID), "type": 0, "guild_id": str(GUILD_ID), "name": "general", "position": 0,
                "permission_overwrites": [], "nsfw": False, "parent_id": None,
            },
            "member": {
                "user": _user(user_id, f"user{user_id % 1000}"),
                "roles": [],
                "joined_at": "2024-01-01T00:00:00+00:00",
                "deaf": False,
                "mute": False,
                "flags": 0,
                "permissions": str(permissions),
            },
            "token": f"token-{self._next_id()}",
            "version": 1,
            "app_permissions": str(SEND_AND_EMBED),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(GUILD_ID)},
            "context": 0,
            "attachment_size_limit": 8 * 1024 * 1024,
        }
