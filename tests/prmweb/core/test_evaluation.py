"""Response scores, where the minimum sits, Best-of-N, pass@N and majority votes, against hand-computed values."""

import itertools
import random

import pytest

from prmweb.core.evaluation import (
    Judgement,
    best_of_n,
    curve_sizes,
    judgement,
    majority_answer_correct,
    minimum_at_last_step,
    pass_at_n,
    rank_key,
    response_score,
)


def test_response_score_aggregates_the_step_scores():
    scores = [0.9, 0.5, 0.8]
    assert response_score(scores, 1) == 0.5  # min is the default
    assert response_score(scores, 1, "min") == 0.5
    assert response_score(scores, 1, "product") == pytest.approx(0.36)
    assert response_score(scores, 1, "last") == 0.8


def test_unscored_steps_are_skipped_and_last_means_the_last_scored_step():
    scores = [0.4, None, 0.9, None]
    assert response_score(scores, None, "min") == 0.4
    assert response_score(scores, None, "product") == pytest.approx(0.36)
    assert response_score(scores, None, "last") == 0.9


def test_without_scores_the_label_decides_and_an_error_anywhere_is_lowest():
    for aggregate in ("min", "product", "last"):
        assert response_score([], -1, aggregate) == 1.0
        assert response_score([], 0, aggregate) == 0.0
        assert response_score([None, None], 5, aggregate) == 0.0
        assert response_score([], None, aggregate) is None


def test_an_unknown_aggregate_names_the_argument():
    with pytest.raises(ValueError, match="aggregate: 'mean' is not one of min, product, last"):
        response_score([0.5], None, "mean")  # type: ignore[arg-type]


def test_minimum_position_takes_the_first_lowest_step_and_needs_two_scores():
    assert minimum_at_last_step([0.9, 0.8, 0.1], 3) is True
    assert minimum_at_last_step([0.1, 0.8, 0.9], 3) is False
    assert minimum_at_last_step([0.6, 0.6, 0.6], 3) is False  # tie: the first step holding it
    assert minimum_at_last_step([0.7, None, 0.2, None], 4) is False  # the lowest is step 3, the last is step 4
    assert minimum_at_last_step([None, 0.2], 2) is None  # one scored step: undefined
    assert minimum_at_last_step([], 3) is None


def test_judgement_carries_score_label_and_minimum_position():
    assert judgement([0.9, 0.2], 1, 2, "product") == Judgement(score=pytest.approx(0.18), label=1, min_at_last=True)
    assert judgement([], -1, 4) == Judgement(score=1.0, label=-1, min_at_last=None)


def test_ranking_puts_higher_scores_first_then_lower_ids_and_unscored_last():
    judged = {3: Judgement(0.5), 1: Judgement(0.5), 2: Judgement(0.9), 0: Judgement(None), 4: Judgement(0.0)}
    order = sorted(judged, key=lambda solution_id: rank_key(solution_id, judged[solution_id]))
    assert order == [2, 1, 3, 4, 0]


def _brute_force_best_of_n(correct_by_rank, n):
    subsets = list(itertools.combinations(range(len(correct_by_rank)), n))
    return sum(correct_by_rank[min(subset)] for subset in subsets) / len(subsets)


def test_best_of_n_by_hand_and_against_every_subset():
    # ranks: correct, correct, wrong, wrong. N=2: 6 pairs; best is rank 0 in 3, rank 1 in 2 -> 5/6
    assert best_of_n([True, True, False, False], 1) == 0.5
    assert best_of_n([True, True, False, False], 2) == pytest.approx(5 / 6)
    assert best_of_n([True, True, False, False], 4) == 1.0
    assert best_of_n([False, True, False], 2) == pytest.approx(1 / 3)
    rng = random.Random(17)
    for _ in range(200):
        group = [rng.random() < 0.4 for _ in range(rng.randint(1, 9))]
        n = rng.randint(1, len(group))
        assert best_of_n(group, n) == pytest.approx(_brute_force_best_of_n(group, n))


def test_pass_at_n_by_hand_and_against_every_subset():
    assert pass_at_n(1, 3, 1) == pytest.approx(1 / 3)
    assert pass_at_n(1, 3, 2) == pytest.approx(2 / 3)
    assert pass_at_n(0, 4, 4) == 0.0
    for size in range(1, 8):
        for correct in range(size + 1):
            for n in range(1, size + 1):
                subsets = list(itertools.combinations(range(size), n))
                expected = sum(any(i < correct for i in subset) for subset in subsets) / len(subsets)
                assert pass_at_n(correct, size, n) == pytest.approx(expected)


def test_n_outside_the_group_names_n():
    with pytest.raises(ValueError, match="n: 3 is not between 1 and the group size 2"):
        best_of_n([True, False], 3)
    with pytest.raises(ValueError, match="n: 0 is not between 1 and the group size 2"):
        pass_at_n(1, 2, 0)


def test_curve_sizes_are_powers_of_two_then_the_whole_group():
    assert curve_sizes(1) == [1]
    assert curve_sizes(2) == [1, 2]
    assert curve_sizes(6) == [1, 2, 4, 6]
    assert curve_sizes(8) == [1, 2, 4, 8]
    assert curve_sizes(0) == []


def test_majority_vote_trims_answers_skips_empty_ones_and_breaks_ties_by_the_earliest_sample():
    assert majority_answer_correct([(1, "12", True), (2, " 12", True), (3, "10", False)]) is True
    assert majority_answer_correct([(4, "7", False), (5, "7 ", False), (6, "8", True)]) is False
    # tie 2-2: the answer of the lowest id (3) wins, whatever the input order
    assert majority_answer_correct([(9, "10", False), (3, "12", True), (7, "12", True), (5, "10", False)]) is True
    assert majority_answer_correct([(3, "10", False), (9, "12", True), (7, "12", True), (5, "10", False)]) is False
    assert majority_answer_correct([(1, "", True), (2, "  ", False), (3, "4", False)]) is False
    assert majority_answer_correct([(1, "", True), (2, "", True)]) is None
