"""TRL reads the `trl` export as it is: its PRM trainer's data path tokenizes it, and one training step runs.

TRL 1.14 removed the PRM trainer (huggingface/trl#7133); requirements pin trl<1.14, where it lives in
`trl.experimental.prm`. The model and tokenizer are built here with random weights (nothing downloaded).
"""

from pathlib import Path

import pytest

from annotations.services.exports import export_create, export_run
from tests.annotations.exports.conftest import load_folder
from tests.bpe import train_bpe

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:You are importing from 'trl.experimental'"),
]

STEP_SEPARATOR = "\n"


@pytest.fixture
def trl_export(pb_dataset, export_root, tmp_path):
    export = export_create(
        dataset=pb_dataset, created_by=None, export_format="trl", split_ratios=[0.7, 0.3, 0], enqueue=False
    )
    export = export_run(export_id=export.pk)
    assert export.status == "succeeded", export.error
    return load_folder(Path(export.output_dir), tmp_path / "cache")


def tiny_tokenizer(texts: list[str]):
    """Train a small byte-level BPE tokenizer on the texts and wrap it for transformers."""
    return train_bpe(texts, special_tokens=["<pad>", "<unk>", "<|endoftext|>"], eos_token="<|endoftext|>")


def corpus(dataset) -> list[str]:
    return [row["prompt"] for split in dataset for row in dataset[split]] + [
        step + STEP_SEPARATOR for split in dataset for row in dataset[split] for step in row["completions"]
    ]


def test_prm_trainer_tokenize_row_puts_each_label_on_its_step_end(trl_export):
    from trl.experimental.prm import PRMTrainer

    tokenizer = tiny_tokenizer(corpus(trl_export))
    checked = 0
    for split in trl_export:
        for row in trl_export[split]:
            tokenized = PRMTrainer.tokenize_row(
                row,
                tokenizer=tokenizer,
                step_separator=STEP_SEPARATOR,
                max_length=None,
                max_completion_length=None,
                train_on_last_step_only=False,
                is_eval=False,
            )
            positions = [index for index, label in enumerate(tokenized["labels"]) if label != -100]
            assert [tokenized["labels"][index] for index in positions] == [int(label) for label in row["labels"]]
            for position, step in zip(positions, row["completions"], strict=True):
                text_so_far = tokenizer.decode(tokenized["input_ids"][: position + 1])
                assert text_so_far.endswith(step + STEP_SEPARATOR)
            if False in row["labels"]:  # the error step is the last kept one, labelled 0
                assert tokenized["labels"][positions[-1]] == 0
                assert row["labels"].index(False) == len(row["labels"]) - 1
            checked += 1
    assert checked == 30


@pytest.mark.slow
def test_one_prm_training_step_runs_on_the_export(trl_export, tmp_path):
    import torch
    from transformers import Qwen2Config, Qwen2ForTokenClassification
    from trl.experimental.prm import PRMConfig, PRMTrainer

    torch.manual_seed(0)
    tokenizer = tiny_tokenizer(corpus(trl_export))
    model = Qwen2ForTokenClassification(
        Qwen2Config(
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=4096,
            pad_token_id=tokenizer.pad_token_id,
            num_labels=2,
        )
    )
    args = PRMConfig(
        output_dir=str(tmp_path / "run"),
        max_steps=1,
        per_device_train_batch_size=4,
        learning_rate=1e-3,
        report_to="none",
        save_strategy="no",
        use_cpu=True,
        max_length=1024,
        step_separator=STEP_SEPARATOR,
    )
    trainer = PRMTrainer(model=model, args=args, train_dataset=trl_export["train"], processing_class=tokenizer)
    assert trainer.train_dataset.column_names == ["labels", "input_ids"]
    result = trainer.train()
    assert result.global_step == 1
    assert result.training_loss > 0
