import json
import random
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from analysis.annotate import annotate, annotate_pairs
from analysis.clustering import SAMPLE, ErrorPoint, cluster_errors, edit_text

FIXTURE = Path(__file__).parent / "fixtures" / "learner_sentences.jsonl"


def _points(pairs, priority=3):
    points = []
    for n, (original, corrected) in enumerate(pairs):
        for k, e in enumerate(annotate(original, corrected)):
            points.append(
                ErrorPoint(f"{n}:{k}", e.error_type, e.original, e.correction, e.features, priority)
            )
    return points


def _fixture_points():
    rows = [json.loads(line) for line in FIXTURE.read_text().splitlines()]
    rows = [r for r in rows if r.get("family")]
    edits = annotate_pairs([(r["source"], r["corrections"][0]) for r in rows])
    points, families = [], []
    for n, (row, sentence_edits) in enumerate(zip(rows, edits, strict=True)):
        for e in sentence_edits:
            points.append(ErrorPoint(str(n), e.error_type, e.original, e.correction, e.features))
            families.append(row["family"])
    return points, families, [r["topic"] for r in rows]


def _label_of(clusters):
    return {key: c.label for c in clusters for key in c.keys}


def test_clustering_the_fixtures_gold_edits_recovers_its_families():
    points, families, topics = _fixture_points()
    label = _label_of(cluster_errors(points))
    ari = adjusted_rand_score(families, [label[p.key] for p in points])
    assert ari >= 0.8, ari
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
    rare_major = [
        ErrorPoint(
            "t1", "verb_tense", "go", "went", {"orig_lemmas": ["go"], "corr_lemmas": ["go"]}, 5
        ),
        ErrorPoint(
            "t2", "verb_tense", "buy", "bought", {"orig_lemmas": ["buy"], "corr_lemmas": ["buy"]}, 5
        ),
    ]
    clusters = cluster_errors(frequent_minor + rare_major)
    assert [c.error_type for c in clusters] == ["verb_tense", "punctuation"]
    assert [c.label for c in clusters] == [0, 1]
    first, second = clusters
    assert first.score == 10.0 and second.score == 3.0
    assert set(first.keys) == {"t1", "t2"}
    assert first.name.startswith("Verb tense: ")
    assert "go → went" in first.description and "buy → bought" in first.description
    assert second.top_edits == (("", ","),)
    assert all(len(c.xy) == len(c.keys) for c in clusters)


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
