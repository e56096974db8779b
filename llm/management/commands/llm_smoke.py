"""Stream one reply and produce one structured result from the model, end to end.

python manage.py llm_smoke                 # the in-process local model, no key needed
python manage.py llm_smoke --provider openai
"""

import json
import time

from django.core.management.base import BaseCommand
from django.test import override_settings
from pydantic import BaseModel, Field

import llm
from llm.models import LLMCall


class Mistake(BaseModel):
    span: str = Field(max_length=40, description="the wrong words, as written")
    correction: str = Field(max_length=40)


class SentenceCheck(BaseModel):
    language: str = Field(max_length=12)
    mistakes: list[Mistake] = Field(max_length=2)


class Command(BaseCommand):
    help = "Stream a reply and print one structured result through the llm gateway."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--provider", default="local", choices=["local", "openai"])
        parser.add_argument(
            "--message", default="Hi! Can you give me one tip to learn English words?"
        )

    def handle(self, *args, provider: str, message: str, **options) -> None:
        with override_settings(LLM_PROVIDER=provider):
            self._stream(message)
            self._structured()

    def _stream(self, message: str) -> None:
        self.stdout.write(self.style.MIGRATE_HEADING("Streaming a chat reply"))
        self.stdout.write(f"learner> {message}")
        self.stdout.write("tutor> ", ending="")
        started = time.perf_counter()
        reply = llm.stream("chat", [{"role": "user", "content": message}])
        for delta in reply:
            self.stdout.write(delta, ending="")
            self.stdout.flush()
        seconds = time.perf_counter() - started
        call = LLMCall.objects.get(pk=reply.call_id)
        self.stdout.write("")
        self.stdout.write(
            f"[{call.provider} · {call.model}] first token {call.ttft_ms} ms, "
            f"{call.prompt_tokens} prompt + {call.completion_tokens} completion tokens in "
            f"{seconds:.2f} s ({call.completion_tokens / seconds:.1f} tokens/s overall), "
            f"cost ${call.cost_usd}"
        )

    def _structured(self) -> None:
        self.stdout.write(self.style.MIGRATE_HEADING("One structured result"))
        sentence = "Yesterday I goed to the park with my friends."
        self.stdout.write(f"sentence> {sentence}")
        started = time.perf_counter()
        result = llm.structured(
            "analysis",
            [{"role": "user", "content": f"Check this sentence: {sentence}"}],
            schema=SentenceCheck,
        )
        seconds = time.perf_counter() - started
        self.stdout.write(json.dumps(result.model_dump(), indent=2, ensure_ascii=False))
        call = LLMCall.objects.filter(task="analysis").first()
        self.stdout.write(
            f"[validated as {SentenceCheck.__name__}; {call.prompt_tokens} + "
            f"{call.completion_tokens} tokens, {seconds:.2f} s, cache hit: {call.cache_hit}]"
        )
