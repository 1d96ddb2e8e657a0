"""The model cards of models/distill, built from what train_distill.py measured.

Kept apart from the training script so that its steps read without pages of fields. No number
is typed here; every one comes from the run.
"""

import hashlib
from dataclasses import asdict
from pathlib import Path

from script_support import package_version
from sentiment_data import LABELS

LICENCE = (
    "weights: Apache-2.0 (ortlab); trained on UCI Sentiment Labelled Sentences "
    "(Kotzias et al. 2015, CC BY 4.0), see data/sentiment/LICENSE.md"
)


def camel(name: str) -> str:
    """snake_case to camelCase, for the card's keys."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def losses(loss) -> dict:
    """The weighted terms of a run's objective."""
    if loss is None:
        return {"hard": {"weight": 1.0, "definition": "cross-entropy with the labels"}}
    terms = {
        "hard": {"weight": loss.hard, "definition": "cross-entropy with the labels"},
        "kd": {
            "weight": loss.kd,
            "definition": "T^2 x soft cross-entropy of softmax(teacher / T) "
            "and log softmax(student / T) (Hinton et al. 2015; ortlab kdLoss with "
            "temperatureSquared)",
        },
    }
    definitions = {
        "wrPair": "word relation, pair-wise: KL(teacher || student) of row-softmaxed token cosine "
        "matrices, diagonal and padding masked, per matched layer (ortlab wrPairLoss)",
        "wrAngle": "word relation, angle-wise: MSE of angle cosines at each token over a window "
        f"of {loss.window} real tokens, per matched layer (ortlab wrAngleLoss)",
        "ltrPair": "layer transforming relation, pair-wise: KL of row-softmaxed cosines between a "
        "token's matched layers (ortlab ltrPairLoss)",
        "ltrAngle": "layer transforming relation, angle-wise: MSE of angle cosines over every "
        "triplet of a token's matched layers (ortlab ltrAngleLoss)",
    }
    for term, weight in loss.ckd.items():
        terms[term] = {"weight": weight, "definition": definitions[term]}
    return terms


def model_card(
    name: str,
    model,
    history: dict,
    loss,
    config,
    splits: dict,
    result: dict,
    agreement: dict | None,
    path: Path,
    ckd_check: dict | None,
) -> dict:
    """The JSON card written next to models/distill/<name>.onnx."""
    shape = model.shape
    hidden_states = [f"hidden_{i}" for i in range(shape.layers + 1)]
    schedule = config.teacher_schedule if loss is None else config.student_schedule
    student = loss is not None
    training = {
        "domain": splits["trainingDomain"],
        "split": "train",
        "sentences": splits["splits"]["train"]["count"],
        "checkpoint": "lowest validation cross-entropy (ties: higher validation accuracy)",
        "seed": config.seed + (1 if student else 0),
        "epochs": history["bestEpoch"],
        "epochsRun": history["epochsRun"],
        "schedule": {
            **{camel(k): v for k, v in asdict(schedule).items()},
            "optimizer": "AdamW, linear warm-up then linear decay over maxEpochs",
        },
        "dropout": shape.dropout,
        "losses": losses(loss),
        "threads": config.threads,
        "torch": package_version("torch"),
    }
    if student:
        training["teacher"] = "teacher.onnx"
        training["temperature"] = loss.temperature
        training["mapping"] = {"kind": "emb+skip", "pairs": [list(p) for p in loss.mapping]}
        if not loss.ckd:
            training["mapping"]["usedBy"] = "none (no layer terms); recorded for comparison"
    card = {
        "name": name,
        "role": "student" if student else "teacher",
        "description": f"BERT-like text classifier ({shape.layers} post-LN encoder layers) for "
        "review sentiment, with every hidden state as an output.",
        "licence": LICENCE,
        "layers": shape.layers,
        "hidden": shape.hidden,
        "heads": shape.heads,
        "ffn": shape.ffn,
        "vocabSize": shape.vocab,
        "parameters": sum(p.numel() for p in model.parameters()),
        "inputs": [
            {"name": n, "dims": ["batch", "tokens"], "type": "int64"}
            for n in ("input_ids", "attention_mask")
        ],
        "outputs": [{"name": "logits", "dims": ["batch", len(LABELS)], "type": "float32"}]
        + [
            {"name": h, "dims": ["batch", "tokens", shape.hidden], "type": "float32"}
            for h in hidden_states
        ],
        "hiddenStates": hidden_states,
        "opset": 17,
        "tokenizer": "tokenizer",
        "maxLength": shape.max_length,
        "labels": LABELS,
        "training": training,
        "accuracy": result["accuracy"],
        "measuredWith": result["parity"]["runtime"],
    }
    if agreement is not None:
        card["teacherAgreement"] = agreement
    if ckd_check is not None:
        card["ckdCheck"] = {
            "against": "ortlab src/distill ckdLoss and kdLoss on this model's and "
            "the teacher's exported outputs",
            **ckd_check,
        }
    card["parity"] = result["parity"]
    card["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    card["generator"] = "tools/export/train_distill.py"
    return card
