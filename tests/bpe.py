"""Small byte-level BPE tokenizers trained in the test run (no hub access): one helper for every test that needs one."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast


def train_bpe(
    texts: list[str], *, special_tokens: list[str], eos_token: str, vocab_size: int = 800, **extra: Any
) -> "PreTrainedTokenizerFast":
    """Train a byte-level BPE on `texts` and wrap it for transformers.

    `special_tokens` start with "<pad>" and "<unk>" (the pad and unknown tokens); `extra` goes to
    PreTrainedTokenizerFast (e.g. `extra_special_tokens`).
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE(unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=special_tokens, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    backend.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token="<pad>", unk_token="<unk>", eos_token=eos_token, **extra
    )
