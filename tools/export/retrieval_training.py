"""The training loop and the PyTorch measurements of tools/export/train_retrieval.py."""

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from retrieval_data import EvalSplit, TrainSplit, pad, preprocess, protocol
PRINT_EVERY = 10

from retrieval_model import (
    ImageEncoder,
    TextEncoder,
    all_negatives_loss,
    diversity_penalty,
    hardest_negative_loss,
)


@dataclass
class TrainConfig:
    """Everything that decides the weights; recorded in the manifest."""

    seed: int = 20240713
    threads: int = 2
    epochs: int = 50
    warmup_epochs: int = 25
    batch: int = 128
    lr: float = 2e-3
    hard_lr: float = 0.1
    weight_decay: float = 1e-4
    margin: float = 0.2
    diversity_weight: float = 0.1
    widths: tuple = (24, 48, 96)
    text_width: int = 64
    dim: int = 128
    attention_hidden: int = 64
    embed: int = 128
    max_tokens: int = 32
    scale: tuple = (0.85, 1.15)
    shift: float = 0.1


HELP = {
    "seed": "seed of the initialization, batches, captions and augmentation (and the emoji set)",
    "threads": "torch CPU threads",
    "epochs": "training epochs in all",
    "warmup_epochs": "first epochs with the hinge summed over all negatives",
    "batch": "emoji per batch, one caption each",
    "lr": "AdamW learning rate of the warm-up",
    "hard_lr": "factor on --lr where the hardest-negative epochs start (cosine decay to 0)",
    "weight_decay": "AdamW weight decay",
    "margin": "hinge margin",
    "diversity_weight": "weight of the diversity penalty when r > 1 (0 for r = 1)",
    "widths": "channels of the CNN at 32x32, 16x16 and 8x8",
    "text_width": "token embedding width",
    "dim": "local feature width d of both encoders (the GRU gives d / 2 per direction)",
    "attention_hidden": "rows of W1 in the attention",
    "embed": "embedding dimension D",
    "max_tokens": "ids per caption, [CLS] and [SEP] included",
    "scale": "range of the random image scale",
    "shift": "largest random image shift, as a fraction of half the image",
}


def build_models(config: TrainConfig, heads: int, vocab_size: int):
    torch.manual_seed(config.seed)
    image = ImageEncoder(config.widths, config.dim, config.attention_hidden, heads, config.embed)
    text = TextEncoder(
        vocab_size, config.text_width, config.dim, config.attention_hidden, heads, config.embed
    )
    return image, text


def lr_factor(config: TrainConfig, epoch: float) -> float:
    """Learning rate / config.lr at a fractional epoch: a linear ramp over the first epoch, flat
    through the warm-up, then hard_lr times a cosine decay to 0 over the remaining epochs."""
    if epoch < config.warmup_epochs:
        return min(1.0, (epoch + 1e-3) / 1.0)
    progress = (epoch - config.warmup_epochs) / max(1, config.epochs - config.warmup_epochs)
    return config.hard_lr * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def augment(x: torch.Tensor, config: TrainConfig, generator: torch.Generator) -> torch.Tensor:
    """Random scale and shift per image on rgb / 255 in [0, 1], white filling the border."""
    n = len(x)
    low, high = config.scale
    scale = low + (high - low) * torch.rand(n, generator=generator)
    shift = config.shift * (2 * torch.rand(n, 2, generator=generator) - 1)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = 1 / scale
    theta[:, 1, 1] = 1 / scale
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return 1 - F.grid_sample(1 - x, grid, mode="bilinear", align_corners=False)


def train_pair(
    config: TrainConfig, heads: int, data: TrainSplit, vocab_size: int, stats, monitor=None
):
    """Train one image and one text encoder with r = `heads`; returns them and a summary.

    `monitor(epoch, image_model, text_model)`, when given, runs after every epoch (in eval mode)
    and its returned dict joins the epoch's history entry."""
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    image_model, text_model = build_models(config, heads, vocab_size)
    weight = config.diversity_weight if heads > 1 else 0.0
    params = list(image_model.parameters()) + list(text_model.parameters())
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = -(-len(data.images) // config.batch)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: lr_factor(config, step / steps_per_epoch)
    )
    generator = torch.Generator().manual_seed(config.seed)
    pixels = torch.from_numpy(data.images).permute(0, 3, 1, 2).float() / 255
    mean = torch.tensor(stats[0]).view(1, 3, 1, 1)
    std = torch.tensor(stats[1]).view(1, 3, 1, 1)
    started, history = time.time(), []
    for epoch in range(config.epochs):
        image_model.train()
        text_model.train()
        order = torch.randperm(len(pixels), generator=generator)
        totals = np.zeros(3)
        for start in range(0, len(order), config.batch):
            index = order[start : start + config.batch]
            x = (augment(pixels[index], config, generator) - mean) / std
            picks = [
                options[int(torch.randint(len(options), (1,), generator=generator))]
                for options in (data.captions[i] for i in index.tolist())
            ]
            ids, mask = (torch.from_numpy(a) for a in pad(picks))
            image_emb, image_att = image_model(x)
            text_emb, text_att = text_model(ids, mask)
            hinge = (
                all_negatives_loss if epoch < config.warmup_epochs else hardest_negative_loss
            )(image_emb, text_emb, config.margin)
            penalty = diversity_penalty(image_att).mean() + diversity_penalty(text_att).mean()
            loss = hinge + weight * penalty
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 2.0)
            optimizer.step()
            schedule.step()
            totals += [hinge.item() * len(index), penalty.item() * len(index), len(index)]
        history.append(
            {
                "epoch": epoch + 1,
                "hinge": round(totals[0] / totals[2], 4),
                "penalty": round(totals[1] / totals[2], 4),
            }
        )
        if monitor is not None:
            image_model.eval()
            text_model.eval()
            history[-1].update(monitor(epoch + 1, image_model, text_model))
        if (epoch + 1) % PRINT_EVERY == 0 or epoch == 0:
            print(f"    r={heads} epoch {epoch + 1}: {history[-1]} ({time.time() - started:.0f} s)")
    image_model.eval()
    text_model.eval()
    summary = {
        "seconds": round(time.time() - started, 1),
        "diversityWeight": weight,
        "history": history[:: max(1, config.epochs // 10)] + [history[-1]],
        "all": history,
    }
    return image_model, text_model, summary


@torch.no_grad()
def encode_images(model, images: np.ndarray, stats) -> tuple[np.ndarray, np.ndarray]:
    emb, att = model(torch.from_numpy(preprocess(images, *stats)))
    return emb.numpy(), att.numpy()


@torch.no_grad()
def encode_texts(model, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    emb, att = model(torch.from_numpy(ids), torch.from_numpy(mask))
    return emb.numpy(), att.numpy()


def penalty_of(attention: np.ndarray) -> float:
    return float(diversity_penalty(torch.from_numpy(attention)).mean())


def measure(image_model, text_model, split: EvalSplit, stats) -> dict:
    """The protocol per style, and each encoder's mean diversity penalty, in PyTorch."""
    text_emb, text_att = encode_texts(text_model, split.ids, split.mask)
    out = {}
    for style, images in split.images.items():
        image_emb, image_att = encode_images(image_model, images, stats)
        out[style] = protocol(image_emb, text_emb, split.text_to_image)
        out[style]["imagePenalty"] = round(penalty_of(image_att), 6)
        out[style]["borderMass"] = border_mass(image_att)
    out["textPenalty"] = round(penalty_of(text_att), 6)
    return out


def border_mass(attention: np.ndarray) -> list:
    """Per head, the mean attention on the outer ring of the 8x8 grid (28 of 64 positions;
    uniform attention puts 0.4375 there)."""
    ring = np.ones((8, 8), dtype=bool)
    ring[1:-1, 1:-1] = False
    mass = attention.reshape(*attention.shape[:2], 8, 8)[:, :, ring].sum(-1)
    return [round(float(v), 4) for v in mass.mean(0)]
