"""The capture socket on the real Redis channel layer (the production stack), not the in-memory one."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async as sync_to_async
from channels.layers import channel_layers, get_channel_layer
from channels_redis.core import RedisChannelLayer

from apps.sessions.tokens import session_token_issue
from tests.conftest import require_redis

from .conftest import make_session
from .socket_helpers import authed_socket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis, pytest.mark.slow]


@pytest.fixture
def redis_layer(settings) -> RedisChannelLayer:
    require_redis()
    channel_layers.backends.clear()  # a layer built under other settings must not be reused
    layer = get_channel_layer()
    assert isinstance(layer, RedisChannelLayer), settings.CHANNEL_LAYERS
    yield layer
    channel_layers.backends.clear()


def test_the_layer_reads_longer_than_channels_redis_blocks_in_bzpopmin(settings):
    # channels-redis blocks this long waiting for a message; a shorter read timeout kills every idle socket.
    assert settings.CHANNELS_REDIS_BLOCK_SECONDS == RedisChannelLayer.brpop_timeout
    assert settings.CHANNEL_LAYER_SOCKET_TIMEOUT_SECONDS > RedisChannelLayer.brpop_timeout


async def test_a_capture_socket_idle_for_12_seconds_still_answers_pings(integrator, redis_layer):
    session = await sync_to_async(make_session)(integrator.account)
    socket, state = await authed_socket(session.id, session_token_issue(session_id=session.id))
    assert state["status"] == "in_progress"
    # The retry screen, a long analysis or a slow worker: nothing arrives for a while. Twelve seconds span two of
    # channels-redis' 5 s blocking reads: with a 5 s read timeout the socket died within the first.
    assert await socket.receive_nothing(timeout=12, interval=0.5)
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=5) == {"type": "pong"}
    await socket.disconnect()
