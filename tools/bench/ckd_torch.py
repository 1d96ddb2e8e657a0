"""The Contextual Knowledge Distillation terms in PyTorch on the CPU, the baseline of bench/distill.ts.

The same computation as ortlab's `ckdLoss` with the same definitions (see src/distill/): word
relations per matched layer pair (pair-wise cosine softmax KL, windowed angles), layer
transforming relations across the matched layers (pair KL, full angles) and soft cross-entropy
on the logits, all weights 1, written the way a PyTorch user would: batched tensors, masks, no
Python loop over tokens. The masks are prefix masks (a length per sequence), which is what the
benchmark feeds.

Two ways to get the angles, `--angle`:
- `gram` (default): from the Gram matrices G = R R^T (torch.bmm), as ortlab does;
- `explicit`: from explicit difference vectors r_j - r_i gathered over each anchor's window and
  normalized, as the CKD and RKD reference code does.

Hidden states are the benchmark's deterministic hash values (`hash_uniform`, the same function
as bench/distill.ts), so both sides see identical inputs and their losses can be compared.
Prints one JSON line: the median and every repeat's seconds, the losses, threads and versions.
"""

import argparse
import json
import time

import numpy as np
import torch

from hash_uniform import hash_uniform  # this script's folder

EPS = 1e-12


def masked_pair_kl(gt: torch.Tensor, gs: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Mean over valid pairs of the row-wise KL of softmaxed cosines; g [..., n, n]."""
    def log_probs(g):
        norm = torch.diagonal(g, dim1=-2, dim2=-1).clamp_min(0).sqrt().clamp_min(EPS)
        cos = g / (norm.unsqueeze(-1) * norm.unsqueeze(-2))
        return torch.log_softmax(cos.masked_fill(~valid, float("-inf")), dim=-1)

    log_p, log_q = log_probs(gt), log_probs(gs)
    kl = torch.where(valid, log_p.exp() * (log_p - log_q), torch.zeros_like(log_p))
    return kl.sum() / valid.sum().clamp_min(1)


def angle_cos(g, gij, gii, gjj, gjk):
    """cos of the angle at i from Gram entries; gij, gjj [..., w], gii [...], gjk [..., w, w]."""
    num = gjk - gij.unsqueeze(-1) - gij.unsqueeze(-2) + gii[..., None, None]
    norm = (gjj - 2 * gij + gii.unsqueeze(-1)).clamp_min(0).sqrt().clamp_min(EPS)
    return num / (norm.unsqueeze(-1) * norm.unsqueeze(-2))


def window_index(lengths: torch.Tensor, tokens: int, window: int):
    """idx [B, T, w] of each anchor's window (shifted inside [0, length)) and its validity."""
    i = torch.arange(tokens)
    start = (i[None, :] - window // 2).clamp_min(0)
    start = torch.minimum(start, (lengths[:, None] - window).clamp_min(0))
    idx = start.unsqueeze(-1) + torch.arange(window)
    ok = (idx < lengths[:, None, None]) & (idx != i[None, :, None])
    ok &= (i[None, :] < lengths[:, None]).unsqueeze(-1)
    return idx.clamp_max(tokens - 1), ok


def wr_angle_gram(gt, gs, lengths, window):
    b, t, _ = gt.shape
    idx, ok = window_index(lengths, t, window)
    rows = torch.arange(b)[:, None, None, None]
    triplets = ok.unsqueeze(-1) & ok.unsqueeze(-2) & ~torch.eye(window, dtype=torch.bool)

    def cosines(g):
        diag = torch.diagonal(g, dim1=-2, dim2=-1)
        gij = torch.gather(g, 2, idx)
        gjk = g[rows, idx.unsqueeze(-1), idx.unsqueeze(-2)]
        return angle_cos(g, gij, diag, torch.gather(diag, 1, idx.flatten(1)).view_as(idx), gjk)

    diff = torch.where(triplets, cosines(gt) - cosines(gs), torch.zeros(()))
    return (diff**2).sum() / triplets.sum().clamp_min(1)


def wr_angle_explicit(ht, hs, lengths, window):
    b, t, _ = ht.shape
    idx, ok = window_index(lengths, t, window)
    triplets = ok.unsqueeze(-1) & ok.unsqueeze(-2) & ~torch.eye(window, dtype=torch.bool)

    def cosines(h):
        near = torch.gather(h.unsqueeze(1).expand(b, t, t, h.shape[-1]), 2,
                            idx.unsqueeze(-1).expand(b, t, window, h.shape[-1]))
        e = torch.nn.functional.normalize(near - h.unsqueeze(2), dim=-1, eps=EPS)
        return e @ e.transpose(-1, -2)

    diff = torch.where(triplets, cosines(ht) - cosines(hs), torch.zeros(()))
    return (diff**2).sum() / triplets.sum().clamp_min(1)


def ltr_terms(tl, sl, token_ok):
    """Pair KL and full angle MSE across the L matched layers of every real token."""
    st, ss = torch.stack(tl, dim=2), torch.stack(sl, dim=2)  # [B, T, L, d]
    gt, gs = st @ st.transpose(-1, -2), ss @ ss.transpose(-1, -2)  # [B, T, L, L]
    count = len(tl)
    off = ~torch.eye(count, dtype=torch.bool)
    pair = masked_pair_kl(gt, gs, off & token_ok[..., None, None])

    def cosines(g):
        diag = torch.diagonal(g, dim1=-2, dim2=-1)  # [B, T, L]
        return angle_cos(g, g, diag, diag.unsqueeze(-2), g.unsqueeze(-3))  # [B, T, L, L, L]

    triplets = off[:, :, None] & off[:, None, :] & off[None, :, :]
    triplets = triplets & token_ok[..., None, None, None]
    diff = torch.where(triplets, cosines(gt) - cosines(gs), torch.zeros(()))
    return pair, (diff**2).sum() / triplets.sum().clamp_min(1)


def ckd(teacher, student, logits, lengths, args):
    """All CKD terms, weights 1; returns the terms as floats and the total tensor."""
    tokens = teacher[0].shape[1]
    token_ok = torch.arange(tokens)[None, :] < lengths[:, None]
    pairs_ok = token_ok[:, :, None] & token_ok[:, None, :] & ~torch.eye(tokens, dtype=torch.bool)
    step = (len(teacher) - 1) // (len(student) - 1)
    mapped = [teacher[step * l] for l in range(len(student))]
    pair_terms, angle_terms = [], []
    for ht, hs in zip(mapped, student):
        gt, gs = torch.bmm(ht, ht.transpose(1, 2)), torch.bmm(hs, hs.transpose(1, 2))
        pair_terms.append(masked_pair_kl(gt, gs, pairs_ok))
        if args.angle == "gram":
            angle_terms.append(wr_angle_gram(gt, gs, lengths, args.window))
        else:
            angle_terms.append(wr_angle_explicit(ht, hs, lengths, args.window))
    ltr_pair, ltr_angle = ltr_terms(mapped, student, token_ok)
    p = torch.softmax(logits[0], dim=-1)
    kd = -(p * torch.log_softmax(logits[1], dim=-1)).sum(-1).mean()
    terms = {
        "wrPair": torch.stack(pair_terms).mean(), "wrAngle": torch.stack(angle_terms).mean(),
        "ltrPair": ltr_pair, "ltrAngle": ltr_angle, "kd": kd,
    }
    return {k: float(v) for k, v in terms.items()}, sum(terms.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=32, help="sequences (default 32)")
    parser.add_argument("--tokens", type=int, default=128, help="tokens each (default 128)")
    parser.add_argument("--teacher", default="13x768", help="hidden states x size (default 13x768)")
    parser.add_argument("--student", default="7x384", help="hidden states x size (default 7x384)")
    parser.add_argument("--classes", type=int, default=3, help="logits per sequence (default 3)")
    parser.add_argument("--window", type=int, default=21, help="angle window (default 21)")
    parser.add_argument("--angle", choices=["gram", "explicit"], default="gram",
                        help="how the word angles are computed (default gram)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls (default 5)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    b, t = args.batch, args.tokens

    def model(spec: str, seed0: int):
        count, hidden = (int(v) for v in spec.split("x"))
        return [torch.from_numpy(hash_uniform(seed0 + l, b * t * hidden)).view(b, t, hidden)
                for l in range(count)]

    teacher, student = model(args.teacher, 1), model(args.student, 101)
    logits = (torch.from_numpy(hash_uniform(201, b * args.classes)).view(b, -1) * 4,
              torch.from_numpy(hash_uniform(202, b * args.classes)).view(b, -1) * 4)
    lengths = torch.full((b,), t, dtype=torch.long)
    with torch.no_grad():
        terms, _ = ckd(teacher, student, logits, lengths, args)  # warm-up
        seconds = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            ckd(teacher, student, logits, lengths, args)
            seconds.append(time.perf_counter() - started)
    print(json.dumps({
        "seconds": float(np.median(seconds)), "repeats": seconds, "terms": terms,
        "angle": args.angle, "threads": torch.get_num_threads(), "torch": torch.__version__,
        "batch": b, "tokens": t, "teacher": args.teacher, "student": args.student,
        "window": args.window,
    }))


if __name__ == "__main__":
    main()
