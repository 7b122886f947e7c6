"""LLM judges and judge runs."""

from parakh.transitions import run_transition

from ..models import JudgeRun


def judge_run_transition(*, run: JudgeRun, to: str, error: str = "") -> JudgeRun:
    """Guarded status change; illegal moves raise parakh.transitions.InvalidTransition."""
    return run_transition(run, to=to, error=error)
