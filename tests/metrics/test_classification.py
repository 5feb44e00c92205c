import numpy as np
import pytest

from avbench import metrics as M
from avbench.metrics import confusion, f1_score, hit_at_k, precision_score, recall_score, topk

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
    for ours, theirs in ((f1_score, sk.f1_score), (precision_score, sk.precision_score),
                         (recall_score, sk.recall_score)):
        a = ours(p, y, 6, average=average, zero_division=zero_division)  # predictions first, as hit_at_k
        b = theirs(y, p, labels=labels, average=average, zero_division=zero_division)
        np.testing.assert_allclose(a, b, atol=1e-12)


def test_confusion_matrix_matches_sklearn():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, 50)
    p = rng.integers(0, 4, 50)
    np.testing.assert_array_equal(confusion(p, y, 4), sk.confusion_matrix(y, p, labels=range(4)))
    np.testing.assert_array_equal(confusion(p, y), sk.confusion_matrix(y, p, labels=range(4)))  # n inferred


def test_scores_or_indices_and_n_classes_optional():
    """A score matrix is its top-1 (ties to the lower class) with n_classes its width;
    precision and recall are not symmetric, so a swapped order would show."""
    scores = np.array([[0.2, 0.8, 0.0], [0.5, 0.5, 0.0], [0.1, 0.1, 0.8], [0.9, 0.0, 0.1]])
    labels = np.array([1, 1, 2, 2])  # top-1: 1, 0 (tie), 2, 0
    # by hand: class 0 predicted twice, never true; class 1: tp 1 of 2 true, 1 predicted;
    # class 2: tp 1 of 2 true, 1 predicted
    np.testing.assert_allclose(precision_score(scores, labels, average=None), [0.0, 1.0, 1.0])
    np.testing.assert_allclose(recall_score(scores, labels, average=None), [0.0, 0.5, 0.5])
    assert f1_score(scores, labels, average="micro") == pytest.approx(0.5)
    assert f1_score(np.array([1, 0, 2, 0]), labels, 3) == f1_score(scores, labels)
    assert confusion(scores, labels).shape == (3, 3)
    with pytest.raises(ValueError, match="3 classes, n_classes is 4"):
        f1_score(scores, labels, 4)
    with pytest.raises(ValueError, match="class indices"):
        f1_score(np.array([0.5, 1.0]), np.array([0, 1]))


def test_deprecated_labels_first_aliases_warn_and_agree():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 4, 40)
    p = np.where(rng.random(40) < 0.5, y, rng.integers(0, 4, 40))
    pairs = ((M.f1, f1_score), (M.precision, precision_score), (M.recall, recall_score))
    for old, new in pairs:
        with pytest.warns(DeprecationWarning, match="predictions first"):
            a = old(y, p, 4, average=None)
        np.testing.assert_array_equal(a, new(p, y, 4, average=None))
    with pytest.warns(DeprecationWarning, match="use confusion"):
        np.testing.assert_array_equal(M.confusion_matrix(y, p, 4), confusion(p, y, 4))
    with pytest.warns(DeprecationWarning):
        assert M.precision_recall_f1(y, p, 4)[1] == M.precision_recall_f1_score(p, y, 4)[1]


def test_errors():
    with pytest.raises(ValueError, match="NaN"):
        hit_at_k(np.array([[np.nan, 1.0]]), [0])
    with pytest.raises(ValueError, match="out of range"):
        hit_at_k(np.array([[0.0, 1.0]]), [2])
