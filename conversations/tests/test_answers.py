"""The text rules of the tutor's answers (pure: no database, no model)."""

from conversations import answers, notes_search, tutoring

PASSAGE = (
    "## The present perfect\n"
    "We use the **present perfect** for experiences without a time. "
    "It is formed with *have* or *has* and the past participle. "
    "With a finished time, such as yesterday, use the past simple."
)


def test_sentences_split_at_stops_and_lines_keeping_markers():
    text = "First one [1]. Second one? Third!\nA line\n\nLast [2]"

    assert answers.sentences(text) == [
        "First one [1].",
        "Second one?",
        "Third!",
        "A line",
        "Last [2]",
    ]


def test_plain_strips_markdown():
    assert answers.plain("## Title\n**bold** and *it* with `code`") == "Title bold and it with code"


def test_support_needs_the_cited_passage_to_hold_the_sentence():
    passages = {1: PASSAGE, 2: "Sleep helps memory."}

    assert answers.support("We use the present perfect for experiences [1].", passages)
    assert not answers.support("We use the present perfect for experiences [2].", passages)
    assert not answers.support("The present perfect is used for future plans [1].", passages)
    assert answers.support("Sure!", passages) is None  # a framing line: no claim


def test_faithfulness_counts_supported_claims():
    found = answers.faithfulness(
        "Sure! We use the present perfect for experiences [1]. It shows future plans [1].",
        {1: PASSAGE},
    )

    assert (found.supported, found.unsupported, found.share) == (1, 1, 0.5)


def test_extract_quotes_the_most_relevant_sentences_as_text():
    quotes = answers.extract(
        "When do I use the past simple?", [(1, PASSAGE), (2, "Sleep helps memory a lot.")]
    )

    assert [q.n for q in quotes] == [1]
    assert quotes[-1].text == "With a finished time, such as yesterday, use the past simple."
    assert all("*" not in q.text and "#" not in q.text for q in quotes)
    shown = answers.quoted(quotes)
    assert shown.endswith(
        "\u201cWith a finished time, such as yesterday, use the past simple.\u201d [1]"
    )
    assert answers.faithfulness(shown, {1: PASSAGE}).share == 1.0


WRAPPED = """## Separable phrasal verbs

With a noun, the object can go before or after the particle: turn off the light.
When the object is a pronoun, it goes between the verb and the particle: say
"turn it off", never "turn off it".

- Look after them: an inseparable verb keeps its
  object after the particle.
"""


def test_a_sentence_wrapped_over_lines_is_quoted_whole():
    quotes = answers.extract("Can a pronoun go between turn and off?", [(1, WRAPPED)])

    assert (
        "When the object is a pronoun, it goes between the verb and the particle: "
        'say "turn it off", never "turn off it".'
    ) in [q.text for q in quotes]
    texts = [q.text for q in answers.extract("inseparable verb object", [(1, WRAPPED)])]
    assert "Look after them: an inseparable verb keeps its object after the particle." in texts


def test_grammar_claims_are_recognised():
    assert answers.grammar_claim("I added an apostrophe to child.")
    assert answers.grammar_claim("You should say 'I went'.")
    assert not answers.grammar_claim("What did you eat for dinner?")


def test_checked_stream_keeps_allowed_sentences_and_stops_at_the_limit():
    deltas = ["Good ", "morning! Your ver", "b is wrong. How are", " you? Fine. More."]

    kept = list(tutoring.checked(deltas, lambda s: not answers.grammar_claim(s), limit=2))

    assert "".join(kept) == "Good morning! How are you?"


def test_notes_search_finds_the_note_a_question_is_about_and_nothing_for_chat():
    assert [f.note.id for f in notes_search.search("Is it I am agree or I agree?", "en")] == [
        "be-before-verb"
    ]
    assert notes_search.search("When should I use much or many?", "en")[0].note.id == "much-many"
    assert notes_search.search("Who won the football match last night?", "en") == []


def test_an_echo_of_the_learners_words_is_recognised():
    said = "I am living in Seoul since five years."

    assert answers.echoes("I am living in Seoul since five years.", said)
    assert not answers.echoes("Seoul is a big city.", said)
    assert answers.echoes("Namely, I am living in Seoul since five years.", said)
    assert not answers.echoes("Which school do you go to?", "He go to school every day.")


def test_a_reply_that_starts_as_another_speaker_is_left_out():
    kept = list(tutoring.checked(["Jessica: Yes I love it! ", "Me: Cool."], None, one_speaker=True))

    assert kept == []


def test_a_recited_instruction_is_recognised():
    told = "Never write the learner's part, never play another person."

    assert answers.leaks("I will never write the learner's part here.", told)
    assert not answers.leaks("What do you like to do at the weekend?", told)


def test_a_statement_about_something_else_is_off_topic_but_questions_and_reactions_are_not():
    said = "I went to the park with my dog yesterday."

    assert answers.off_topic("I'm sorry for your loss, I am unable to provide a recipe.", said)
    assert not answers.off_topic("Parks are lovely when the dogs run around freely.", said)
    assert not answers.off_topic("What is your favourite recipe?", said)
    assert not answers.off_topic("That sounds lovely!", said)
    assert not answers.off_topic("Cooking is a wonderful hobby for many people.", "...")


def test_a_recast_of_the_learners_sentence_is_an_echo_a_question_about_it_is_not():
    said = "Yesterday I go to the cinema with my friend."

    assert answers.echoes("Bella, Yesterday I went to the cinema with my friend.", said)
    assert answers.echoes("She can swim very fast.", "He can to swim very fast.")
    assert not answers.echoes("Did you go to the cinema with your friend?", said)
    assert not answers.echoes("What did you see there?", said)


def test_a_claim_about_words_and_usage_is_a_grammar_claim():
    assert answers.grammar_claim("That phrase isn't widely accepted in English.")
    assert answers.grammar_claim("Living can be used for people with no fixed address.")
    assert not answers.grammar_claim("What film did you watch?")


def test_a_salutation_line_is_a_fragment():
    assert answers.fragment("Bella,")
    assert answers.fragment("Note:")
    assert not answers.fragment("That sounds lovely!")
