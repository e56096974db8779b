"""The tutor evaluation on the scripted model, guided: its figures keep a floor. The
scripted replies include a small model's failures from the walkthrough (an invented
correction, an echo of the learner's mistake, role play): none may reach the learner."""

import json
from collections import Counter

import pytest
from django.core.management import call_command

from conversations.testing import tutor_eval, tutor_judge

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_fixture_has_every_kind_of_turn():
    turns = tutor_eval.turns()

    assert len(turns) >= 40
    kinds = {t.kind for t in turns}
    assert {"mistake", "question", "practice", "offtopic"} <= kinds


def test_the_scripted_tutor_keeps_the_floor(scripted_llm, tmp_path, capsys):
    out = tmp_path / "replies.json"

    call_command(
        "tutor_eval", "--model", "scripted", "--style", "guided", "--in-place", "--out", str(out)
    )

    printed = capsys.readouterr().out
    assert "tutor evaluation: 44 turns" in printed
    replies = json.loads(out.read_text())
    assert len(replies) == 44
    false_claims = [r for r in replies if r["false_claims"]]
    assert false_claims == []  # bar: at most 5%; goal: none
    on_topic = sum(r["on_topic"] for r in replies) / len(replies)
    assert on_topic >= 0.9
    assert not [r for r in replies if r["correction_verdict"] == "wrong"]
    assert sum(r["correction_verdict"] == "right" for r in replies) >= 3
    assert "notes answers, sentences supported by a cited note: 100.0%" in printed
    by_text = {r["learner"]: r["reply"] for r in replies}
    assert "apostrophe" not in by_text["She have three childs."]
    assert "since five years" not in by_text["I am living in Seoul since five years."]
    assert "Jessica" not in by_text["Do you like football?"]
    # The scripted judge answers its schema's example: the plumbing runs, nothing is measured.
    assert "judge: profile tutor_judge, scripted scripted-model: 44/44 replies judged" in printed
    assert all(r["judge"] is not None and r["judge_failure"] == "" for r in replies)
    assert replies[0]["rules"]["correction_right"] in ("yes", "no correction")


def test_no_judge_skips_the_judge(scripted_llm, tmp_path, capsys):
    turns = tmp_path / "turns.json"
    turns.write_text(json.dumps([{"kind": "offtopic", "text": "Tell me a joke."}]))
    out = tmp_path / "replies.json"

    call_command(
        "tutor_eval",
        "--model",
        "scripted",
        "--turns",
        str(turns),
        "--no-judge",
        "--in-place",
        "--out",
        str(out),
    )

    assert "judge:" not in capsys.readouterr().out
    assert "judge" not in json.loads(out.read_text())[0]
    assert not [c for c in scripted_llm.calls if c.profile == "tutor_judge"]


def test_a_false_claim_is_counted():
    turn = tutor_eval.Turn(kind="chat", text="I like music.")

    class Reply:
        content = "You should say 'I like the music'. What music do you like?"
        model = "scripted-model"
        citations: list = []
        status = "complete"

    scored = tutor_eval.score(turn, Reply(), "")

    assert scored.false_claims == ["You should say 'I like the music'."]
    assert scored.on_topic


class Reply:
    model = "scripted-model"
    status = "complete"

    def __init__(self, content: str, citations: list | None = None) -> None:
        self.content = content
        self.citations = citations or []


def recorded() -> list[tutor_eval.Scored]:
    """A right correction, a false claim, and an off-topic reply."""
    opening = "**Correction:** *She has three children.*\n\n"
    mistake = tutor_eval.Turn(
        kind="mistake", text="She have three childs.", gold="She has three children."
    )
    return [
        tutor_eval.score(
            mistake,
            Reply(opening + "How old are they?"),
            opening,
        ),
        tutor_eval.score(
            tutor_eval.Turn(kind="chat", text="I like music."),
            Reply("You should say 'I like the music'. What music do you like?"),
            "",
        ),
        tutor_eval.score(
            tutor_eval.Turn(kind="offtopic", text="Tell me a joke."),
            Reply("Jessica: Yes I love it!"),
            "",
        ),
    ]


def verdict(on_topic=True, claim=False, correction="no correction", problems=()) -> dict:
    return {
        "on_topic": on_topic,
        "false_grammar_claim": claim,
        "correction_right": correction,
        "supported": "not grounded",
        "problems": list(problems),
    }


def test_the_judge_is_scored_beside_the_rules(scripted_llm):
    scored = recorded()
    scripted_llm.queue(verdict(correction="yes"))
    scripted_llm.queue(verdict(claim=False))  # misses the false claim the rules found
    scripted_llm.queue(verdict(on_topic=False, problems=["It plays a character."]))

    judgements = [tutor_judge.judge(s) for s in scored]
    found = tutor_judge.figures(scored, judgements)

    assert found.judged == 3 and not found.not_judged
    by_name = {c.name: c for c in found.criteria}
    assert by_name["on_topic"].rules == Counter(yes=2, no=1)
    assert (by_name["on_topic"].agree, by_name["on_topic"].compared) == (3, 3)
    claims = by_name["false_grammar_claim"]
    assert claims.rules == Counter(yes=1, no=2)
    assert claims.judge == Counter(no=3)
    assert (claims.agree, claims.compared) == (2, 3)
    assert by_name["correction_right"].judge == Counter({"yes": 1, "no correction": 2})
    assert by_name["correction_right"].agreement == 1.0
    assert by_name["supported"].agreement == 1.0
    assert judgements[2].verdict.problems == ["It plays a character."]
    first = scripted_llm.calls[0]
    assert first.profile == "tutor_judge" and first.temperature == 0.0
    assert first.messages[0]["role"] == "system"
    assert "She has three children." in first.messages[-1]["content"]
    assert "How old are they?" in first.messages[-1]["content"]
    assert "none: the reply cites no sources." in first.messages[-1]["content"]


def test_an_invalid_judge_output_is_not_judged(scripted_llm):
    scored = recorded()
    scripted_llm.queue(verdict(correction="yes"))
    scripted_llm.queue("The reply is fine.")  # not JSON,
    scripted_llm.queue({"on_topic": "maybe"})  # nor after the repair
    scripted_llm.queue(verdict(on_topic=False))

    judgements = [tutor_judge.judge(s) for s in scored]
    found = tutor_judge.figures(scored, judgements)

    assert [j.failure for j in judgements] == ["", "invalid output", ""]
    assert found.judged == 2
    assert found.not_judged == Counter({"invalid output": 1})
    claims = next(c for c in found.criteria if c.name == "false_grammar_claim")
    assert (claims.agree, claims.compared) == (2, 2)  # the unjudged reply is left out
    assert claims.rules == Counter(yes=1, no=2)


def test_a_judge_timeout_is_not_judged(scripted_llm):
    scripted_llm.set_default(text="{}", fail_after_chars=0, error="timeout")

    judgement = tutor_judge.judge(recorded()[0])

    assert judgement.verdict is None and judgement.failure == "timeout"
    assert judgement.labels() is None


def test_a_notes_answer_shows_the_judge_its_sources():
    from grammar import notes

    note = next(iter(notes.library().by_id.values()))
    text = note.texts["en"]["rule"]
    turn = tutor_eval.Turn(kind="question", text="Why?", notes=(note.id,))
    citation = {"n": 1, "kind": "note", "note_id": note.id}
    answer = f"{note.texts['en']['title']} [1]\n\n{text}"
    scored = tutor_eval.score(turn, Reply(answer, [citation]), "")

    prompt = tutor_judge.user_prompt(scored)

    assert "<<<SOURCE 1>>>" in prompt and text[:80] in prompt
    assert "there is no sentence to correct" in prompt
    assert tutor_judge.rule_labels(scored)["supported"] in ("yes", "no")
