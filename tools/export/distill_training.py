"""Training loop of train_distill.py: batches of token ids, the losses, checkpoint choice.

Teacher and students share one loop: AdamW with linear warm-up and linear decay over the
maximum number of epochs, batches drawn by a seeded generator, evaluation on the validation
split after every epoch, and the weights of the best epoch kept: the lowest validation
cross-entropy (ties to the higher accuracy), a steadier choice on 100 sentences than accuracy,
which moves in steps of 1 %. Training stops after `patience` epochs without a new best. Only the
loss differs between runs.
"""

import copy
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from ckd_losses import ckd_terms, soft_cross_entropy
from distill_model import Encoder


@dataclass
class Schedule:
    """Optimizer and schedule of one training run; recorded in the model card."""

    max_epochs: int = 60
    patience: int = 15
    batch_size: int = 32
    learning_rate: float = 1e-3
    weight_decay: float = 0.01
    warmup_fraction: float = 0.1


@dataclass
class StudentLoss:
    """Weights of the student objective; a weight of 0 leaves its term out."""

    hard: float = 1.0
    kd: float = 1.0
    temperature: float = 2.0
    ckd: dict = field(default_factory=dict)
    window: int = 21
    mapping: tuple = ()


def pad(rows: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded int64 ids and attention mask, [batch, longest row]."""
    longest = max(len(row) for row in rows)
    ids = torch.zeros(len(rows), longest, dtype=torch.int64)
    mask = torch.zeros(len(rows), longest, dtype=torch.int64)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row)
        mask[i, : len(row)] = 1
    return ids, mask


@torch.no_grad()
def predict(model: Encoder, rows: list[list[int]], batch_size: int = 250) -> torch.Tensor:
    """Logits of every row, in eval mode."""
    model.eval()
    return torch.cat(
        [model(*pad(rows[i : i + batch_size]))[0] for i in range(0, len(rows), batch_size)]
    )


def evaluate(model: Encoder, rows: list[list[int]], labels: torch.Tensor) -> tuple[float, float]:
    """Accuracy and mean cross-entropy."""
    logits = predict(model, rows)
    return (logits.argmax(1) == labels).float().mean().item(), F.cross_entropy(
        logits, labels
    ).item()


def student_objective(teacher: Encoder, loss: StudentLoss):
    """A loss function (student, ids, mask, labels) -> (total, terms) for one student."""
    teacher.eval()

    def objective(student: Encoder, ids, mask, labels):
        with torch.no_grad():
            t_logits, t_hidden = teacher(ids, mask)
        s_logits, s_hidden = student(ids, mask)
        terms = {"hard": F.cross_entropy(s_logits, labels)}
        if loss.kd:
            terms["kd"] = soft_cross_entropy(t_logits, s_logits, loss.temperature)
        if loss.ckd:
            matched_t = [t_hidden[t] for t, _ in loss.mapping]
            matched_s = [s_hidden[s] for _, s in loss.mapping]
            terms.update(ckd_terms(matched_t, matched_s, mask, loss.window))
        weights = {"hard": loss.hard, "kd": loss.kd, **loss.ckd}
        return sum(weights[k] * v for k, v in terms.items()), terms

    return objective


def teacher_objective(model: Encoder, ids, mask, labels):
    """Plain cross-entropy on the labels."""
    loss = F.cross_entropy(model(ids, mask)[0], labels)
    return loss, {"hard": loss}


def fit(
    model: Encoder, objective, train: tuple, validation: tuple, schedule: Schedule, seed: int
) -> dict:
    """Train `model` in place, leave it at its best epoch; return the per-epoch history."""
    rows, labels = train
    generator = torch.Generator().manual_seed(seed)
    steps_per_epoch = (len(rows) + schedule.batch_size - 1) // schedule.batch_size
    total = steps_per_epoch * schedule.max_epochs
    warmup = max(1, int(schedule.warmup_fraction * total))
    optimizer = torch.optim.AdamW(
        model.parameters(), schedule.learning_rate, weight_decay=schedule.weight_decay
    )
    ramp = lambda step: min(
        (step + 1) / warmup, max(0.0, (total - step) / (total - warmup))
    )  # noqa: E731
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, ramp)

    best, best_state, history, started = None, None, [], time.time()
    for epoch in range(1, schedule.max_epochs + 1):
        model.train()
        order = torch.randperm(len(rows), generator=generator).tolist()
        sums: dict = {}
        for start in range(0, len(rows), schedule.batch_size):
            index = order[start : start + schedule.batch_size]
            ids, mask = pad([rows[i] for i in index])
            loss, terms = objective(model, ids, mask, labels[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            for k, v in terms.items():
                sums[k] = sums.get(k, 0.0) + v.item() / steps_per_epoch
        accuracy, cross_entropy = evaluate(model, *validation)
        history.append(
            {"epoch": epoch, "terms": sums, "valAccuracy": accuracy, "valLoss": cross_entropy}
        )
        if best is None or (-cross_entropy, accuracy) > (-best["valLoss"], best["valAccuracy"]):
            best, best_state = history[-1], copy.deepcopy(model.state_dict())
        shown = " ".join(f"{k} {v:.4f}" for k, v in sums.items())
        print(
            f"  epoch {epoch:2d}: {shown} | val acc {accuracy:.3f} loss {cross_entropy:.4f}",
            flush=True,
        )
        if epoch - best["epoch"] >= schedule.patience:
            break
    model.load_state_dict(best_state)
    model.eval()
    return {
        "bestEpoch": best["epoch"],
        "epochsRun": len(history),
        "seconds": round(time.time() - started, 1),
        "valAccuracy": best["valAccuracy"],
        "valLoss": best["valLoss"],
        "history": history,
    }
