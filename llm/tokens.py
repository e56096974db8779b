"""Token counting helpers shared by providers.

Providers count with the model's own tokenizer where one is at hand (llama.cpp's for the
local model, tiktoken for OpenAI models); everything else gets `estimate_tokens`.
"""

import hashlib
import logging
import math
import os
import tempfile
import threading
from functools import cache
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

# ChatML-style framing costs a few tokens per message and a few to prime the reply; the
# figures are OpenAI's published accounting for its chat models.
TOKENS_PER_MESSAGE = 3
TOKENS_REPLY_PRIMER = 3


def estimate_tokens(text: str) -> int:
    """An honest estimate where no tokenizer is available: about four characters of
    English per token (OpenAI's rule of thumb), never less than one per word."""
    if not text:
        return 0
    return max(math.ceil(len(text) / 4), len(text.split()))


def estimate_messages(messages: list[dict[str, str]]) -> int:
    body = sum(estimate_tokens(m.get("content") or "") + TOKENS_PER_MESSAGE for m in messages)
    return body + TOKENS_REPLY_PRIMER


_tiktoken_lock = threading.Lock()


def _tiktoken_cached(encoding_name: str) -> bool:
    """Whether tiktoken's BPE file is already on disk (tiktoken's own cache layout)."""
    import tiktoken_ext.openai_public as public

    constructor = public.ENCODING_CONSTRUCTORS.get(encoding_name)
    if constructor is None:
        return False
    url = {
        "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
        "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
    }.get(encoding_name)
    if url is None:
        return False
    cache_dir = os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get(
        "DATA_GYM_CACHE_DIR", os.path.join(tempfile.gettempdir(), "data-gym-cache")
    )
    return os.path.exists(os.path.join(cache_dir, hashlib.sha1(url.encode()).hexdigest()))  # noqa: S324


@cache
def tiktoken_encoding(model: str) -> Any | None:
    """tiktoken's encoding for `model`, or None when its BPE file cannot be had offline.

    tiktoken fetches BPE files from the network on first use. On an offline machine (and
    in tests, which block the network) that fails, so unless LLM_TIKTOKEN_DOWNLOAD is on
    we only load files already in tiktoken's cache, and otherwise fall back to
    `estimate_tokens`.
    """
    try:
        import tiktoken
    except ImportError:
        return None
    name = (
        "o200k_base"
        if model.startswith(("gpt-4o", "gpt-4.1", "o1", "o3", "o4", "gpt-5"))
        else "cl100k_base"
    )
    if not model.startswith(("gpt-", "o1", "o3", "o4", "text-embedding")):
        return None  # not an OpenAI model: its tokenizer is unknown here
    with _tiktoken_lock:
        if not (settings.LLM_TIKTOKEN_DOWNLOAD or _tiktoken_cached(name)):
            return None
        try:
            return tiktoken.get_encoding(name)
        except Exception:
            logger.warning("tiktoken could not load %s; estimating token counts", name)
            return None
