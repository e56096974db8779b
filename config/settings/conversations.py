"""The chat: messages, streamed replies and the context window."""

from config.settings.base import env

# Longest learner message accepted (413 beyond it).
MESSAGE_MAX_CHARS = env.int("MESSAGE_MAX_CHARS", default=8000)
# Streamed text is stored and published at most this often per reply; the first delta
# goes out at once.
REPLY_FLUSH_SECONDS = env.float("REPLY_FLUSH_SECONDS", default=0.03)
# A worker refreshes the heartbeat of each reply it writes this often...
REPLY_HEARTBEAT_SECONDS = env.float("REPLY_HEARTBEAT_SECONDS", default=2.0)
# ...and the sweeper gives a reply up (requeue, or fail after REPLY_MAX_ATTEMPTS tries)
# when its heartbeat is older than this, or when it waited this long with no task left.
REPLY_STALE_SECONDS = env.float("REPLY_STALE_SECONDS", default=30.0)
REPLY_PENDING_STALE_SECONDS = env.float("REPLY_PENDING_STALE_SECONDS", default=120.0)
REPLY_MAX_ATTEMPTS = env.int("REPLY_MAX_ATTEMPTS", default=3)
# A reply still streaming after this long is failed (a model that never stops).
REPLY_MAX_SECONDS = env.float("REPLY_MAX_SECONDS", default=600.0)
# Summarise the turns that left the context window once this many are waiting.
CONTEXT_SUMMARY_MIN_MESSAGES = env.int("CONTEXT_SUMMARY_MIN_MESSAGES", default=4)
# What the tutor says, per model: "guided" for small models (the reply opens with the
# analysis's correction, grammar questions are answered with the grammar notes, document
# questions with quotes of the passages, and the model adds a short, checked line) or
# "free" (the model writes, grounded in the same notes and passages, and a document
# answer's sentences are checked against them). By the profile's provider, unless
# TUTOR_STYLE_BY_PROFILE names the profile: {"chat": "free"}.
TUTOR_GUIDED_PROVIDERS = env.list("TUTOR_GUIDED_PROVIDERS", default=["local"])
TUTOR_STYLE_BY_PROFILE: dict[str, str] = env.json("TUTOR_STYLE_BY_PROFILE", default={})
