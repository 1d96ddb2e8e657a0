"""The MHSAN-style dual encoder trained by tools/export/train_retrieval.py.

Both encoders end in the same r-head self-attention pooling (Lin et al. 2017, as MHSAN uses
it): for local features H [positions, d], A = softmax over positions of W2 ReLU(W1 H^T)
([r, positions], W1 [a, d], W2 [r, a], no biases), the heads' weighted sums A H ([r, d]) are
concatenated, a linear layer maps them to the embedding and the embedding is L2-normalized.

- Image: a small CNN over 64x64 RGB gives an 8x8 grid of d features (positions row-major over
  the grid: position = 8 * row + column).
- Text: token embeddings and a bidirectional GRU give d features per token. The backward GRU
  runs over each caption's own tokens reversed (a gather that leaves the padding in place), and
  padded positions get -1e9 before the softmax (so exactly zero attention): a caption's
  embedding does not depend on how much padding follows it or on the other rows of the batch,
  as long as padding is on the right (as the tokenizer pads).

The diversity penalty of one item is ||A A^T - I||_F^2 over its r heads.
"""

import torch
from torch import nn
from torch.nn import functional as F

NEG = -1e9


class HeadAttention(nn.Module):
    """r-head self-attention pooling: [batch, positions, d] -> ([batch, r * d], [batch, r, P])."""

    def __init__(self, dim: int, hidden: int, heads: int):
        super().__init__()
        self.w1 = nn.Linear(dim, hidden, bias=False)
        self.w2 = nn.Linear(hidden, heads, bias=False)

    def forward(self, h: torch.Tensor, mask: torch.Tensor | None = None):
        scores = self.w2(torch.relu(self.w1(h))).transpose(1, 2)
        if mask is not None:
            scores = scores.masked_fill(mask[:, None, :] == 0, NEG)
        attention = torch.softmax(scores, dim=-1)
        pooled = torch.bmm(attention, h)
        return pooled.flatten(1), attention


def conv_block(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class ImageEncoder(nn.Module):
    """[batch, 3, 64, 64] normalized RGB -> (embedding [batch, D], attention [batch, r, 64])."""

    def __init__(self, widths: tuple, dim: int, hidden: int, heads: int, embed: int):
        super().__init__()
        w1, w2, w3 = widths
        self.features = nn.Sequential(
            conv_block(3, w1, stride=2),  # 32x32
            conv_block(w1, w1),
            conv_block(w1, w2, stride=2),  # 16x16
            conv_block(w2, w2),
            conv_block(w2, w3, stride=2),  # 8x8
            conv_block(w3, w3),
            nn.Conv2d(w3, dim, 1),
        )
        self.attention = HeadAttention(dim, hidden, heads)
        self.fc = nn.Linear(heads * dim, embed)

    def forward(self, image: torch.Tensor):
        grid = self.features(image)  # [batch, dim, 8, 8]
        h = grid.flatten(2).transpose(1, 2)  # [batch, 64, dim], row-major positions
        pooled, attention = self.attention(h)
        return F.normalize(self.fc(pooled), dim=-1), attention


def reverse_within(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Each row's first `length` positions reversed, the rest (padding) left in place."""
    positions = torch.arange(x.shape[1], device=x.device)[None, :]
    last = lengths[:, None] - 1
    index = torch.where(positions <= last, last - positions, positions)
    return torch.gather(x, 1, index[:, :, None].expand(-1, -1, x.shape[2]))


class TextEncoder(nn.Module):
    """(input_ids, attention_mask) [batch, tokens] -> (embedding [batch, D], attention [batch,
    r, tokens])."""

    def __init__(self, vocab: int, width: int, dim: int, hidden: int, heads: int, embed: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab, width, padding_idx=0)
        self.forward_gru = nn.GRU(width, dim // 2, batch_first=True)
        self.backward_gru = nn.GRU(width, dim // 2, batch_first=True)
        self.attention = HeadAttention(dim, hidden, heads)
        self.fc = nn.Linear(heads * dim, embed)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        x = self.embedding(input_ids)
        lengths = attention_mask.sum(dim=1)
        ahead, _ = self.forward_gru(x)
        back, _ = self.backward_gru(reverse_within(x, lengths))
        h = torch.cat([ahead, reverse_within(back, lengths)], dim=-1)
        pooled, attention = self.attention(h, attention_mask)
        return F.normalize(self.fc(pooled), dim=-1), attention


def diversity_penalty(attention: torch.Tensor) -> torch.Tensor:
    """||A A^T - I||_F^2 per item: [batch, r, P] -> [batch]."""
    gram = torch.bmm(attention, attention.transpose(1, 2))
    eye = torch.eye(attention.shape[1], device=attention.device)
    return ((gram - eye) ** 2).sum(dim=(1, 2))


def hardest_negative_loss(images: torch.Tensor, texts: torch.Tensor, margin: float):
    """VSE++ hinge with the hardest negative, both directions, mean over the batch.

    Row i of `images` and of `texts` are a positive pair; every other row is a negative.
    """
    scores = images @ texts.T
    positive = scores.diag()
    eye = torch.eye(len(scores), dtype=torch.bool, device=scores.device)
    cost_text = (margin + scores - positive[:, None]).clamp(min=0).masked_fill(eye, 0)
    cost_image = (margin + scores - positive[None, :]).clamp(min=0).masked_fill(eye, 0)
    return (cost_text.max(dim=1).values + cost_image.max(dim=0).values).mean()


def all_negatives_loss(images: torch.Tensor, texts: torch.Tensor, margin: float):
    """The same hinge summed over all negatives (VSE0), mean over the batch: the warm-up."""
    scores = images @ texts.T
    positive = scores.diag()
    eye = torch.eye(len(scores), dtype=torch.bool, device=scores.device)
    cost_text = (margin + scores - positive[:, None]).clamp(min=0).masked_fill(eye, 0)
    cost_image = (margin + scores - positive[None, :]).clamp(min=0).masked_fill(eye, 0)
    return (cost_text.sum(dim=1) + cost_image.sum(dim=0)).mean()
