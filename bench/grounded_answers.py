"""How faithful the tutor's document answers are, on the retrieval evaluation's 44
questions (documents/tests/eval): the product's search finds the passages, then

- guided (the built-in model's style): the extractive answer the chat would show;
- free (--free, with the configured model of the `chat` profile): the model's answer to
  the rag prompt, before and after the support check that leaves out sentences no cited
  passage supports.

Prints, per style: faithfulness (the share of answer sentences found in a cited passage,
by conversations.answers.support; framing lines of fewer than three content words are
not counted), how many quotes are verbatim in their passage, and how many answers hold
the evaluation's answer passage (or half of it).

    .venv/bin/python bench/grounded_answers.py
    .venv/bin/python bench/grounded_answers.py --free --limit 10   # the model too (slow on CPU)

Runs on a scratch test database (created and dropped), with the embedded embedder.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--free", action="store_true", help="also the configured model")
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions")
    parser.add_argument("--show", type=int, default=3, help="print this many answers")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from bench.common import scratch_databases

    with scratch_databases("grounded"):
        run(args)


def run(args) -> None:
    from bench.common import learner
    from conversations import grounding
    from conversations.models import Conversation, Mode
    from documents.testing import evaluation

    owner = learner()
    documents = evaluation.index_corpus(owner)
    conversation = Conversation.objects.create(owner=owner, title="bench", mode=Mode.RAG)
    conversation.documents.set(documents.values())
    questions = evaluation.questions()[: args.limit or None]
    grounded = []
    for question in questions:
        found = grounding.ground(conversation, question.q)
        grounded.append((question, found))
    empty = sum(1 for _, found in grounded if not found.passages)
    print(f"{len(questions)} questions; passages found for {len(questions) - empty}")

    report("guided (extractive)", [guided(q, found) for q, found in grounded], args.show)
    if args.free:
        answers_ = [free(q, found) for q, found in grounded if found.passages]
        report("free, as generated", [raw for raw, _ in answers_], args.show)
        report("free, after the support check", [kept for _, kept in answers_], args.show)


def guided(question, found):
    from conversations import tutoring

    if not found.passages:
        return question, "", {}
    text, _ = tutoring.extractive_answer(question.q, found.passages)
    return question, text, found.passages


def free(question, found):
    import llm
    from conversations import tutoring
    from conversations.context import system_prompt

    system = system_prompt("chat", None) + "\n\n" + found.instructions
    messages = [{"role": "system", "content": system}, {"role": "user", "content": question.q}]
    started = time.perf_counter()
    text = llm.complete("chat", messages).text
    seconds = time.perf_counter() - started

    def keep(sentence):
        from conversations import answers

        return answers.support(sentence, found.passages)

    kept = "".join(tutoring.checked([text], keep)).strip()
    print(f"  [{seconds:.1f} s] {question.q}")
    return (question, text, found.passages), (question, kept, found.passages)


def report(name: str, rows, show: int) -> None:
    from conversations import answers
    from documents.testing import evaluation

    supported = unsupported = verbatim = quotes = holding = answered = 0
    shares = []
    for question, text, passages in rows:
        if not text:
            continue
        answered += 1
        found = answers.faithfulness(text, passages)
        supported += found.supported
        unsupported += found.unsupported
        shares.append(found.share)
        for sentence in answers.sentences(text):
            numbers = [n for n in answers.cited(sentence) if n in passages]
            if not numbers:
                continue
            quotes += 1
            body = evaluation.flat(answers.plain(answers._MARKER.sub("", sentence)))
            body = body.strip("\u201c\u201d ")
            verbatim += any(body in evaluation.flat(answers.plain(passages[n])) for n in numbers)
        words = evaluation.flat(question.a).split()
        half = max(1, (len(words) + 1) // 2)
        flat = evaluation.flat(answers.plain(text))
        holding += any(part in flat for part in (" ".join(words[:half]), " ".join(words[-half:])))
    claims = supported + unsupported
    print(f"\n{name}: {answered} answers, {claims} answer sentences")
    if claims:
        print(
            f"  faithfulness (sentences supported by a cited passage): {supported / claims:.3f}"
            f" ({supported}/{claims}); per answer, mean {statistics.mean(shares):.3f}, "
            f"lowest {min(shares):.3f}"
        )
    if quotes:
        print(f"  cited sentences verbatim in their passage: {verbatim}/{quotes}")
    print(f"  answers holding the evaluation's answer passage: {holding}/{answered}")
    for question, text, _ in rows[:show]:
        print(f"\n  Q: {question.q}\n  A: " + text.replace("\n", "\n     "))


if __name__ == "__main__":
    main()
