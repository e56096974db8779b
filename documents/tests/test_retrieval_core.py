"""The pure ranking core: fusion, dense top-k, the relevance floor, query terms."""

import numpy as np

from documents import retrieval


def test_reciprocal_rank_fusion_rewards_agreement():
    fused = retrieval.reciprocal_rank_fusion([[1, 2, 3], [3, 1, 4]], k=60)
    assert [item for item, _ in fused] == [1, 3, 2, 4]
    assert fused[0][1] == 1 / 61 + 1 / 62


def test_fusion_of_nothing_is_nothing():
    assert retrieval.reciprocal_rank_fusion([[], []], k=60) == []


def _unit(*values):
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_dense_top_ranks_by_cosine_across_blocks():
    blocks = [
        (np.array([10, 11]), np.stack([_unit(1, 0), _unit(0, 1)])),
        (np.array([20]), np.stack([_unit(1, 1)])),
    ]
    top = retrieval.dense_top(_unit(1, 0.1), blocks, 2)
    assert [item for item, _ in top] == [10, 20]
    assert top[0][1] > top[1][1]


def test_similarities_finds_ids_in_sorted_blocks():
    blocks = [(np.array([3, 5, 9]), np.stack([_unit(1, 0), _unit(0, 1), _unit(1, 1)]))]
    found = retrieval.similarities(_unit(1, 0), blocks, [9, 3, 4])
    assert set(found) == {3, 9}
    assert round(found[3], 4) == 1.0


def test_fuse_is_reciprocal_rank_fusion_of_both_rankings():
    fused = retrieval.fuse(lexical=[1, 2], dense=[(2, 0.9), (3, 0.5)], rrf_k=60)
    assert [item for item, _ in fused] == [2, 1, 3]


def test_keep_relevant_drops_items_below_the_floor_and_cuts_at_k():
    fused = [(1, 0.3), (2, 0.2), (3, 0.1), (4, 0.05)]
    kept = retrieval.keep_relevant(fused, {1: 0.2, 2: 0.6, 3: 0.5, 4: 0.9}, top_k=2, floor=0.45)
    assert [item for item, _ in kept] == [2, 3]


def test_relevance_weighs_shared_words_with_the_cosine():
    terms = retrieval.query_terms("Can I say turn off it?", min_length=3)
    assert terms == ["turn", "off"]
    assert retrieval.term_coverage(terms, "Turn it OFF, never turn off it") == 1.0
    assert retrieval.term_coverage(terms, "Switch the light") == 0.0
    assert retrieval.relevance(0.2, 1.0) == 0.95
    assert retrieval.term_coverage([], "anything") == 0.0


def test_query_terms_drop_stopwords_and_short_words_for_trigrams():
    assert retrieval.query_terms("What is the Present Perfect, and when is it used?") == [
        "present",
        "perfect",
        "used",
    ]
    assert retrieval.fts5_match('He said "go" in 2019 ok') == '"2019"'
    assert retrieval.tsquery("the café's menu") == "café | menu"


def test_recall_and_reciprocal_rank():
    assert retrieval.recall_at([4, 5, 6], {6}, 3) == 1.0
    assert retrieval.recall_at([4, 5, 6], {6}, 2) == 0.0
    assert retrieval.reciprocal_rank([4, 5, 6], {5}) == 0.5


def test_bm25_ranks_rare_matching_terms_first_and_ignores_absent_ones():
    documents = [["since", "for", "time"], ["the", "a", "article"], ["for", "the", "the"]]

    scores = retrieval.bm25(["since", "for", "unknown"], documents)

    assert scores[0] > scores[2] > scores[1] == 0.0
    assert retrieval.bm25(["x"], []) == []
