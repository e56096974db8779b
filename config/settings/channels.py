"""Live delivery and the cache: in memory in one process, Redis by REDIS_URL; websockets."""

from config.settings.base import env

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # Redis pub/sub: a group send is one PUBLISH, where the sorted-set layer
            # (channels_redis.core) takes several round trips and the receiving process
            # polls. bench/chat_turns.py, 20 learners back to back: the first token's
            # delivery p50 117-148 -> 5 ms, web CPU per turn 22-23 -> 14 ms. Delivery is
            # at most once with either layer; clients resume from the database.
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": env.str("CHANNEL_PREFIX", default="coach"),
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CHANNEL_PREFIX", default="coach"),
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Besides the site's own origin and CSRF_TRUSTED_ORIGINS, full origins (https://host:port)
# whose pages may open websockets (config/websocket.py compares them as CSRF does).
WEBSOCKET_ALLOWED_ORIGINS = env.list("WEBSOCKET_ALLOWED_ORIGINS", default=[])

# One limit for an incoming websocket message under every server (Daphne and Uvicorn are
# started with it by `manage.py serve`; pass it as --ws-max-size to a bare uvicorn). A
# larger frame closes the socket with 1009, Message Too Big.
WEBSOCKET_MAX_MESSAGE_BYTES = env.int("WEBSOCKET_MAX_MESSAGE_BYTES", default=1024 * 1024)
# A `resume` replays at most this many messages; `resume.done` says whether more follow.
RESUME_PAGE_MESSAGES = env.int("RESUME_PAGE_MESSAGES", default=100)
