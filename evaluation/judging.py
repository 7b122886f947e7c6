"""The judge's side of a judgment, without the database: prompts, answer schemas, parsing,
the repair message and the judge-scale → human-scale mapping.

Prompts are versioned files under evaluation/prompts/ (see its README). LLM output is
untrusted: it is parsed and validated here, and shown in pages only autoescaped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.template import Context, Engine
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from synth.backends import ChatRequest
from synth.languages import get_language
from synth.task_types import TaskType

PROMPTS_DIR = Path(__file__).resolve().parent / "prompts"
REASON_MAX_LENGTH = 2_000
SECTION = re.compile(r"^### (system|user)\s*$", re.MULTILINE)
FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)\n?\s*```", re.DOTALL)
# Prompts are plain text for a model, not HTML: escaping would corrupt quotes and <, >.
ENGINE = Engine(autoescape=False)


class PromptNotFound(LookupError):
    pass


def prompt_versions() -> list[str]:
    return sorted(path.name for path in PROMPTS_DIR.iterdir() if (path / "single.txt").is_file())


def _prompt_file(version: str, names: list[str]) -> Path:
    for name in names:
        path = PROMPTS_DIR / version / name
        if path.is_file():
            return path
    raise PromptNotFound(f"No prompt {' or '.join(names)} in version {version!r}.")


@cache
def _template(path: Path):
    text = path.read_text(encoding="utf-8")
    parts = SECTION.split(text)
    sections = dict(zip(parts[1::2], parts[2::2], strict=True))
    if set(sections) != {"system", "user"}:
        raise PromptNotFound(f"{path} needs a '### system' and a '### user' section.")
    return {role: ENGINE.from_string(body.strip()) for role, body in sections.items()}


def _render(path: Path, context: dict) -> list[dict]:
    templates = _template(path)
    context = Context(context, autoescape=False)
    return [
        {"role": role, "content": templates[role].render(context).strip()}
        for role in ("system", "user")
    ]


def split_conversation(messages: list[dict]) -> tuple[str, str]:
    """(question, response): everything before the last assistant turn, and that turn."""
    last = max((i for i, m in enumerate(messages) if m["role"] == "assistant"), default=None)
    if last is None:
        return _transcript(messages), ""
    return _transcript(messages[:last]), messages[last]["content"]


def _transcript(messages: list[dict]) -> str:
    turns = [m for m in messages if m["role"] != "system"]
    if len(turns) == 1 and turns[0]["role"] == "user":
        return turns[0]["content"]
    return "\n\n".join(f"{m['role'].capitalize()}: {m['content']}" for m in messages)


def judge_levels(dimension) -> list[dict]:
    anchors = dimension.judge_anchors if dimension.has_judge_scale else dimension.anchors
    return [
        {"value": value, "anchor": anchors.get(str(value), "")} for value in dimension.judge_scale
    ]


def _dimension_context(dimension) -> dict:
    scale = dimension.judge_scale
    return {
        "slug": dimension.slug,
        "name": dimension.name,
        "guidelines": dimension.guidelines,
        "min": scale.start,
        "max": scale.stop - 1,
        "levels": judge_levels(dimension),
    }


def _base_context(*, language: str, task_type: str, messages: list[dict]) -> dict:
    lang = get_language(language)
    question, response = split_conversation(messages)
    return {
        "language": {"code": lang.code, "name": lang.name, "native_name": lang.native_name},
        "task_type": TaskType(task_type).label if task_type in TaskType.values else task_type,
        "question": question,
        "response": response,
    }


def render_single(*, version: str, sample, dimension) -> list[dict]:
    path = _prompt_file(
        version,
        [
            f"{sample.task_type}/{dimension.slug}.txt",
            f"{sample.task_type}/single.txt",
            "single.txt",
        ],
    )
    context = _base_context(
        language=sample.language, task_type=sample.task_type, messages=sample.messages
    )
    context["dimension"] = _dimension_context(dimension)
    return _render(path, context)


def render_all(*, version: str, sample, dimensions: list) -> list[dict]:
    path = _prompt_file(version, [f"{sample.task_type}/all.txt", "all.txt"])
    context = _base_context(
        language=sample.language, task_type=sample.task_type, messages=sample.messages
    )
    context["dimensions"] = [_dimension_context(d) for d in dimensions]
    return _render(path, context)


def render_pairwise(
    *, version: str, language: str, messages: list[dict], response_a: str, response_b: str
) -> list[dict]:
    context = _base_context(language=language, task_type="", messages=messages)
    context.update(response_a=response_a, response_b=response_b)
    return _render(_prompt_file(version, ["pairwise.txt"]), context)


def _scale_key(dimension) -> tuple:
    return (dimension.slug, tuple(dimension.judge_scale))


def score_schema(dimension) -> dict:
    """The answer schema for one dimension; one shared object per (slug, judge scale), so
    its compiled validator is reused. Treat it as read-only."""
    return _score_schema(*_scale_key(dimension))


@cache
def _score_schema(slug: str, values: tuple[int, ...]) -> dict:
    return {
        "type": "object",
        "properties": {
            "score": {"type": "integer", "enum": list(values)},
            "reason": {"type": "string", "maxLength": REASON_MAX_LENGTH},
        },
        "required": ["score", "reason"],
        "additionalProperties": False,
    }


def all_schema(dimensions: list) -> dict:
    """The answer schema for all ``dimensions`` in one call (shared and read-only too)."""
    return _all_schema(tuple(_scale_key(d) for d in dimensions))


@cache
def _all_schema(keys: tuple[tuple, ...]) -> dict:
    return {
        "type": "object",
        "properties": {
            "scores": {
                "type": "object",
                "properties": {slug: _score_schema(slug, values) for slug, values in keys},
                "required": [slug for slug, _ in keys],
                "additionalProperties": False,
            }
        },
        "required": ["scores"],
        "additionalProperties": False,
    }


PAIRWISE_SCHEMA = {
    "type": "object",
    "properties": {
        "winner": {"type": "string", "enum": ["A", "B", "tie"]},
        "reason": {"type": "string", "maxLength": REASON_MAX_LENGTH},
    },
    "required": ["winner", "reason"],
    "additionalProperties": False,
}


def strip_fence(text: str) -> str:
    """The JSON inside a markdown code fence, if the model wrapped its answer in one."""
    text = text.strip()
    match = FENCE.search(text)
    return match.group(1).strip() if match else text


# Keyed by the schema object, which the entry keeps alive so that its id is never reused.
_validators: dict[int, tuple[dict, Draft202012Validator]] = {}


def _validator(schema: dict) -> Draft202012Validator:
    entry = _validators.get(id(schema))
    if entry is None:
        entry = _validators[id(schema)] = (schema, Draft202012Validator(schema))
    return entry[1]


def validate(data: object, schema: dict) -> str:
    """'' when ``data`` matches ``schema``, else the most relevant error, with its path.
    Pass the shared schemas of this module: each compiles once."""
    error = best_match(_validator(schema).iter_errors(data))
    if error is None:
        return ""
    where = "/".join(str(part) for part in error.absolute_path)
    return f"{where}: {error.message}" if where else error.message


def parse(text: str, schema: dict) -> tuple[object | None, str]:
    """(data, '') for a valid reply; (None, error) for anything else."""
    candidate = strip_fence(text)
    if not candidate:
        return None, "empty reply"
    try:
        data = json.loads(candidate)
    except json.JSONDecodeError as error:
        return None, f"not JSON: {error}"
    error = validate(data, schema)
    return (None, error) if error else (data, "")


def parse_all(text: str, dimensions: list) -> dict[str, tuple[dict | None, str]]:
    """Per dimension slug: (its {"score", "reason"}, '') or (None, error). A reply that is
    valid for some dimensions keeps those."""
    candidate = strip_fence(text)
    try:
        data = json.loads(candidate) if candidate else None
    except json.JSONDecodeError as error:
        return {d.slug: (None, f"not JSON: {error}") for d in dimensions}
    if data is None:
        return {d.slug: (None, "empty reply") for d in dimensions}
    scores = data.get("scores") if isinstance(data, dict) else None
    if not isinstance(scores, dict):
        return {d.slug: (None, "no 'scores' object") for d in dimensions}
    outcome = {}
    for dimension in dimensions:
        if dimension.slug not in scores:
            outcome[dimension.slug] = (None, f"scores: '{dimension.slug}' is missing")
            continue
        error = validate(scores[dimension.slug], score_schema(dimension))
        outcome[dimension.slug] = (
            (None, f"scores/{dimension.slug}: {error}") if error else (scores[dimension.slug], "")
        )
    return outcome


def repair_messages(messages: list[dict], reply: str, error: str, schema: dict) -> list[dict]:
    """The one repair attempt: the conversation, the bad reply and what was wrong with it."""
    return [
        *messages,
        {"role": "assistant", "content": reply or "(empty)"},
        {
            "role": "user",
            "content": (
                f"That answer could not be used: {error}\n"
                "Reply again with only a JSON object that matches this JSON schema, "
                f"and nothing else:\n{json.dumps(schema, ensure_ascii=False)}"
            ),
        },
    ]


def to_human_scale(dimension, judge_value: int) -> int:
    """The human-scale value of a judge's score: agreement is always on the human scale."""
    if not dimension.has_judge_scale:
        return judge_value
    return int(dimension.judge_scale_map[str(judge_value)])


@dataclass(frozen=True, slots=True)
class Sampling:
    """A judge's sampling parameters: temperature 0 unless its params say otherwise."""

    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 512
    seed: int | None = None

    @classmethod
    def of(cls, params: dict) -> Sampling:
        params = params or {}
        seed = params.get("seed")
        return cls(
            temperature=float(params.get("temperature", 0.0)),
            top_p=float(params.get("top_p", 1.0)),
            max_tokens=int(params.get("max_tokens", 512)),
            seed=int(seed) if seed is not None else None,
        )

    def request(self, messages: list[dict], schema: dict, name: str) -> ChatRequest:
        return ChatRequest(
            messages=messages,
            temperature=self.temperature,
            top_p=self.top_p,
            max_tokens=self.max_tokens,
            seed=self.seed,
            json_schema=schema,
            schema_name=name,
        )
