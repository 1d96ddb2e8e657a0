"""A small BERT-like text classifier that returns every layer's hidden states.

Token and position embeddings, summed and layer-normalized, are hidden state 0 (the embedding
output, as Hugging Face's `output_hidden_states` counts it); each of the L post-LN transformer
encoder layers (multi-head self-attention, then a GELU feed-forward block, each followed by a
residual sum and LayerNorm, as in BERT) adds one more. The [CLS] position of the last state goes
through dropout and one linear layer to the class logits; there is no tanh pooler.
"""

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

# Added to attention scores at padded keys; exp() of it is exactly 0 in float32.
MASKED_SCORE = -10_000.0


@dataclass(frozen=True)
class EncoderShape:
    """The sizes that define an encoder; recorded in its model card."""

    layers: int
    hidden: int
    heads: int
    ffn: int
    vocab: int
    max_length: int
    classes: int = 2
    dropout: float = 0.1


class EncoderLayer(nn.Module):
    """Post-LN transformer encoder layer: x = LN(x + MHA(x)); x = LN(x + FFN(x))."""

    def __init__(self, shape: EncoderShape):
        super().__init__()
        self.heads = shape.heads
        self.query = nn.Linear(shape.hidden, shape.hidden)
        self.key = nn.Linear(shape.hidden, shape.hidden)
        self.value = nn.Linear(shape.hidden, shape.hidden)
        self.attention_out = nn.Linear(shape.hidden, shape.hidden)
        self.attention_norm = nn.LayerNorm(shape.hidden, eps=1e-12)
        self.ffn_in = nn.Linear(shape.hidden, shape.ffn)
        self.ffn_out = nn.Linear(shape.ffn, shape.hidden)
        self.ffn_norm = nn.LayerNorm(shape.hidden, eps=1e-12)
        self.dropout = nn.Dropout(shape.dropout)

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        """[batch, tokens, hidden] -> [batch, heads, tokens, hidden / heads]."""
        batch, tokens, hidden = x.shape
        return x.reshape(batch, tokens, self.heads, hidden // self.heads).transpose(1, 2)

    def forward(self, x: torch.Tensor, score_bias: torch.Tensor) -> torch.Tensor:
        """`score_bias` [batch, 1, 1, tokens] is 0 at real keys and MASKED_SCORE at padding."""
        q, k, v = (
            self.split_heads(self.query(x)),
            self.split_heads(self.key(x)),
            self.split_heads(self.value(x)),
        )
        scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]) + score_bias
        context = self.dropout(scores.softmax(-1)) @ v
        context = context.transpose(1, 2).reshape(x.shape)
        x = self.attention_norm(x + self.dropout(self.attention_out(context)))
        return self.ffn_norm(x + self.dropout(self.ffn_out(F.gelu(self.ffn_in(x)))))


class Encoder(nn.Module):
    """Embeddings, L encoder layers and a linear head on [CLS]."""

    def __init__(self, shape: EncoderShape):
        super().__init__()
        self.shape = shape
        self.token_embedding = nn.Embedding(shape.vocab, shape.hidden, padding_idx=0)
        self.position_embedding = nn.Embedding(shape.max_length, shape.hidden)
        self.embedding_norm = nn.LayerNorm(shape.hidden, eps=1e-12)
        self.dropout = nn.Dropout(shape.dropout)
        self.layers = nn.ModuleList(EncoderLayer(shape) for _ in range(shape.layers))
        self.classifier = nn.Linear(shape.hidden, shape.classes)
        self.apply(self.init_weights)

    @staticmethod
    def init_weights(module: nn.Module) -> None:
        """BERT's initialization: N(0, 0.02) weights, zero biases, zero padding embedding."""
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear):
            nn.init.zeros_(module.bias)
        if isinstance(module, nn.Embedding) and module.padding_idx is not None:
            with torch.no_grad():
                module.weight[module.padding_idx].zero_()

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Logits [batch, classes] and L + 1 hidden states [batch, tokens, hidden]."""
        positions = self.position_embedding.weight[: input_ids.shape[1]]
        x = self.embedding_norm(self.token_embedding(input_ids) + positions)
        hidden = [x]
        x = self.dropout(x)
        score_bias = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * MASKED_SCORE
        for layer in self.layers:
            x = layer(x, score_bias)
            hidden.append(x)
        return self.classifier(self.dropout(x[:, 0])), hidden


class ExportView(nn.Module):
    """The encoder with flat outputs (logits, hidden_0, ..., hidden_L) for torch.onnx.export."""

    def __init__(self, encoder: Encoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        logits, hidden = self.encoder(input_ids, attention_mask)
        return (logits, *hidden)
