"""/fit on a repo id the catalog lacks: deferred first, read from the loopback Hub, answered with its files;
the per-user limit on Hub reads is said in the reply when hit."""

from __future__ import annotations

import pytest

from tests.bot.gguf_hub import BARTOWSKI, UNSLOTH, qwen_gguf_repos
from tests.crawler.hub_standin import HubStandIn

from .conftest import running_bot
from .discord_standin import OPTION_STRING, DiscordStandin

pytestmark = pytest.mark.network


def _opt(name: str, value: str) -> dict:
    return {"name": name, "type": OPTION_STRING, "value": value}


def _followup(r) -> bool:
    return r.method == "POST" and "/webhooks/" in r.path


def _plain(text: str) -> str:
    """Discord markdown escapes removed (the renderer escapes "-", "_", "(")."""
    return text.replace("\\", "")


# Its own user: the per-user cooldown is process-wide, and other tests ran /fit as MEMBER_ID.
USER = 616161


async def _fit(standin: DiscordStandin, model: str):
    start = len(standin.requests)
    await standin.inject(standin.command("fit", [_opt("model", model), _opt("budget", "24GB")], user_id=USER))
    followup = await standin.wait_for(_followup, after=start)
    return standin.requests[start:], followup


async def test_an_uncatalogued_repo_is_read_after_deferring_and_the_user_limit_is_said(
    standin: DiscordStandin, db_path
) -> None:
    """The first repo id is read from the Hub (after the type-5 deferral) and answered about that repo and
    its files; with one read an hour per user, a second unknown repo id is refused with the limit named,
    and the Hub is not asked for it."""
    with HubStandIn(list(qwen_gguf_repos())) as hub:
        async with running_bot(standin, db_path, hf_endpoint=hub.url, hub_reads_per_user=1):
            sent, followup = await _fit(standin, BARTOWSKI)
            assert sent[0].path.endswith("/callback") and sent[0].body["type"] == 5
            embed = followup.body["embeds"][0]
            assert embed["title"] == BARTOWSKI
            # The card links the best real file of that repo; Table lists them all.
            assert f"https://huggingface.co/{BARTOWSKI}/blob/main/Qwen2.5-32B-Instruct-" in _plain(str(embed))
            assert hub.count("model_info", repo_id=BARTOWSKI) == 1
            _, refused = await _fit(standin, UNSLOTH)
        assert hub.errors == []
    text = _plain(refused.body.get("content") or str(refused.body))
    assert UNSLOTH in text and "the limit is 1 an hour" in text
    assert hub.count("model_info", repo_id=UNSLOTH) == 0
