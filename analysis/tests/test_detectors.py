"""Each detector on real sentences (no mocks of the detector itself); the model through
the scripted provider."""

import pytest

from analysis import detectors
from analysis.core.schemas import ContextLine
from analysis.detectors import harper, model, rules, spelling


def test_the_registry_loads_each_detector_by_name_and_refuses_unknown_ones():
    assert set(detectors.DETECTORS) >= {"harper", "spelling", "rules", "model"}
    assert detectors.get("harper") is harper.detect
    assert detectors.parse_names(" harper, spelling,harper ") == ("harper", "spelling")
    with pytest.raises(ValueError, match="Unknown detector 'nope'"):
        detectors.get("nope")
    with pytest.raises(ValueError, match="Unknown detector"):
        detectors.parse_names("harper,nope")


def test_configured_detectors_follow_the_setting_and_can_leave_the_model_out(settings):
    settings.ANALYSIS_DETECTORS = ["harper", "model", "rules"]
    assert detectors.configured() == ("harper", "model", "rules")
    assert detectors.configured(model=False) == ("harper", "rules")


def test_propose_drops_proposals_that_change_nothing():
    texts = ["She have two brother.", "The weather is nice today."]
    found = detectors.propose(texts, ["harper"])
    assert found["harper"][0] == ["She has two brother."]
    assert found["harper"][1] == []


# -- harper ------------------------------------------------------------------------------


def test_harper_applies_its_first_suggestion_per_lint():
    found = harper.detect(
        [
            "She have a car.",
            "I have went to school.",
            "i think it is good.",
            "I like apples and and pears.",
            "I went home early.",
        ]
    )
    assert found == [
        ["She has a car."],
        ["I have gone to school."],
        ["I think it is good."],
        ["I like apples and pears."],
        [],
    ]


def test_harper_leaves_style_advice_out():
    # "..." -> "…" is Formatting: no learner mistake.
    assert harper.detect(["I waited and waited... and then I left."]) == [[]]


def test_harper_shares_one_linter_between_threads_one_at_a_time():
    import threading

    found, seen = [], []

    def lint():
        seen.append(id(harper._linter()))
        found.append(harper.detect(["She have a car."] * 5))

    threads = [threading.Thread(target=lint) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(seen)) == 1  # built once, not once per worker thread
    assert len(found) == 4 and all(f == found[0] for f in found)


# -- spelling ----------------------------------------------------------------------------


def test_spelling_corrects_unknown_words_by_frequency_and_context():
    found = spelling.detect(
        [
            "My frends told me becouse it was important.",
            "Many peolpe think so.",
            "It is a good oportunity for me.",
        ]
    )
    assert found == [
        ["My friends told me because it was important."],
        ["Many people think so."],
        ["It is a good opportunity for me."],
    ]


def test_spelling_leaves_names_acronyms_and_known_words_alone():
    texts = [
        "I studied at the University of Belgrano with Zhenning.",
        "The NASA team met in Seoul.",
        "The colour of the theatre is grey.",
        "Words like e-mail and www.example.com stay.",
    ]
    assert spelling.detect(texts) == [[], [], [], []]


def test_spelling_capitalises_a_correction_at_the_start_of_a_sentence():
    assert spelling.detect(["Becuase it rained, we stayed."]) == [["Because it rained, we stayed."]]


def test_spelling_splits_two_words_run_together():
    assert spelling.detect(["I have afew friends."]) == [["I have a few friends."]]


# -- rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I have two brother and many friend.", "I have two brothers and many friends."),
        ("He gave me some useful informations.", "He gave me some useful information."),
        ("Yesterday I goed to the park.", "Yesterday I went to the park."),
        ("She has teached English for years.", "She has taught English for years."),
        ("He go to school every day.", "He goes to school every day."),
        ("They goes to school every day.", "They go to school every day."),
        ("He can goes there tomorrow.", "He can go there tomorrow."),
        ("I didn't went to school.", "I didn't go to school."),
        ("People is happy here.", "People are happy here."),
        ("Everyone have a car.", "Everyone has a car."),
        ("They was late again.", "They were late again."),
        ("Somebody don't like it.", "Somebody doesn't like it."),
        ("I is happy.", "I am happy."),
        ("Nobody know the answer.", "Nobody knows the answer."),
        ("I have an other idea.", "I have another idea."),
        ("You can to go now.", "You can go now."),
        ("This people are kind.", "These people are kind."),
        ("There are much people here.", "There are many people here."),
        ("Each teachers has a class.", "Each teacher has a class."),
        ("However I still believe it.", "However, I still believe it."),
        ("we went home early.", "We went home early."),
        ("I did not understand any thing.", "I did not understand anything."),
        ("He hurt him self.", "He hurt himself."),
        ("He is one of my best friend.", "He is one of my best friends."),
        ("He wants to understand the book", "He wants to understand the book."),
        ("It is good. it is cheap.", "It is good. It is cheap."),
        ("For example, When I was young, I ran.", "For example, when I was young, I ran."),
        ("He is tall. For example he can reach it.", "He is tall. For example, he can reach it."),
        ("In my opinion students need it.", "In my opinion, students need it."),
    ],
)
def test_rules_correct_what_english_grammar_says(text, expected):
    assert rules.detect([text]) == [[expected]]


@pytest.mark.parametrize(
    "text",
    [
        "I have two brothers.",
        "It was a two hour drive.",
        "My brother and my sister go to school.",
        "The people who live here are kind.",
        "I need some bread because I missed the bus.",
        "She has a red bed.",
        "I did go home early.",
        "He could have done it.",
        "I was there yesterday.",
        "If he were rich, he would travel.",
        "The species is rare.",
        "Twenty years is a long time.",
        "He doesn't know.",
        "You ought to go.",
        "I think that books are useful.",
        "This news is good.",
        "I don't have much money.",
        "Much more people came.",
        "Those are my books.",
        "However, I still believe it.",
        "iPhones are expensive.",
        "He left at 5 p.m. and came back.",
        "I like The Beatles.",
        "It may be late.",
        "Most of the time we stay home.",
        "Some of the water was dirty.",
        "One of us was late.",
        "Ok thanks a lot",
        "Why do you like this book",
        "Every one of them came.",
        'He said: "If you go, I go."',
        "He works for IBM in New York.",
        "However hard he tries, he fails.",
        "In addition to this, he is kind.",
        "I think however that he is right.",
    ],
)
def test_rules_leave_correct_english_alone(text):
    assert rules.detect([text]) == [[]]


@pytest.mark.parametrize(
    "text",
    [
        "Most student make mistakes.",  # "students make" as likely as "makes"
        "The generation wich pollute less.",  # a misspelt subject is no noun to agree with
        "Their purpose have something in common.",  # "purposes have" as likely
        "To solve that kinds of problem is hard.",  # "that kind" as likely as "those kinds"
    ],
)
def test_rules_leave_slips_of_uncertain_fix_alone(text):
    assert rules.detect([text]) == [[]]


# -- the model ---------------------------------------------------------------------------


def _reply(corrected):
    return {"corrected": corrected, "mistakes": [], "level": "B1", "topics": [], "priority": 3}


@pytest.mark.django_db
def test_the_model_detector_proposes_the_corrections_it_keeps(scripted_llm):
    scripted_llm.queue(_reply("Yesterday I went to the park."))
    scripted_llm.queue(_reply("I like football."))
    found = model.detect(
        ["Yesterday I go to the park.", "I like football."],
        contexts=[(ContextLine("Tutor", "tutor", "What did you do?"),), ()],
    )
    assert found == [["Yesterday I went to the park."], []]
    assert "What did you do?" in scripted_llm.calls[0].messages[-1]["content"]


@pytest.mark.django_db
def test_a_rewrite_by_the_model_is_no_proposal(scripted_llm):
    scripted_llm.queue(_reply("You enjoy squash a great deal, my friend."))
    assert model.detect(["I like football very much."]) == [[]]
