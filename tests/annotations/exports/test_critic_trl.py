"""TRL's `SFTTrainer` reads the `critique` export as it is (conversational prompt-completion records).

A tiny random-weight Qwen2 causal LM and a byte-level BPE tokenizer with a ChatML chat template (Qwen2.5's
turn format) are built here; nothing is downloaded. The trainer's own data path tokenizes every row, masks
the prompt out of the loss, and one training step runs.
"""

from pathlib import Path

import pytest

from tests.annotations.exports.conftest import load_folder
from tests.annotations.exports.critic_support import run
from tests.bpe import train_bpe

pytestmark = pytest.mark.django_db

CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>'"
    " + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


@pytest.fixture
def critique_export(critic_dataset, export_root, tmp_path):
    dataset, _ = critic_dataset
    export = run(dataset, "critique", "both", split_ratios=[0.7, 0.3, 0])
    return load_folder(Path(export.output_dir), tmp_path / "cache")


def chat_tokenizer(texts: list[str]):
    """Train a small byte-level BPE with ChatML's special tokens and give it the ChatML template."""
    tokenizer = train_bpe(
        texts, special_tokens=["<pad>", "<unk>", "<|im_start|>", "<|im_end|>"], eos_token="<|im_end|>"
    )
    tokenizer.chat_template = CHATML
    return tokenizer


def corpus(dataset) -> list[str]:
    return [
        turn[0]["content"] for split in dataset for row in dataset[split] for turn in (row["prompt"], row["completion"])
    ]


def sft_trainer(dataset, tmp_path, *, max_steps: int = 1):
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM
    from trl import SFTConfig, SFTTrainer

    torch.manual_seed(0)
    tokenizer = chat_tokenizer(corpus(dataset))
    model = Qwen2ForCausalLM(
        Qwen2Config(
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=16384,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
    )
    args = SFTConfig(
        output_dir=str(tmp_path / "run"),
        max_steps=max_steps,
        per_device_train_batch_size=2,
        learning_rate=1e-3,
        report_to="none",
        save_strategy="no",
        use_cpu=True,
        max_length=None,
    )
    trainer = SFTTrainer(model=model, args=args, train_dataset=dataset["train"], processing_class=tokenizer)
    return trainer, tokenizer


def test_sft_trainer_tokenizes_each_row_and_trains_only_on_the_critique(critique_export, tmp_path):
    trainer, tokenizer = sft_trainer(critique_export, tmp_path)
    assert trainer.completion_only_loss is True
    tokenized = trainer.train_dataset
    assert len(tokenized) == len(critique_export["train"])
    for source, row in zip(critique_export["train"], tokenized, strict=True):
        text = tokenizer.decode(row["input_ids"])
        prompt, answer = source["prompt"][0]["content"], source["completion"][0]["content"]
        assert text == f"<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n{answer}<|im_end|>\n"
        assert tokenizer.decode([label for label in row["labels"] if label != -100]) == f"{answer}<|im_end|>\n"
        assert row["labels"][-1] != -100 and row["labels"][0] == -100  # the prompt is masked out of the loss
        assert answer.endswith(f"\\boxed{{{source['label']}}}")


@pytest.mark.slow
def test_one_sft_training_step_runs_on_the_export(critique_export, tmp_path):
    trainer, _ = sft_trainer(critique_export, tmp_path)
    result = trainer.train()
    assert result.global_step == 1
    assert result.training_loss > 0
