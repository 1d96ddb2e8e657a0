"""The two scores the suite is built and measured with: max-softmax confidence and AUROC."""

import numpy as np
from scipy.stats import rankdata
from sklearn.metrics import roc_auc_score


def log_max_softmax(logits: np.ndarray) -> np.ndarray:
    """log of the maximum softmax probability per row, in float64.

    Equals -log(sum_j exp(l_j - max_i l_i)); unlike a float32 softmax it does not round
    confident rows to exactly 1.0, so it still ranks them (Hendrycks and Gimpel 2017 score
    out-of-distribution inputs by this maximum probability; a log keeps the same order).
    """
    shifted = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
    return -np.log(np.exp(shifted).sum(axis=1))


def auroc(in_scores: np.ndarray, out_scores: np.ndarray) -> float:
    """Area under the ROC curve separating in-distribution (positive) from OOD inputs.

    Follows sklearn.metrics.roc_auc_score and is checked against the Mann-Whitney U statistic
    with mid-ranks for ties: the probability that a random in-distribution input scores above a
    random OOD one, ties counting one half. 0.5 is chance, 1.0 perfect separation.
    """
    scores = np.concatenate([in_scores, out_scores])
    truth = np.concatenate([np.ones(len(in_scores)), np.zeros(len(out_scores))])
    value = float(roc_auc_score(truth, scores))

    ranks = rankdata(scores)
    n_in, n_out = len(in_scores), len(out_scores)
    u_statistic = ranks[:n_in].sum() - n_in * (n_in + 1) / 2
    if abs(u_statistic / (n_in * n_out) - value) > 1e-9:
        raise ArithmeticError(f"AUROC {value} disagrees with Mann-Whitney {u_statistic}")
    return value
