"""BERT-style WordPiece tokenization and vocabulary training in plain Python.

The tokenization follows the Hugging Face `tokenizers` pipeline that a tokenizer.json with a
BertNormalizer, a BertPreTokenizer, a WordPiece model and a [CLS] $A [SEP] template describes,
as @huggingface/transformers runs it in JavaScript (the reference ortlab checks against):

- normalizer: drop NUL, U+FFFD and control/format/private-use/surrogate characters except tab,
  newline and carriage return; turn whitespace into spaces; put spaces around CJK ideographs;
  lowercase; strip accents (NFD, then drop non-spacing marks).
- pre-tokenizer: split at whitespace, and make every punctuation character (Unicode P*, plus
  all ASCII symbols such as $ + < = > ^ ` | ~) a word of its own.
- model: greedy longest-match-first over each word's characters, continuation pieces carrying
  '##'; a word with a character sequence the vocabulary cannot cover, or longer than 100
  characters, becomes [UNK].

The trainer is the one Hugging Face's WordPieceTrainer runs (byte-pair-encoding merges over the
'##'-prefixed alphabet): starting from single characters, repeatedly add the most frequent
adjacent pair of pieces, counted over word occurrences, until the vocabulary is full or no pair
is seen `min_frequency` times. Ties go to the lexicographically smallest pair, so training is
deterministic.
"""

import unicodedata
from collections import Counter

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PREFIX = "##"
MAX_WORD_CHARS = 100
# JavaScript's \s outside the Unicode space separators (Zs), after control characters are gone.
EXTRA_SPACES = {"\t", "\n", "\r", "\u2028", "\u2029", "\ufeff"}
CONTROL_CATEGORIES = {"Cc", "Cf", "Co", "Cs"}


def is_punctuation(char: str) -> bool:
    """Unicode punctuation (P*) or any ASCII symbol, as BERT's pre-tokenizer counts them."""
    cp = ord(char)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def is_cjk(cp: int) -> bool:
    """CJK Unified Ideographs and their extensions, the ranges BERT pads with spaces."""
    ranges = [
        (0x4E00, 0x9FFF),
        (0x3400, 0x4DBF),
        (0x20000, 0x2A6DF),
        (0x2A700, 0x2B73F),
        (0x2B740, 0x2B81F),
        (0x2B820, 0x2CEAF),
        (0xF900, 0xFAFF),
        (0x2F800, 0x2FA1F),
    ]
    return any(lo <= cp <= hi for lo, hi in ranges)


def normalize(text: str) -> str:
    """BertNormalizer with clean_text, handle_chinese_chars, lowercase and accent stripping."""
    out = []
    for char in text:
        cp = ord(char)
        if char not in "\t\n\r" and (
            cp in (0, 0xFFFD) or unicodedata.category(char) in CONTROL_CATEGORIES
        ):
            continue
        if char in EXTRA_SPACES or unicodedata.category(char) == "Zs":
            out.append(" ")
        elif is_cjk(cp):
            out.append(f" {char} ")
        else:
            out.append(char)
    lowered = "".join(out).lower()
    return "".join(
        c for c in unicodedata.normalize("NFD", lowered) if unicodedata.category(c) != "Mn"
    )


def pre_tokenize(text: str) -> list[str]:
    """BertPreTokenizer: words split at spaces, each punctuation character a word of its own."""
    words, current = [], []
    for char in text:
        if char == " " or is_punctuation(char):
            if current:
                words.append("".join(current))
                current = []
            if char != " ":
                words.append(char)
        else:
            current.append(char)
    if current:
        words.append("".join(current))
    return words


def split_word(word: str, vocab: dict) -> list[str]:
    """WordPiece greedy longest-match-first; ['[UNK]'] when the word cannot be covered."""
    if len(word) > MAX_WORD_CHARS:
        return ["[UNK]"]
    pieces, start = [], 0
    while start < len(word):
        end = len(word)
        while end > start:
            piece = word[start:end] if start == 0 else PREFIX + word[start:end]
            if piece in vocab:
                break
            end -= 1
        if end == start:
            return ["[UNK]"]
        pieces.append(piece)
        start = end
    return pieces


def tokenize(text: str, vocab: dict) -> list[str]:
    """The WordPiece tokens of one text, without special tokens."""
    return [piece for word in pre_tokenize(normalize(text)) for piece in split_word(word, vocab)]


def encode(text: str, vocab: dict, max_length: int) -> list[int]:
    """[CLS] ids [SEP], the text's ids cut so that the whole is at most `max_length` long."""
    ids = [vocab[token] for token in tokenize(text, vocab)][: max_length - 2]
    return [vocab["[CLS]"], *ids, vocab["[SEP]"]]


def initial_alphabet(words: Counter, extra: str) -> list[str]:
    """Every character of the words and of `extra`, word-initial and as '##' continuation."""
    chars = sorted(set("".join(words)) | set(extra))
    return chars + [PREFIX + c for c in chars]


def merge(pieces: list[str], pair: tuple[str, str], joined: str) -> list[str]:
    """`pieces` with every adjacent occurrence of `pair` replaced by `joined`."""
    out, i = [], 0
    while i < len(pieces):
        if i + 1 < len(pieces) and (pieces[i], pieces[i + 1]) == pair:
            out.append(joined)
            i += 2
        else:
            out.append(pieces[i])
            i += 1
    return out


def train_vocab(
    texts: list[str], vocab_size: int, min_frequency: int, extra_chars: str
) -> list[str]:
    """A WordPiece vocabulary (tokens in id order, special tokens first) learned from `texts`.

    O(merges x distinct word characters): about 10 s for a few thousand merges on short reviews.
    """
    words = Counter(word for text in texts for word in pre_tokenize(normalize(text)))
    tokens = SPECIAL_TOKENS + initial_alphabet(words, extra_chars)
    known = set(tokens)
    split = {w: [w[0]] + [PREFIX + c for c in w[1:]] for w in words}
    while len(tokens) < vocab_size:
        pairs = Counter()
        for word, count in words.items():
            pieces = split[word]
            for a, b in zip(pieces, pieces[1:]):
                pairs[(a, b)] += count
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        if pairs[best] < min_frequency:
            break
        joined = best[0] + best[1][len(PREFIX) :]
        for word in words:
            if len(split[word]) > 1:
                split[word] = merge(split[word], best, joined)
        if joined not in known:
            tokens.append(joined)
            known.add(joined)
    return tokens
