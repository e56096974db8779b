from teaching.core.filtering import Mistake, Sentence, Thresholds, filter_and_split, mistake_groups


def sentence(key, text, *mistakes, language="en", priority=3):
    return Sentence(key, text, text + " (fixed)", language, priority, tuple(mistakes))


def tense(error_id, original="go", correction="went", cluster=None):
    return Mistake(error_id, original, correction, "verb_tense", cluster_id=cluster)


def by_first_word(text):
    return "es" if text.startswith("Ayer") else "en"


def split(sentences, **options):
    return filter_and_split(sentences, native="es", target="en", detect=by_first_word, **options)


def test_sentences_split_by_detected_language_and_native_ones_dropped():
    result = split(
        [
            sentence("1", "Yesterday I go home.", tense(1)),
            sentence("2", "Ayer yo voy a casa.", tense(2), language="en"),
        ]
    )
    assert [s.key for s in result.by_language["en"]] == ["1"]
    assert result.dropped == [("2", "written in the learner's own language")]


def test_low_priority_and_trivial_mistakes_are_dropped():
    punct = Mistake(3, "home", "home.", "punctuation")
    case = Mistake(4, "i", "I", "pronoun")
    result = split(
        [
            sentence("1", "Yesterday I go home.", tense(1), priority=1),
            sentence("2", "Then i went home", punct, case),
        ]
    )
    assert result.by_language == {}
    assert dict(result.dropped) == {"1": "priority 1 below 2", "2": "only trivial mistakes"}


def test_thresholds_come_from_the_caller():
    result = split(
        [sentence("1", "Yesterday I go home.", tense(1), priority=1)],
        thresholds=Thresholds(min_priority=1),
    )
    assert [s.key for s in result.by_language["en"]] == ["1"]


def test_duplicates_count_once_and_higher_priority_comes_first():
    result = split(
        [
            sentence("1", "Yesterday I go home.", tense(1), priority=3),
            sentence("2", "yesterday i go home", tense(2), priority=3),
            sentence(
                "3",
                "She have a dog.",
                Mistake(5, "have", "has", "subject_verb_agreement"),
                priority=5,
            ),
            sentence("4", "No mistakes here."),
        ]
    )
    assert [s.key for s in result.by_language["en"]] == ["3", "1"]
    assert dict(result.dropped) == {"2": "duplicate sentence", "4": "no mistakes"}


def test_groups_follow_clusters_and_rank_by_frequency_and_priority():
    sentences = [
        sentence("1", "Yesterday I go home.", tense(1, cluster=7)),
        sentence("2", "Last week I see him.", tense(2, "see", "saw", cluster=7)),
        sentence(
            "3", "She have a dog.", Mistake(3, "have", "has", "subject_verb_agreement"), priority=4
        ),
    ]
    groups = mistake_groups(sentences)
    assert [(g.error_type, g.count, g.score) for g in groups] == [
        ("verb_tense", 2, 6.0),
        ("subject_verb_agreement", 1, 4.0),
    ]
    assert groups[0].cluster_id == 7
    assert [e["sentence"] for e in groups[0].examples] == [
        "Yesterday I go home.",
        "Last week I see him.",
    ]
    assert groups[0].key == "en|verb_tense|go>went"
