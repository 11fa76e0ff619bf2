"""Every figure of the evaluation table on the hand-written fixture, worked out by hand (see its SOURCE.md).

Groups (ranked under `prm` with `min`): p1 (gsm8k) a .7 ok, b .3 ok, c .2 wrong, d .1 wrong (m: correctness
unknown, left out); p2 (gsm8k) e .6 wrong, g .58 ok, f .5 wrong; p3 (math) h .4 ok, i unscored; p4 (math)
j .3 wrong, k failed. p5 has one sample: left out.
"""

import pytest

from prmweb.core.evaluation_report import Group, evaluate_method
from tests.evaluation_fixture import pure_groups, pure_judgements


def _evaluate(method, aggregate="min"):
    groups, ids = pure_groups()
    return evaluate_method(groups, pure_judgements(method, ids, aggregate))


def test_groups_leave_out_unknown_correctness_and_lone_samples():
    groups, ids = pure_groups()
    assert [(g.subset, len(g.candidates)) for g in groups] == [("gsm8k", 4), ("gsm8k", 3), ("math", 2), ("math", 2)]
    assert ids["m"] not in {c.solution_id for g in groups for c in g.candidates}
    figures = _evaluate("prm")
    assert (figures.pooled.groups, figures.pooled.solutions) == (4, 11)
    assert (figures.subsets["gsm8k"].smallest_group, figures.subsets["gsm8k"].largest_group) == (3, 4)


def test_prm_with_min_by_hand():
    figures = _evaluate("prm", "min")
    gsm8k, math, pooled = figures.subsets["gsm8k"], figures.subsets["math"], figures.pooled
    # picks: p1 a (ok), p2 e (wrong), p3 h (ok), p4 j (wrong)
    assert (gsm8k.best_of_n, math.best_of_n, pooled.best_of_n) == (0.5, 0.5, 0.5)
    # maj: p1 tie 12/10 -> a's 12 (ok); p2 7 (wrong); p3 1/2 (i abstains, ok); p4 tie 3/4 -> j's 3 (wrong)
    assert (gsm8k.majority, math.majority, pooled.majority) == (0.5, 0.5, 0.5)
    assert (gsm8k.majority_groups, pooled.majority_groups) == (2, 4)
    assert (gsm8k.pass_at_n, math.pass_at_n, pooled.pass_at_n) == (1.0, 0.5, 0.75)
    # every pick has a reference label; none is correct-but-flawed
    assert (pooled.picks_labelled, pooled.flawed_picks, pooled.flawed_pick_rate) == (4, 0, 0.0)
    # minimum at the last step: a and d of the 7 gsm8k solutions; e's tie is at its first step; h, j not
    assert (gsm8k.min_at_last, gsm8k.min_scored, gsm8k.min_at_last_share) == (2, 7, pytest.approx(2 / 7))
    assert (math.min_at_last, math.min_scored, math.min_at_last_share) == (0, 2, 0.0)
    assert pooled.min_at_last_share == pytest.approx(2 / 9)
    # scored: all but i (no suggestion) and k (failed)
    assert (pooled.scored, pooled.solutions, pooled.coverage) == (9, 11, pytest.approx(9 / 11))


def test_prm_processbench_f1_on_the_same_solutions():
    figures = _evaluate("prm")
    gsm8k, math = figures.subsets["gsm8k"].processbench, figures.subsets["math"].processbench
    # gsm8k erroneous b c d e f: hits b c d f (e predicted -1); correct a g: both hit
    assert (gsm8k.acc_error, gsm8k.acc_correct, gsm8k.f1) == (0.8, 1.0, pytest.approx(8 / 9))
    # math erroneous j: hit; correct h: predicted 0, miss (i's consensus_auto label is no reference)
    assert (math.acc_error, math.acc_correct, math.f1, math.erroneous, math.correct) == (1.0, 0.0, 0.0, 1, 1)
    assert figures.mean_f1 == pytest.approx(4 / 9)
    pooled = figures.pooled.processbench
    assert (pooled.acc_error, pooled.acc_correct, pooled.f1) == (
        pytest.approx(5 / 6),
        pytest.approx(2 / 3),
        pytest.approx(20 / 27),
    )
    assert figures.pooled.labelled == 9


def test_each_aggregation_picks_its_own_sample():
    product, last = _evaluate("prm", "product"), _evaluate("prm", "last")
    # product: p2 picks g (.58 * .95 * .95 = .5235 > f's .5 > e's .216): right
    assert (product.subsets["gsm8k"].best_of_n, product.pooled.best_of_n) == (1.0, 0.75)
    assert product.pooled.flawed_picks == 0
    # last: p1 picks b (.95), right answer but step 2 wrong: a flawed pick; p2 picks f (1.0): wrong
    assert (last.subsets["gsm8k"].best_of_n, last.pooled.best_of_n) == (0.5, 0.5)
    assert (last.subsets["gsm8k"].flawed_picks, last.subsets["gsm8k"].flawed_pick_rate) == (1, 0.5)
    assert last.pooled.flawed_pick_rate == 0.25
    # where the minimum sits does not depend on the aggregation
    assert last.pooled.min_at_last_share == product.pooled.min_at_last_share == pytest.approx(2 / 9)


def test_a_label_only_method_ties_and_the_earlier_sample_wins():
    judge = _evaluate("judge")
    # p1: a and b both all-correct (1.0): a; p2: g; p3: h and i tie: h; p4: j (0.0) over k (skipped)
    assert (judge.subsets["gsm8k"].best_of_n, judge.subsets["math"].best_of_n, judge.pooled.best_of_n) == (
        1.0,
        0.5,
        0.75,
    )
    assert (judge.pooled.min_scored, judge.pooled.min_at_last_share) == (0, None)  # no step scores
    assert (judge.pooled.scored, judge.pooled.coverage) == (10, pytest.approx(10 / 11))
    gsm8k = judge.subsets["gsm8k"].processbench
    assert (gsm8k.acc_error, gsm8k.acc_correct, gsm8k.f1) == (0.4, 1.0, pytest.approx(4 / 7))
    assert judge.mean_f1 == pytest.approx(11 / 14)
    assert judge.pooled.processbench.f1 == pytest.approx(2 / 3)


def test_bon_curve_by_hand():
    figures = _evaluate("prm", "min")
    # p1 ranked ok ok wrong wrong; p2 wrong ok wrong. N=2: p1 5/6, p2 1/3; N=4: p2 counts whole (3): wrong
    gsm8k = [(p.n, p.groups, p.best_of_n, p.pass_at_n) for p in figures.subsets["gsm8k"].curve]
    assert gsm8k == [
        (1, 2, pytest.approx(5 / 12), pytest.approx(5 / 12)),
        (2, 2, pytest.approx(7 / 12), pytest.approx(3 / 4)),
        (4, 2, 0.5, 1.0),
    ]
    math = [(p.n, p.best_of_n, p.pass_at_n) for p in figures.subsets["math"].curve]
    assert math == [(1, 0.25, 0.25), (2, 0.5, 0.5)]
    pooled = [(p.n, p.best_of_n) for p in figures.pooled.curve]
    assert pooled == [(1, pytest.approx(1 / 3)), (2, pytest.approx(13 / 24)), (4, 0.5)]
    assert figures.pooled.curve[-1].best_of_n == figures.pooled.best_of_n


def test_no_groups_gives_undefined_figures():
    figures = evaluate_method([], {})
    assert figures.subsets == {} and figures.mean_f1 is None
    assert (figures.pooled.groups, figures.pooled.best_of_n, figures.pooled.coverage, figures.pooled.curve) == (
        0,
        None,
        None,
        (),
    )


def test_a_subset_without_reference_labels_stays_out_of_the_mean_f1():
    groups, ids = pure_groups()
    unlabelled = [
        Group(g.subset, g.problem_id, tuple(c.__class__(c.solution_id, c.correct, c.answer) for c in g.candidates))
        if g.subset == "math"
        else g
        for g in groups
    ]
    figures = evaluate_method(unlabelled, pure_judgements("prm", ids))
    assert figures.subsets["math"].processbench.f1 is None
    assert figures.mean_f1 == pytest.approx(8 / 9)  # gsm8k's alone
