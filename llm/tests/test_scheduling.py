"""Chat first: the in-process model's gate, and the local provider on a fake model."""

import functools
import threading
import time

import numpy
import pytest

from llm import errors
from llm.providers.local import LocalProvider
from llm.results import ProviderRequest, Usage
from llm.scheduling import ANALYSIS, INTERACTIVE, LESSONS, PriorityGate, priority_for


def wait_until(condition, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.002)


def queued(gate, count):
    return len(gate.waiting()) == count


def test_profiles_map_to_priorities():
    assert priority_for("chat") == INTERACTIVE
    assert priority_for("doubt_solver") == INTERACTIVE
    assert priority_for("a_profile_staff_added") == INTERACTIVE
    assert priority_for("analysis") == ANALYSIS
    assert priority_for("module_generation") == LESSONS
    assert priority_for("module_validation") == LESSONS


def test_a_reply_goes_before_background_work_that_queued_earlier():
    gate = PriorityGate()
    order: list[str] = []
    assert gate.acquire(LESSONS, timeout=1)  # a lesson call holds the model

    def call(name, priority):
        with gate.hold(priority, timeout=5):
            order.append(name)

    threads = []
    for name, priority in [("lesson", LESSONS), ("analysis", ANALYSIS), ("reply", INTERACTIVE)]:
        thread = threading.Thread(target=call, args=(name, priority))
        thread.start()
        threads.append(thread)
        wait_until(functools.partial(queued, gate, len(threads)))
    assert gate.waiting() == [INTERACTIVE, ANALYSIS, LESSONS]
    assert gate.interactive_waiting()

    gate.release()
    for thread in threads:
        thread.join(5)

    assert order == ["reply", "analysis", "lesson"]
    assert gate.waiting() == []


def test_a_queue_wait_past_its_bound_leaves_the_queue_and_the_next_call_still_runs():
    gate = PriorityGate()
    assert gate.acquire(LESSONS, timeout=1)
    assert not gate.acquire(INTERACTIVE, timeout=0.05)
    assert gate.waiting() == []
    assert not gate.interactive_waiting()

    got = threading.Event()
    thread = threading.Thread(target=lambda: gate.acquire(ANALYSIS, timeout=5) and got.set())
    thread.start()
    wait_until(lambda: gate.waiting() == [ANALYSIS])
    gate.release()
    thread.join(5)
    assert got.is_set()


# -- the local provider on a fake model ------------------------------------------------


class FakeLlama:
    """Streams `tokens` words, `pace` seconds apart, and records what ran."""

    cache = None
    n_tokens = 0
    _input_ids = numpy.array([], dtype=numpy.intc)

    @staticmethod
    def longest_token_prefix(a, b):
        common = 0
        for x, y in zip(a, b, strict=False):
            if x != y:
                break
            common += 1
        return common

    def __init__(self, tokens=40, pace=0.01):
        self.tokens, self.pace = tokens, pace
        self.started: list[str] = []
        self.finished: list[str] = []
        self.prompt_pieces = 0

    def eval(self, tokens):
        time.sleep(self.pace)
        self.prompt_pieces += 1

    def create_chat_completion(self, *, messages, stream, grammar=None, **options):
        assert stream
        return self._chunks(next(m["content"] for m in messages if m["role"] == "user"))

    def _chunks(self, name):
        self.started.append(name)
        for index in range(self.tokens):
            time.sleep(self.pace)
            yield {"choices": [{"delta": {"content": f"{name}{index} "}}]}
        self.finished.append(name)

    def tokenize(self, data, add_bos=False, special=False):
        return data.split()


def request(task, name, timeout=30.0, prompt=""):
    return ProviderRequest(
        task=task,
        model="fake",
        messages=[{"role": "user", "content": name}, {"role": "user", "content": prompt}],
        temperature=0.0,
        max_tokens=100,
        timeout=timeout,
    )


@pytest.fixture
def provider(settings):
    settings.LLM_LOCAL_QUEUE_SECONDS = 5.0
    settings.LLM_LOCAL_BACKGROUND_QUEUE_SECONDS = 5.0
    local = LocalProvider()
    local._model = FakeLlama()
    return local


def text_of(provider, call):
    return "".join(d for d in provider.stream(call) if isinstance(d, str))


def run_in_thread(target):
    result: dict = {}

    def body():
        try:
            result["value"] = target()
        except Exception as exc:  # handed to the test's assertions
            result["error"] = exc

    thread = threading.Thread(target=body)
    thread.start()
    return thread, result


def test_a_reply_queued_behind_background_work_starts_next_and_the_work_restarts(provider):
    model = provider._llama()
    lesson, lesson_result = run_in_thread(
        lambda: text_of(provider, request("module_generation", "lesson"))
    )
    wait_until(lambda: model.started == ["lesson"])
    analysis, analysis_result = run_in_thread(
        lambda: text_of(provider, request("analysis", "analysis"))
    )
    wait_until(lambda: provider._gate.waiting() == [ANALYSIS])

    asked = time.monotonic()
    reply = provider.stream(request("chat", "reply"))
    first = next(reply)
    waited = time.monotonic() - asked
    rest = list(reply)
    for thread in (lesson, analysis):
        thread.join(10)

    assert first == "reply0 "
    # The lesson stepped aside at its next token: the reply waited a token, not a call.
    assert waited < 0.2
    assert isinstance(rest[-1], Usage)
    assert model.started == ["lesson", "reply", "analysis", "lesson"]
    assert model.finished == ["reply", "analysis", "lesson"]
    assert provider.steps_aside == 1
    assert lesson_result["value"].split()[-1] == "lesson39"
    assert analysis_result["value"].split()[0] == "analysis0"


def test_a_replys_timeout_counts_from_when_it_holds_the_model(provider):
    model = provider._llama()
    first, _ = run_in_thread(lambda: list(provider.stream(request("chat", "first"))))
    wait_until(lambda: model.started == ["first"])

    # Queued ~0.4 s behind the first reply, generating ~0.4 s: within 0.6 s of holding.
    second = list(provider.stream(request("chat", "second", timeout=0.6)))
    first.join(5)

    assert "".join(d for d in second if isinstance(d, str)).split()[-1] == "second39"


def test_a_reply_that_cannot_get_its_turn_fails_on_the_queue_bound(provider, settings):
    settings.LLM_LOCAL_QUEUE_SECONDS = 0.05
    model = provider._llama()
    first, _ = run_in_thread(lambda: list(provider.stream(request("chat", "first"))))
    wait_until(lambda: model.started == ["first"])

    with pytest.raises(errors.ModelTimeout) as failure:
        list(provider.stream(request("chat", "second")))
    first.join(5)

    assert "queue wait" in failure.value.detail
    assert provider._gate.waiting() == []


def test_a_reply_waits_for_one_piece_of_a_long_background_prompt(provider):
    model = provider._llama()
    long_prompt = " ".join(["word"] * 3200)  # 100 pieces of 32 tokens, 10 ms each
    lesson, result = run_in_thread(
        lambda: text_of(provider, request("module_generation", "lesson", prompt=long_prompt))
    )
    wait_until(lambda: model.prompt_pieces >= 3)

    asked = time.monotonic()
    first = next(provider.stream(request("chat", "reply")))
    waited = time.monotonic() - asked
    lesson.join(10)

    assert first == "reply0 "
    assert waited < 0.2  # not the ~1 s of the whole prompt
    assert model.started[0] == "reply"  # the lesson had not begun generating
    assert result["value"].split()[-1] == "lesson39"


def test_a_call_restarted_as_often_as_allowed_then_finishes_before_the_next_reply(
    provider, settings
):
    settings.LLM_LOCAL_STEP_ASIDE_LIMIT = 1
    model = provider._llama()
    lesson, result = run_in_thread(lambda: text_of(provider, request("module_generation", "l")))
    wait_until(lambda: model.started == ["l"])
    list(provider.stream(request("chat", "r1")))
    wait_until(lambda: model.started == ["l", "r1", "l"])

    list(provider.stream(request("chat", "r2")))
    lesson.join(5)

    assert model.started == ["l", "r1", "l", "r2"]
    assert model.finished == ["r1", "l", "r2"]
    assert provider.steps_aside == 1
    assert result["value"].split()[-1] == "l39"


@pytest.mark.django_db
def test_a_background_completion_through_the_gateway_arrives_whole(provider, settings):
    import llm
    from llm import providers
    from llm.models import LLMCall

    settings.LLM_PROVIDER, settings.LLM_MODEL = "local", ""
    settings.LLM_PROFILE_CACHE_SECONDS = 0
    settings.LLM_DAILY_TOKEN_QUOTA = 0
    with providers.PROVIDERS.replaced("local", provider):
        result = llm.complete("summary", [{"role": "user", "content": "Fold these turns."}])

    assert result.text == "".join(f"Fold these turns.{n} " for n in range(40))
    call = LLMCall.objects.get()
    assert (call.task, call.status) == ("summary", "ok")
    assert call.completion_tokens == len(result.text.split())  # the fake's tokenizer
