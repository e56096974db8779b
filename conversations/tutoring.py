"""What the tutor says, per task and per model: the parts of a reply that come from the
product (the analysis's correction, the grammar notes, quotes from the learner's
documents) and the part the model writes, with the checks its sentences pass.

Two styles, chosen per task profile: the profile's reply style (edited in the admin), by
default by its provider (settings.TUTOR_GUIDED_PROVIDERS); the environment can force one
per profile (settings.TUTOR_STYLE_BY_PROFILE, used by the tutor evaluation):

- guided (the built-in model): the reply opens with what the product knows. A chat
  reply opens with the analysis's correction of the learner's message and its grammar
  note, then the model's short conversational reply, stripped of any grammar claim of
  its own. A grammar question is answered with the grammar notes, cited. A question
  to the learner's documents is answered by quoting the passages' most relevant
  sentences, cited. The model writes nothing that claims to teach.
- free (a capable model): the model writes the reply, grounded in the same correction,
  notes and passages; in `rag` mode each sentence must be supported by a cited passage
  or it is left out (and the learner is told how many were).
"""

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

import llm
from accounts.profiles import explanation_language
from conversations import answers, grounding, hooks, notes_search
from conversations.models import Message, Mode, TaskType
from llm.prompts import learner_variables, render
from llm.providers import provider_of

PROMPTS = Path(__file__).resolve().parent / "prompts"
GUIDED, FREE = "guided", "free"
# A guided chat reply: this many sentences of the model at most, newest turns it sees.
CHAT_SENTENCES = 3
CHAT_TURNS = 6
FALLBACK_QUESTION = "Can you tell me more about that?"
NOTES_SOURCE = "grammar notes"
DOCUMENTS_SOURCE = "quotes from your documents"
PRACTICE_SOURCE = "practice from the lesson builder"
# The learner's words in quotes: "Why is 'He go to school' wrong?"
_QUOTED = re.compile(r"[\"'\u201c\u2018]([^\"'\u201d\u2019]{3,200})[\"'\u201d\u2019]")
_MARKDOWN = re.compile(r"([\\`*_\[\]#])")

LABELS = {
    "en": {
        "correction": "Correction",
        "better": "Better",
        "not_found": "I could not find this in your documents.",
        "no_note": (
            "I have no grammar note about this yet. Ask me about one form, for example "
            "\u201cWhen do I use since and for?\u201d or \u201cIs it he go or he goes?\u201d"
        ),
        "example": "Example",
        "tip": "Tip",
        "left_out": "sentence(s) left out: not found in the cited passages.",
        "practice_own": "Practice from your own sentences:",
        "practice_note": "Practice with examples (you have made no mistake of this kind yet):",
        "no_practice": (
            "I cannot make practice questions on that yet. Ask for one kind of mistake, "
            "for example \u201cpractice questions on the past tense\u201d or "
            "\u201con a and the\u201d, or chat a little first and I will use your own sentences."
        ),
        "multiple_choice": "Choose the right form",
        "fill_blank": "Fill the gap",
        "spot_mistake": "Find the wrong word",
        "rewrite": "Correct the sentence",
        "answers": "Answers",
    },
    "ko": {
        "correction": "고친 문장",
        "better": "더 나은 표현",
        "not_found": "문서에서 이 내용을 찾지 못했어요.",
        "no_note": "아직 이 주제에 대한 문법 노트가 없어요. 한 가지 형태에 대해 물어보세요.",
        "example": "예문",
        "tip": "팁",
        "left_out": "개 문장을 뺐어요: 인용한 구절에 없는 내용이에요.",
        "practice_own": "직접 쓴 문장으로 연습해요:",
        "practice_note": "예문으로 연습해요 (이 종류의 실수는 아직 없어요):",
        "no_practice": (
            "아직 그 주제로는 연습 문제를 만들 수 없어요. 한 가지 실수 종류를 말해 주세요."
        ),
        "multiple_choice": "알맞은 형태를 고르세요",
        "fill_blank": "빈칸을 채우세요",
        "spot_mistake": "틀린 단어 찾기",
        "rewrite": "문장을 고치세요",
        "answers": "정답",
    },
    "es": {
        "correction": "Corrección",
        "better": "Mejor",
        "not_found": "No encontré esto en tus documentos.",
        "no_note": (
            "Todavía no tengo una nota de gramática sobre esto. Pregúntame por una forma concreta."
        ),
        "example": "Ejemplo",
        "tip": "Consejo",
        "left_out": "frase(s) omitida(s): no están en los pasajes citados.",
        "practice_own": "Práctica con tus propias frases:",
        "practice_note": "Práctica con ejemplos (aún no tienes errores de este tipo):",
        "no_practice": (
            "Todavía no puedo hacer ejercicios sobre eso. Pide un tipo de error concreto."
        ),
        "multiple_choice": "Elige la forma correcta",
        "fill_blank": "Completa el hueco",
        "spot_mistake": "Busca la palabra incorrecta",
        "rewrite": "Corrige la frase",
        "answers": "Respuestas",
    },
}


@dataclass(frozen=True)
class NoteText:
    """A grammar note as the tutor quotes it (text in the learner's explanation language;
    `pattern` carries the learner's own words when the note explains their edit)."""

    id: str
    title: str
    rule: str
    pattern: str
    tip: str
    example: tuple[str, str]


@dataclass(frozen=True)
class Correction:
    """The analysis's correction of a learner's text: what the marks show."""

    original: str
    corrected: str
    notes: tuple[NoteText, ...] = ()


@dataclass(frozen=True)
class PracticeItem:
    kind: str  # multiple_choice, fill_blank, spot_mistake or rewrite
    prompt: str
    options: tuple[str, ...]
    answer: str


@dataclass(frozen=True)
class Practice:
    """Practice the lesson builder made and verified: one right answer per item."""

    title: str
    items: tuple[PracticeItem, ...]
    from_own_sentences: bool


@dataclass
class Composition:
    """A reply's plan: `opening` is written first; then, when `messages` is set, the
    model's text, each sentence kept only where `keep` allows (None: a framing line)."""

    style: str
    opening: str = ""
    messages: list[dict[str, str]] | None = None
    keep: Callable[[str], bool | None] | None = None
    max_sentences: int | None = None
    one_speaker: bool = False  # stop where the model starts another speaker's turn
    fallback: str = ""  # a question to end with when the model's kept text asks none
    citations: list[dict] = field(default_factory=list)
    source: str = ""  # who answered when no model did
    language: str = "en"

    def stream(self, start: Callable[[list[dict[str, str]]], object]) -> "ComposedReply":
        return ComposedReply(self, start(self.messages) if self.messages is not None else None)


def style(task: str) -> str:
    """guided or free for the task's profile: forced by the environment, else the
    profile's own reply style, else by its provider."""
    chosen = settings.TUTOR_STYLE_BY_PROFILE.get(task)
    if chosen in (GUIDED, FREE):
        return chosen
    profile = llm.get_profile(task)
    if profile.reply_style in (GUIDED, FREE):
        return profile.reply_style
    return GUIDED if provider_of(profile) in settings.TUTOR_GUIDED_PROVIDERS else FREE


def compose(reply: Message, prompt) -> Composition:
    """The plan of `reply`, from its prompt (conversations.context.Prompt)."""
    task = reply.task_type
    user = reply.conversation.owner
    plan = Composition(style=style(task), language=explanation_language(user))
    question = prompt.learner_text
    grounded = reply.conversation.mode == Mode.RAG and task != TaskType.TEST_GENERATION
    if grounded and _compose_grounded(plan, prompt, question):
        return plan
    if task == TaskType.DOUBT_SOLVER:
        _compose_doubt(plan, prompt, question, user)
    elif task == TaskType.CHAT:
        _compose_chat(plan, prompt, user)
    elif task == TaskType.TEST_GENERATION and plan.style == GUIDED:
        _compose_practice(plan, question, user)
    else:
        plan.messages = prompt.messages
    return plan


# -- rag ---------------------------------------------------------------------------------


def _compose_grounded(plan: Composition, prompt, question: str) -> bool:
    """True when the documents answer (the plan is complete); else the task goes on,
    told that the documents do not cover it."""
    if not prompt.passages:
        if plan.style == GUIDED:
            plan.opening = _label(plan, "not_found") + "\n\n"
            return False
        plan.messages = prompt.messages  # the rag_nothing instructions say it
        return True
    if plan.style == FREE:
        plan.messages = prompt.messages
        plan.citations = prompt.citations
        plan.keep = lambda sentence: answers.support(sentence, prompt.passages)
        return True
    text, used = extractive_answer(question, prompt.passages)
    plan.opening = plan.opening + text
    plan.citations = [c for c in prompt.citations if c["n"] in used]
    plan.source = DOCUMENTS_SOURCE
    return True


def extractive_answer(question: str, passages: dict[int, str]) -> tuple[str, set[int]]:
    """The quoted answer to `question` from numbered passages, and the numbers it cites."""
    quotes = answers.extract(question, sorted(passages.items()))
    return answers.quoted(quotes), {q.n for q in quotes}


# -- doubt_solver ----------------------------------------------------------------------


def _compose_doubt(plan: Composition, prompt, question: str, user) -> None:
    correction = _quoted_correction(question, user)
    found = list(correction.notes) if correction else []
    if not found:
        found = [_note_text(f.note) for f in notes_search.search(question, plan.language)]
    plan.citations = [note_citation(n, note) for n, note in enumerate(found, start=1)]
    if plan.style == FREE:
        system = prompt.messages[0]["content"] + "\n\n" + _notes_grounding(found, correction)
        plan.messages = [{"role": "system", "content": system}, *prompt.messages[1:]]
        return
    plan.source = NOTES_SOURCE
    if not found:
        plan.opening += _label(plan, "no_note")
        return
    parts = [_correction_line(plan, correction, label="better")] if correction else []
    parts += [_note_answer(plan, n, note) for n, note in enumerate(found, start=1)]
    plan.opening += "\n\n".join(parts)


def _quoted_correction(question: str, user) -> Correction | None:
    """The analysis of the words the learner quotes, when it finds a mistake in them."""
    for quote in _QUOTED.findall(question):
        if len(quote.split()) < 2:
            continue
        correction = hooks.text_correction(quote.strip(), user)
        if correction is not None and correction.notes:
            return correction
    return None


def _note_answer(plan: Composition, n: int, note: NoteText) -> str:
    wrong, right = note.example
    return (
        f"**{note.title}** [{n}]\n\n{note.rule}\n\n"
        # The wrong sentence without its stop, so the example reads (and is checked) as one.
        f"{_label(plan, 'example')}: \u2717 {_escaped(wrong.rstrip('.!?'))} \u2192 "
        f"\u2713 *{_escaped(right)}*\n\n"
        f"{_label(plan, 'tip')}: {note.tip}"
    )


def _notes_grounding(found: list[NoteText], correction: Correction | None) -> str:
    if not found:
        return (
            "No grammar note of the product covers this question. Say so in one sentence "
            "before you answer, and keep to rules you are sure of."
        )
    lines = ["Answer from these grammar notes of the product and cite them like [1]:"]
    for n, note in enumerate(found, start=1):
        lines.append(f"[{n}] {note.title}: {note.rule} {note.pattern}. Tip: {note.tip}")
    if correction:
        lines.append(f'The grammar check corrects the quoted words to: "{correction.corrected}".')
    return "\n".join(answers.plain(line) for line in lines)


def note_citation(n: int, note: NoteText) -> dict:
    """A grammar note as a reply's source (no document: `kind` says so)."""
    return {
        "n": n,
        "kind": "note",
        "note_id": note.id,
        "document_id": None,
        "chunk_id": None,
        "ordinal": 0,
        "title": answers.plain(note.title),
        "page": None,
        "section": NOTES_SOURCE,
        "snippet": answers.plain(note.rule)[: grounding.SNIPPET_CHARS],
    }


# -- test_generation -------------------------------------------------------------------

PRACTICE_KINDS = ("multiple_choice", "fill_blank", "spot_mistake", "rewrite")


def _compose_practice(plan: Composition, request: str, user) -> None:
    """Items the lesson builder verified, numbered, with the answers after them; the model
    writes nothing (a small model's questions break structure and keys)."""
    plan.source = PRACTICE_SOURCE
    practice = hooks.practice_items(request, user)
    if practice is None:
        plan.opening = _label(plan, "no_practice")
        return
    intro = _label(plan, "practice_own" if practice.from_own_sentences else "practice_note")
    lines = [f"**{_escaped(practice.title)}**", "", intro, ""]
    for n, item in enumerate(practice.items, start=1):
        lines.append(f"{n}. {_practice_item(plan, item)}")
    answers_line = "; ".join(
        f"{n}. {_escaped(item.answer)}" for n, item in enumerate(practice.items, start=1)
    )
    lines += ["", f"**{_label(plan, 'answers')}:** {answers_line}"]
    plan.opening = "\n".join(lines)


def _practice_item(plan: Composition, item: PracticeItem) -> str:
    label = _label(plan, item.kind if item.kind in PRACTICE_KINDS else "fill_blank")
    text = f"{label}: {_escaped(item.prompt)}"
    if item.options:
        text += " (" + " / ".join(_escaped(o) for o in item.options) + ")"
    return text


# -- chat --------------------------------------------------------------------------------


def _compose_chat(plan: Composition, prompt, user) -> None:
    message_id = prompt.learner_message_id
    correction = hooks.message_correction(message_id) if message_id else None
    turns = prompt.messages[1:]
    if plan.style == FREE:
        system = prompt.messages[0]["content"] + "\n\n" + _chat_grounding(correction)
        plan.messages = [{"role": "system", "content": system}, *turns]
        return
    if correction is not None:
        plan.opening += _correction_line(plan, correction, label="correction") + "\n\n"
    system = render(_template("chat_guided.txt"), learner_variables(user))
    plan.messages = [{"role": "system", "content": system}, *turns[-CHAT_TURNS:]]
    said = prompt.learner_text
    plan.keep = lambda s: (
        not (
            answers.grammar_claim(s)
            or answers.echoes(s, said)
            or answers.leaks(s, system)
            or answers.off_topic(s, said)
            or answers.fragment(s)
        )
    )
    plan.max_sentences = CHAT_SENTENCES
    plan.one_speaker = True
    plan.fallback = FALLBACK_QUESTION


def _correction_line(plan: Composition, correction: Correction, *, label: str) -> str:
    lines = [f"**{_label(plan, label)}:** *{_escaped(correction.corrected)}*"]
    for note in correction.notes:
        first = answers.sentences(note.rule)[:1]
        lines.append(f"- **{note.title}**: {note.pattern}. {' '.join(first)}".rstrip())
    return "\n".join(lines)


def _chat_grounding(correction: Correction | None) -> str:
    if correction is None:
        return (
            "The product's grammar check found no clear mistake in the learner's last "
            "message: do not correct it."
        )
    notes = "; ".join(answers.plain(f"{n.title}: {n.rule}") for n in correction.notes)
    return (
        "The product's grammar check corrected the learner's last message to: "
        f'"{correction.corrected}". If you point a mistake out, give exactly this correction '
        f"and no other. {('Its grammar notes: ' + notes) if notes else ''}"
    ).strip()


# -- the reply as a stream ------------------------------------------------------------------


class ComposedReply:
    """Iterates the reply's text: the opening, the model's checked sentences, a closing.
    Usage figures are the model's (none when no model answered)."""

    def __init__(self, plan: Composition, model_stream) -> None:
        self.plan = plan
        self.model_stream = model_stream
        self.dropped = 0

    def __iter__(self) -> Iterator[str]:
        try:
            yield from self._composed()
        finally:
            # `checked` stops reading at its sentence limit or another speaker's turn:
            # the model's stream must end there, not whenever it is collected.
            stop = getattr(self.model_stream, "stop", None)
            if stop is not None:
                stop()

    def _composed(self) -> Iterator[str]:
        plan = self.plan
        if plan.opening:
            yield plan.opening
        if self.model_stream is None:
            return
        if plan.keep is None and plan.max_sentences is None:
            yield from self.model_stream  # nothing to check: every token as it comes
            return
        kept = 0
        pieces = checked(
            self.model_stream,
            plan.keep,
            limit=plan.max_sentences,
            one_speaker=plan.one_speaker,
            sink=self,
        )
        asked = False
        for piece in pieces:
            yield piece if kept else piece.lstrip()
            kept += 1
            asked = asked or "?" in piece
        if plan.fallback and not asked:
            # The reply keeps the learner talking even when the model asked nothing.
            yield (" " if kept else "") + plan.fallback
        if self.dropped and plan.style == FREE:
            gap = "\n\n" if kept or plan.opening else ""
            yield f"{gap}_({self.dropped} {_label(plan, 'left_out')})_"

    def close(self) -> None:
        if self.model_stream is not None:
            self.model_stream.close()

    @property
    def model(self) -> str:
        return getattr(self.model_stream, "model", "") or self.plan.source

    @property
    def prompt_tokens(self) -> int | None:
        return getattr(self.model_stream, "prompt_tokens", None)

    @property
    def completion_tokens(self) -> int | None:
        return getattr(self.model_stream, "completion_tokens", None)


_ROLE_TURN = re.compile(r"(?:^|\n)\s*[A-Z][\w ]{0,20}:\s")


def checked(
    deltas: Iterable[str],
    keep: Callable[[str], bool | None] | None,
    *,
    limit: int | None = None,
    one_speaker: bool = False,
    sink: ComposedReply | None = None,
) -> Iterator[str]:
    """The text of `deltas` sentence by sentence (each with the space before it), the
    sentences `keep` rejects left out, at most `limit` of them; with `one_speaker`, stops
    where the model starts writing another speaker's turn ("Jessica: ...")."""
    buffer, seen, emitted = "", "", 0
    for delta in deltas:
        buffer += delta
        seen += delta
        turn = _ROLE_TURN.search(seen) if one_speaker else None
        if turn:  # what is left of the buffer before the other speaker's turn
            buffer = buffer[: max(0, len(buffer) - (len(seen) - turn.start()))]
        done, buffer = _complete(buffer)
        for segment in done:
            verdict = keep(segment) if keep else True
            if verdict is False:
                if sink is not None:
                    sink.dropped += 1
                continue
            yield segment
            emitted += 1
            if limit and emitted >= limit:
                return
        if turn:
            buffer = ""
            break
    if buffer.strip():
        verdict = keep(buffer) if keep else True
        if verdict is False:
            if sink is not None:
                sink.dropped += 1
        elif not limit or emitted < limit:
            yield buffer


def _complete(buffer: str) -> tuple[list[str], str]:
    """The buffer's complete sentences (with their leading space) and the rest."""
    segments, start = [], 0
    for match in answers._BOUNDARY.finditer(buffer):
        if match.end() >= len(buffer):
            break
        segments.append(buffer[start : match.end()])
        start = match.end()
    return [s for s in segments if s.strip()], buffer[start:]


def _note_text(note) -> NoteText:
    return NoteText(
        id=note.id,
        title=note.title,
        rule=note.rule,
        pattern=note.pattern,
        tip=note.tip,
        example=tuple(note.example),
    )


def note_text(note) -> NoteText:
    """A grammar.notes.RenderedNote as the tutor quotes it."""
    return _note_text(note)


def _label(plan: Composition, key: str) -> str:
    return LABELS.get(plan.language, LABELS["en"])[key]


def _escaped(text: str) -> str:
    return _MARKDOWN.sub(r"\\\1", text)


def _template(name: str) -> str:
    return (PROMPTS / name).read_text().strip()
