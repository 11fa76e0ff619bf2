"""Build tiny Qwen2 checkpoints and a BPE tokenizer on the fly (nothing is downloaded).

The tokenizer carries the real Qwen2.5-Math chat template (`tests/fixtures/qwen25_math/`) and its ChatML
special tokens, so prompts render exactly as a Qwen2.5 checkpoint reads them. The causal LM is briefly
trained so that after any prompt (chat-rendered judge and MC prompts, and plain text) it writes
`TINY_ANSWER` and stops: its critiques then parse (judge) and its rollouts carry a final answer (mc), so
end-to-end tests can assert real labels. The PRMs keep random weights: their probabilities are only
checked for range and shape. Everything is saved with `save_pretrained` and loaded back through the
engines' own code path.
"""

import random
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM, Qwen2ForTokenClassification

from scoring.engines import chat
from scoring.engines.transformers_engine import _process_reward_class
from scoring.methods import judge as judge_method
from scoring.methods import mc as mc_method
from scoring.methods.base import SolutionTask
from tests.bpe import train_bpe

SEPARATOR = "<extra_0>"
SHEPHERD_SEPARATOR = "ки"  # Math-Shepherd's step tag: a second separator the tokenizer knows
SPECIAL_TOKENS = ["<pad>", "<unk>", "<|endoftext|>", "<|im_start|>", "<|im_end|>", SEPARATOR, SHEPHERD_SEPARATOR]
TINY_ANSWER = " The answer is \\boxed{1}."
TRAIN_STEPS = 160
QWEN_TEMPLATE_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "qwen25_math" / "chat_template.jinja"
QWEN_CHAT_TEMPLATE = QWEN_TEMPLATE_FILE.read_text(encoding="utf-8")


@dataclass(frozen=True)
class TinyModels:
    causal_lm: Path
    token_classifier: Path
    process_reward: Path


def _sample_tasks(count: int) -> list[SolutionTask]:
    rng = random.Random(0)
    tasks = []
    for index in range(count):
        a, b = rng.randint(2, 60), rng.randint(2, 60)
        steps = (
            *tuple(f"Step {i + 1}: {a} + {b * i} = {a + b * i}." for i in range(rng.randint(1, 5))),
            f"So the answer is \\boxed{{{a + b}}}.",
        )
        question = f"What is {a} + {b}?"
        tasks.append(SolutionTask(solution_id=index, question=question, steps=steps, reference_answer="1"))
    return tasks


def _training_prompts(tasks: list[SolutionTask], tokenizer: PreTrainedTokenizerFast) -> list[str]:
    """Return judge and MC prompts as the model reads them: chat-rendered, and in the plain-text format."""
    template = judge_method.JudgeConfig().load_template()
    prompts = []
    for prompt_format in ("chat", "text"):
        mc_config = mc_method.MCConfig(prompt_format=prompt_format)
        for task in tasks:
            prompts.append(judge_method.build_prompt(task, template, prompt_format))
            prompts.extend(mc_method.build_prompt(task, length, mc_config) for length in range(1, len(task.steps) + 1))
    return [chat.render(tokenizer, prompt, "tiny") for prompt in prompts]


def build_tokenizer(corpus: list[str]) -> PreTrainedTokenizerFast:
    """Train a byte-level BPE on the corpus, with the special tokens incl. the PRM separator."""
    tokenizer = train_bpe(
        corpus,
        special_tokens=SPECIAL_TOKENS,
        eos_token="<|endoftext|>",
        vocab_size=600,
        extra_special_tokens=SPECIAL_TOKENS[3:],
    )
    tokenizer.chat_template = QWEN_CHAT_TEMPLATE
    return tokenizer


def _config(tokenizer: PreTrainedTokenizerFast, **extra) -> Qwen2Config:
    return Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=False,
        **extra,
    )


def _train_to_answer(model: Qwen2ForCausalLM, tokenizer: PreTrainedTokenizerFast, prompts: list[str]) -> None:
    """Teach the model to continue any prompt with TINY_ANSWER and end-of-sequence (loss on the answer)."""
    answer = tokenizer(TINY_ANSWER, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    rows = []
    for prompt in prompts:
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        rows.append((prompt_ids + answer, [-100] * len(prompt_ids) + answer))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model.train()
    rng = random.Random(1)
    for _ in range(TRAIN_STEPS):
        ids, labels = rng.choice(rows)
        loss = model(input_ids=torch.tensor([ids]), labels=torch.tensor([labels])).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()


def build_tiny_models(root: Path) -> TinyModels:
    """Write a tokenizer and three tiny checkpoints (causal LM, token classifier, Qwen PRM layout)."""
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a busy shared CPU makes multi-threaded training of tiny layers crawl
    try:
        return _build(root)
    finally:
        torch.set_num_threads(threads)


def _build(root: Path) -> TinyModels:
    tasks = _sample_tasks(12)
    critiques = [judge_method.critique_text(task, judge_method.JudgeConfig().load_template()) for task in tasks]
    mc_texts = [mc_method.DEFAULT_MC_TEMPLATE, mc_method.DEFAULT_MC_SYSTEM_PROMPT]
    tokenizer = build_tokenizer([*critiques, *mc_texts, TINY_ANSWER, *(s for t in tasks for s in t.steps)])
    prompts = _training_prompts(tasks, tokenizer)
    paths = TinyModels(root / "causal-lm", root / "token-classifier", root / "qwen2-prm")

    causal = Qwen2ForCausalLM(_config(tokenizer))
    _train_to_answer(causal, tokenizer, prompts)
    causal.generation_config.pad_token_id = tokenizer.pad_token_id
    causal.save_pretrained(paths.causal_lm)

    classifier = Qwen2ForTokenClassification(_config(tokenizer, num_labels=2))
    classifier.save_pretrained(paths.token_classifier)

    prm = _process_reward_class()(_config(tokenizer, architectures=["Qwen2ForProcessRewardModel"]))
    prm.save_pretrained(paths.process_reward)
    for folder in (paths.causal_lm, paths.token_classifier, paths.process_reward):
        tokenizer.save_pretrained(folder)
    return paths
