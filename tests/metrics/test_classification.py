import numpy as np
import pytest

from avbench.metrics import confusion_matrix, f1, hit_at_k, precision, recall, topk

sk = pytest.importorskip("sklearn.metrics")


def test_hit_at_k_hand_computed_with_ties():
    scores = np.array([
        [0.5, 0.5, 0.0],   # tie: class 0 ranks before class 1
        [0.1, 0.2, 0.7],
        [0.3, 0.3, 0.3],   # all tied: order 0, 1, 2
    ])
    labels = np.array([1, 2, 2])
    assert hit_at_k(scores, labels, 1) == pytest.approx(1 / 3)
    assert hit_at_k(scores, labels, 2) == pytest.approx(2 / 3)
    assert hit_at_k(scores, labels, 3) == 1.0
    np.testing.assert_array_equal(topk(scores, 2), [[0, 1], [2, 1], [0, 1]])
    multi = np.array([[0, 1, 1], [1, 0, 0], [0, 0, 1]])
    np.testing.assert_array_equal(hit_at_k(scores, multi, 1, reduction="none"), [False, False, False])
    np.testing.assert_array_equal(hit_at_k(scores, multi, 2, reduction="none"), [True, False, False])


@pytest.mark.parametrize("average", ["micro", "macro", "weighted", None])
@pytest.mark.parametrize("zero_division", [0.0, 1.0])
def test_f1_precision_recall_match_sklearn(average, zero_division):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 5, 60)
    p = np.where(rng.random(60) < 0.6, y, rng.integers(0, 5, 60))
    p[p == 4] = 3  # class 4 never predicted: precision 0/0
    labels = list(range(6))  # class 5 absent from both
    for ours, theirs in ((f1, sk.f1_score), (precision, sk.precision_score), (recall, sk.recall_score)):
        a = ours(y, p, 6, average=average, zero_division=zero_division)
        b = theirs(y, p, labels=labels, average=average, zero_division=zero_division)
        np.testing.assert_allclose(a, b, atol=1e-12)


def test_confusion_matrix_matches_sklearn():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, 50)
    p = rng.integers(0, 4, 50)
    np.testing.assert_array_equal(confusion_matrix(y, p, 4), sk.confusion_matrix(y, p, labels=range(4)))


def test_errors():
    with pytest.raises(ValueError, match="NaN"):
        hit_at_k(np.array([[np.nan, 1.0]]), [0])
    with pytest.raises(ValueError, match="out of range"):
        hit_at_k(np.array([[0.0, 1.0]]), [2])
