"""Distillation losses in torch: classic output distillation and Contextual Knowledge Distillation.

Output distillation follows Hinton et al. 2015 ("Distilling the Knowledge in a Neural Network"):
soft cross-entropy between temperature-softened teacher and student distributions, times T^2.
The relation losses follow Park et al. 2021 ("Towards Contextual Knowledge Distillation",
NAACL), with the definitions of ortlab's src/distill (so the TypeScript losses and these give the
same numbers on the same hidden states):

- word relation (WR), per matched layer pair: pair-wise, for each real token i the softmax over
  real j != i of cos(r_i, r_j), KL(teacher || student), summed over i and divided by the number
  of ordered pairs; angle-wise, for anchor i and tokens j != k (both != i) of a window of 21 real
  tokens around i, cos of the angle at r_i, mean squared teacher-student difference over triplets.
- layer transforming relation (LTR), per real token across the L matched layers: the same two
  relations with layers in place of tokens and no window.

Padding (attention mask 0) never takes part. Every mean pools the whole batch: sums over all
valid pairs or triplets divided by their count. Sequences are right-padded, so the i-th real
token of a row is at position i.
"""

import torch

NORM_EPS = 1e-12
MASKED_LOGIT = -10_000.0


def soft_cross_entropy(
    teacher: torch.Tensor, student: torch.Tensor, temperature: float
) -> torch.Tensor:
    """T^2 x mean over rows of -sum_c softmax(t / T)_c log softmax(s / T)_c."""
    target = (teacher / temperature).softmax(-1)
    loss = -(target * (student / temperature).log_softmax(-1)).sum(-1).mean()
    return loss * temperature**2


def unit_rows(x: torch.Tensor) -> torch.Tensor:
    """Rows divided by max(|row|, 1e-12); zero rows stay zero, with zero gradient."""
    norm = x.pow(2).sum(-1, keepdim=True).clamp_min(NORM_EPS**2).sqrt()
    return x / norm


def pair_kl(teacher: torch.Tensor, student: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Pair-wise cosine relation of rows: [groups, n, hidden] each, `valid` [groups, n] bool.

    Per valid row i, p_i = softmax over valid j != i of cos(x_i, x_j) for the teacher, q_i for
    the student; returns sum_i KL(p_i || q_i) over the number of valid ordered pairs (0 if none).
    """
    n = valid.shape[1]
    pairs = (
        valid[:, :, None] & valid[:, None, :] & ~torch.eye(n, dtype=torch.bool, device=valid.device)
    )
    cos_t = unit_rows(teacher) @ unit_rows(teacher).transpose(-1, -2)
    cos_s = unit_rows(student) @ unit_rows(student).transpose(-1, -2)
    log_p = cos_t.masked_fill(~pairs, MASKED_LOGIT).log_softmax(-1)
    log_q = cos_s.masked_fill(~pairs, MASKED_LOGIT).log_softmax(-1)
    kl = (log_p.exp() * (log_p - log_q)).masked_fill(~pairs, 0.0).sum()
    return kl / pairs.sum().clamp_min(1)


def window_starts(lengths: torch.Tensor, tokens: int, window: int) -> torch.Tensor:
    """[groups, tokens] first window position of each anchor i of a group of n valid rows:
    max(0, min(i - window // 2, n - window))."""
    anchors = torch.arange(tokens, device=lengths.device)[None, :]
    return torch.minimum(anchors - window // 2, lengths[:, None] - window).clamp_min(0)


def angle_mse(
    teacher: torch.Tensor, student: torch.Tensor, valid: torch.Tensor, window: int
) -> torch.Tensor:
    """Angle relation of rows: [groups, n, hidden] each, `valid` [groups, n] bool, a valid prefix.

    For each valid anchor i and valid j != k, both != i, within the window of `window` rows
    around i (the whole group when it has at most `window` valid rows), the cosine of the angle
    at x_i between x_j and x_k; returns the mean squared teacher-student difference (0 if none).
    The cosines come from the Gram matrix G = x x^T, as (G_jk - G_ij - G_ik + G_ii) /
    (|x_j - x_i| |x_k - x_i|), which avoids a [groups, n, window, hidden] tensor of differences.
    """
    groups, n, _ = teacher.shape
    width = min(window, n)
    lengths = valid.sum(1)
    index = window_starts(lengths, n, window)[:, :, None] + torch.arange(width)[None, None, :]
    anchor = torch.arange(n)[None, :, None]
    member = (index < lengths[:, None, None]) & (index != anchor) & valid[:, :, None]
    triplets = member[:, :, :, None] & member[:, :, None, :] & ~torch.eye(width, dtype=torch.bool)
    error = (window_cosines(teacher, index, member) - window_cosines(student, index, member)).pow(2)
    return error.masked_fill(~triplets, 0.0).sum() / triplets.sum().clamp_min(1)


def window_cosines(x: torch.Tensor, index: torch.Tensor, member: torch.Tensor) -> torch.Tensor:
    """[groups, n, width, width]: cosines of the angle at row i between rows index[i, a] and
    index[i, c].

    Entries outside `member` are finite but meaningless; their distances are replaced by 1 so
    that no infinity reaches the backward pass.
    """
    groups, n, width = index.shape
    gram = x @ x.transpose(-1, -2)
    diagonal = gram.diagonal(dim1=1, dim2=2)
    g_ij = gram.gather(2, index)
    g_jj = diagonal.gather(1, index.reshape(groups, -1)).reshape(groups, n, width)
    rows = gram.gather(1, index.reshape(groups, -1, 1).expand(-1, -1, n)).reshape(
        groups, n, width, n
    )
    g_jk = rows.gather(3, index[:, :, None, :].expand(-1, -1, width, -1))
    distance = (g_jj - 2 * g_ij + diagonal[:, :, None]).clamp_min(NORM_EPS**2).sqrt()
    distance = torch.where(member, distance, torch.ones_like(distance))
    numerator = g_jk - g_ij[:, :, :, None] - g_ij[:, :, None, :] + diagonal[:, :, None, None]
    return numerator / (distance[:, :, :, None] * distance[:, :, None, :])


def layer_stack(layers: list[torch.Tensor], mask: torch.Tensor) -> torch.Tensor:
    """The real tokens' states in the given layers, stacked as [tokens, layers, hidden]."""
    keep = mask.reshape(-1).bool()
    return torch.stack([h.reshape(-1, h.shape[-1])[keep] for h in layers], dim=1)


def ckd_terms(
    teacher: list[torch.Tensor], student: list[torch.Tensor], mask: torch.Tensor, window: int
) -> dict:
    """CKD's four relation terms over matched hidden states (same-length lists, matched by index).

    Word relations are averaged over the matched pairs; layer relations take all matched layers.
    """
    valid = mask.bool()
    wr_pair = torch.stack([pair_kl(t, s, valid) for t, s in zip(teacher, student)]).mean()
    wr_angle = torch.stack(
        [angle_mse(t, s, valid, window) for t, s in zip(teacher, student)]
    ).mean()
    stacked_t, stacked_s = layer_stack(teacher, mask), layer_stack(student, mask)
    every = torch.ones(stacked_t.shape[:2], dtype=torch.bool)
    return {
        "wrPair": wr_pair,
        "wrAngle": wr_angle,
        "ltrPair": pair_kl(stacked_t, stacked_s, every),
        "ltrAngle": angle_mse(stacked_t, stacked_s, every, stacked_t.shape[1]),
    }
