import functools
import json
import random
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from analysis import devdata
from analysis.core import evaluation
from analysis.core.annotate import annotate_pairs
from analysis.core.clustering import (
    SAMPLE,
    ErrorPoint,
    Pattern,
    cluster_errors,
    edit_text,
    name_cluster,
    pattern_of,
)
from analysis.management.commands.analysis_eval import _clustering

FIXTURE = Path(__file__).parent / "fixtures" / "learner_sentences.jsonl"
# issue #17: the bar for the dev families' adjusted Rand index is 0.80, the goal 0.90
# (measured 0.980: 8 clusters for 8 families, the one miss an edit ERRANT types as a verb
# form where the annotators saw agreement).
DEV_ARI_FLOOR = 0.90


def _points(pairs, priority=3):
    points = []
    for n, sentence_edits in enumerate(annotate_pairs(pairs)):
        for k, e in enumerate(sentence_edits):
            points.append(
                ErrorPoint(
                    f"{n}:{k}",
                    e.error_type,
                    e.original,
                    e.correction,
                    e.features,
                    priority,
                    source_type=e.source_type,
                )
            )
    return points


def _fixture_points():
    rows = [json.loads(line) for line in FIXTURE.read_text().splitlines()]
    rows = [r for r in rows if r.get("family")]
    edits = annotate_pairs([(r["source"], r["corrections"][0]) for r in rows])
    points, families = [], []
    for n, (row, sentence_edits) in enumerate(zip(rows, edits, strict=True)):
        for e in sentence_edits:
            points.append(
                ErrorPoint(
                    str(n),
                    e.error_type,
                    e.original,
                    e.correction,
                    e.features,
                    source_type=e.source_type,
                )
            )
            families.append(row["family"])
    return points, families, [r["topic"] for r in rows]


def _label_of(clusters):
    return {key: c.label for c in clusters for key in c.keys}


@functools.cache
def _dev_families():
    """dev_families.jsonl's rows and their gold edits, as `manage.py analysis_eval` reads
    them (one reference per row: the agreed edit)."""
    # Real learner English with gold mistake families (never copied into the repository):
    # settings.ANALYSIS_DEV_DATA says where; its absence fails, saying where it looked.
    try:
        path = devdata.folder() / devdata.FAMILIES
    except devdata.DevDataMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    rows = evaluation.read_rows(path.read_text(encoding="utf-8"))
    edits = annotate_pairs([(row.source, row.corrections[0]) for row in rows])
    return rows, [[sentence_edits] for sentence_edits in edits]


def test_real_learner_mistakes_hold_together_in_their_families():
    """Gold edits of real learner English (TOEFL essays), one per sentence, eight families:
    today's figure in `manage.py analysis_eval dev_families.jsonl`."""
    rows, refs = _dev_families()
    scores = _clustering(rows, refs)
    assert scores["families"] == 8
    assert scores["ari"] >= DEV_ARI_FLOOR, scores
    assert scores["purity"] >= 0.95, scores
    assert scores["clusters"] <= scores["families"] + 2, scores  # was 36 for 8


def test_the_families_hold_on_random_halves_of_the_dev_set():
    """Unseen sentences of the same kind: each half of the dev set on its own clears the
    bar (measured over these ten halves: 0.946 at least)."""
    rows, refs = _dev_families()
    for seed in range(5):
        order = list(range(len(rows)))
        random.Random(seed).shuffle(order)
        for half in (order[: len(order) // 2], order[len(order) // 2 :]):
            scores = _clustering([rows[i] for i in sorted(half)], [refs[i] for i in sorted(half)])
            assert scores["ari"] >= 0.80, (seed, scores)


def test_clustering_the_fixtures_gold_edits_recovers_its_families():
    points, families, topics = _fixture_points()
    label = _label_of(cluster_errors(points))
    ari = adjusted_rand_score(families, [label[p.key] for p in points])
    assert ari >= 0.95, ari  # measured 1.000: 10 clusters for 10 families
    # The fixture mixes topics across families: grouping by topic would fail.
    assert adjusted_rand_score(families, topics) < 0.1


def test_edit_vectors_join_the_features_and_keep_the_families():
    points, families, _ = _fixture_points()
    # Stand-in embeddings: one direction per distinct correction word, as similar edits
    # would get from an embedding model; llm.embed itself is never called in here.
    words = sorted({p.correction.lower() for p in points})
    vectors = np.eye(len(words))[[words.index(p.correction.lower()) for p in points]]
    label = _label_of(cluster_errors(points, vectors=vectors))
    assert adjusted_rand_score(families, [label[p.key] for p in points]) >= 0.8
    with pytest.raises(ValueError):
        cluster_errors(points, vectors=vectors[:-1])


def test_clustering_is_deterministic_for_the_same_input():
    points, _, _ = _fixture_points()
    assert cluster_errors(points, seed=3) == cluster_errors(list(points), seed=3)


def test_same_mistake_on_different_topics_together_different_mistakes_on_one_topic_apart():
    points = _points(
        [
            ("Yesterday I go to the football match.", "Yesterday I went to the football match."),
            ("Last week I buy a new oven.", "Last week I bought a new oven."),
            ("Last summer we visit Rome.", "Last summer we visited Rome."),
            ("My brother play football.", "My brother plays football."),
            ("She cook dinner every day.", "She cooks dinner every day."),
            ("He is good in football.", "He is good at football."),
            ("We arrived to the airport.", "We arrived at the airport."),
            ("I need to buy new guitar.", "I need to buy a new guitar."),
            ("She wants to be engineer.", "She wants to be an engineer."),
        ]
    )
    label = _label_of(cluster_errors(points))
    went, bought, visited, plays, cooks, at_football, at_airport = (
        label[k] for k in ("0:0", "1:0", "2:0", "3:0", "4:0", "5:0", "6:0")
    )
    assert went == bought == visited
    assert plays == cooks
    assert at_football == at_airport
    # Three football sentences, three different mistakes: three families.
    assert len({went, plays, at_football}) == 3


def test_families_are_ranked_by_frequency_times_priority_and_named_from_their_edits():
    frequent_minor = [ErrorPoint(f"p{n}", "punctuation", "", ",", {}, priority=1) for n in range(3)]
    past = {"orig_tags": ["VBP"], "corr_tags": ["VBD"]}
    rare_major = [
        ErrorPoint(
            "t1",
            "verb_tense",
            "go",
            "went",
            {"orig_lemmas": ["go"], "corr_lemmas": ["go"], **past},
            5,
        ),
        ErrorPoint(
            "t2",
            "verb_tense",
            "buy",
            "bought",
            {"orig_lemmas": ["buy"], "corr_lemmas": ["buy"], **past},
            5,
        ),
    ]
    clusters = cluster_errors(frequent_minor + rare_major)
    assert [c.error_type for c in clusters] == ["verb_tense", "punctuation"]
    assert [c.label for c in clusters] == [0, 1]
    first, second = clusters
    assert first.score == 10.0 and second.score == 3.0
    assert set(first.keys) == {"t1", "t2"}
    # Named by what its edits share, not after the first of them.
    assert first.name == "Verb tense: the past tense"
    assert "go → went" in first.description and "buy → bought" in first.description
    assert second.name == "Punctuation and capitalisation: missing *,*"
    assert second.top_edits == (("", ","),)


def test_no_errors_no_clusters_and_one_error_one_cluster():
    assert cluster_errors([]) == []
    [only] = cluster_errors([ErrorPoint("a", "spelling", "freind", "friend", {})])
    assert only.keys == ("a",) and only.error_type == "spelling"
    assert edit_text(ErrorPoint("b", "determiner", "", "the")) == "∅ → the"


def test_many_distinct_errors_are_clustered_on_a_sample_and_every_one_assigned():
    rng = random.Random(0)
    words = ["received", "weather", "football", "chicken", "library", "believe"]
    points = []
    for n in range(SAMPLE * 2):
        word = rng.choice(words)
        i = rng.randrange(len(word))
        typo = word[:i] + rng.choice("abcdefghijklmnopqrstuvwxyz") + word[i + 1 :] + str(n)
        points.append(ErrorPoint(str(n), "spelling", typo, word, {}))
    points += [ErrorPoint(f"d{n}", "determiner", "", "the", {}) for n in range(50)]
    clusters = cluster_errors(points, seed=1)
    keys = [k for c in clusters for k in c.keys]
    assert sorted(keys) == sorted(p.key for p in points)
    det = [c for c in clusters if c.error_type == "determiner"]
    assert len(det) == 1 and len(det[0].keys) == 50
    assert cluster_errors(points, seed=1) == clusters


def test_a_learners_recurring_sub_patterns_part_but_words_alone_never_split_a_family():
    missing = [("I saw cat in the garden.", "I saw the cat in the garden.")] * 4 + [
        ("We went to cinema.", "We went to the cinema."),
        ("She is best student.", "She is the best student."),
    ] * 4
    extra = [
        ("I like the football.", "I like football."),
        ("He plays the tennis.", "He plays tennis."),
    ]
    went = [("Yesterday I go home.", "Yesterday I went home.")] * 10
    other_past = [
        ("Last week I buy a car.", "Last week I bought a car."),
        ("Two days ago we visit Rome.", "Two days ago we visited Rome."),
        ("Last year she teach me.", "Last year she taught me."),
        ("Yesterday it rain a lot.", "Yesterday it rained a lot."),
        ("Last night I watch a film.", "Last night I watched a film."),
    ] * 2
    clusters = cluster_errors(_points(missing + extra * 4 + went + other_past))
    named = {c.name: len(c.keys) for c in clusters}
    # Missing and extra articles are different mistakes, and each recurs: two families.
    assert named["Articles and determiners: missing *the*"] == 12
    assert named["Articles and determiners: extra *the*"] == 8
    # Went and bought differ in their words only: one family, however often "go" recurs.
    assert named["Verb tense: the past tense"] == 20
    assert len(clusters) == 3
    # A handful of errors is no pattern: the same mistakes, fewer, stay one family each.
    few = cluster_errors(_points(missing[:4] + extra[:2] * 2 + went[:3] + other_past[:3]))
    assert sorted(c.error_type for c in few) == ["determiner", "verb_tense"]


def test_a_family_mostly_made_of_one_edit_is_named_by_it():
    points = _points(
        [("Yesterday I go home.", "Yesterday I went home.")] * 3
        + [("Last week I buy a car.", "Last week I bought a car.")]
    )
    [family] = cluster_errors(points)
    assert family.name == "Verb tense: *go* → *went*"
    assert family.pattern == pattern_of(points)
    assert family.pattern.subtype == "R:VERB:TENSE" and family.pattern.size == 4


def test_a_grammar_notes_title_names_the_family_it_fits():
    points = _points(
        [
            ("I have went there.", "I have gone there."),
            ("She has wrote it.", "She has written it."),
            ("Yesterday I go home.", "Yesterday I went home."),
        ]
    )

    def note_title(pattern: Pattern, family) -> str | None:
        if pattern.subtype == "R:VERB:FORM" and pattern.tags[1] == "VBN":
            return "Past participle after *have*"
        return None

    names = {c.error_type: c.name for c in cluster_errors(points, note_title=note_title)}
    assert names == {
        "verb_form": "Past participle after *have*",
        "verb_tense": "Verb tense: the past tense",
    }
    assert name_cluster(Pattern("spelling")) == "Spelling"  # nothing shared but the kind
    assert name_cluster(Pattern("spelling"), note_title="Double letters") == "Double letters"


def test_a_names_quoted_words_are_italic_on_the_page_and_plain_in_the_chart():
    from analysis.core import charts
    from analysis.templatetags.analysis_names import marked

    assert marked("Verb tense: *go* → *went*") == "Verb tense: <em>go</em> → <em>went</em>"
    assert marked("Spelling: *<b>* & co") == "Spelling: <em>&lt;b&gt;</em> &amp; co"
    svg = charts.errors_over_time([date(2026, 12, 1)], [("Verb tense: *go* → *went*", [3])])
    assert "Verb tense: go → went" in svg and "*go*" not in svg


def test_the_service_names_a_family_by_the_grammar_note_most_of_its_edits_fit():
    from analysis.services.clustering import _note_title

    points = _points(
        [
            ("I have went there.", "I have gone there."),
            ("She has wrote it.", "She has written it."),
            ("They have ate lunch.", "They have eaten lunch."),
        ]
    )
    named = {c.error_type: c.name for c in cluster_errors(points, note_title=_note_title)}
    assert named == {"verb_form": "Past participle after *have*"}
    # A family the notes explain only in general keeps its pattern's name.
    spelled = _points(
        [("I recieved it.", "I received it."), ("It was beatiful.", "It was beautiful.")]
    )
    assert [c.name for c in cluster_errors(spelled, note_title=_note_title)] == ["Spelling"]
