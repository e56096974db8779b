"""Later stages that follow an analysed conversation, called explicitly after commit.

Dependencies run one way (analysis ← teaching), so analysis cannot import teaching: it
appends a callable here in its AppConfig.ready(), and a finished clustering run of one of
our own conversations calls each with the conversation's id once its state is committed.
"""

from conversations.hooks import Hook, call_on_commit

# A conversation's mistakes were clustered (all of its batches are analysed).
after_clustering: list[Hook] = []

__all__ = ["after_clustering", "call_on_commit"]
