"""What an LLM red-team run may cost, shown before the user confirms it.

A rough upper bound: every attempt sends the task and the grader source (about
`PROMPT_TOKENS`) and gets a reply of about `COMPLETION_TOKENS`. The run itself never spends
more than the budget the user confirms (FunnelOptions.budget_usd / max_llm_attempts).
"""

from __future__ import annotations

from dataclasses import dataclass

PROMPT_TOKENS = 2500
COMPLETION_TOKENS = 600
DEFAULT_ATTEMPTS = 20
DEFAULT_BUDGET_USD = 1.00


@dataclass(frozen=True, slots=True)
class CostEstimate:
    model: str
    attempts: int
    tokens: int
    cost_usd: float | None  # None: the provider's prices are unknown (a local model...)
    budget_usd: float

    def text(self) -> str:
        tokens = f"about {self.tokens:,} tokens in {self.attempts} attempts"
        if self.cost_usd is None:
            return (
                f"{tokens}; price unknown for {self.model} (free if it runs on your machine). "
                f"Budget cap ${self.budget_usd:.2f}."
            )
        spend = min(self.cost_usd, self.budget_usd)
        return f"{tokens}: at most ${spend:.2f} (budget cap ${self.budget_usd:.2f})."


def estimate(
    model: str, attempts: int = DEFAULT_ATTEMPTS, budget_usd: float = DEFAULT_BUDGET_USD
) -> CostEstimate:
    """Blocking on first use (litellm's price table loads lazily): call from a worker thread."""
    from app.llm import estimate_cost

    prompt, completion = PROMPT_TOKENS * attempts, COMPLETION_TOKENS * attempts
    return CostEstimate(
        model, attempts, prompt + completion, estimate_cost(model, prompt, completion), budget_usd
    )


def provider_of(model: str) -> str:
    """The keychain entry an LLM key is stored under: the litellm provider prefix."""
    return model.split("/", 1)[0] if "/" in model else model
