"""Prompt templates, phases, per-sample keys and post-generation checks.

A template is a versioned TOML file, ``synth/prompts/<task_type>/<version>.toml`` (see the
README there). Each of its phases is one model call whose output becomes a variable for the
later phases; the ``[[sample]]`` entries assemble the stored chat messages from the source's
variables and the phases' outputs. This module is pure: no database, no backend.
"""

from __future__ import annotations

import re
import string
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from .languages import get_language
from .task_types import TaskType

PROMPTS_DIR = Path(__file__).resolve().parent / "prompts"
TURN_SEPARATOR = "####"

# The paper's sampling defaults (arXiv 2509.21294); a template's [defaults] and then the
# job's params override them.
GENERATION_DEFAULTS = {
    "temperature": 1.0,
    "top_p": 0.95,
    "max_tokens": 1024,
    "samples_per_source": 1,
    "chunk_size": 16,
}

# Tasks whose sources are English and whose samples belong to each target language.
FROM_ENGLISH = {TaskType.TRANSLATION_EN_XX, TaskType.TRANSLATED_REASONING}


class TemplateError(Exception):
    """A template file that is missing or does not have the expected shape."""


class OutputError(Exception):
    """A model output that cannot become a sample (a post-generation check failed)."""


@dataclass(frozen=True, slots=True)
class Phase:
    name: str
    messages: tuple[dict, ...]
    output: str = ""
    # Split the output on a line "####" into these variables (problem, then solution).
    split: tuple[str, ...] = ()
    # The variable whose numbers, formulae, code and URLs the output must keep verbatim.
    preserve: str = ""


@dataclass(frozen=True, slots=True)
class Template:
    task_type: str
    version: str
    description: str
    phases: tuple[Phase, ...]
    sample: tuple[dict, ...]
    defaults: dict = field(default_factory=dict)
    path: Path | None = None

    @property
    def final_phase(self) -> str:
        return self.phases[-1].name


def template_versions(task_type: str) -> list[str]:
    """The versions on disk for a task type, oldest first."""
    folder = PROMPTS_DIR / task_type
    return sorted((path.stem for path in folder.glob("*.toml")), key=lambda v: (len(v), v))


def latest_template_version(task_type: str) -> str:
    versions = template_versions(task_type)
    if not versions:
        raise TemplateError(f"No prompt templates for task type {task_type!r} in {PROMPTS_DIR}.")
    return versions[-1]


@cache
def load_template(task_type: str, version: str) -> Template:
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", version) or task_type not in TaskType.values:
        raise TemplateError(f"No template {task_type}/{version}.")
    path = PROMPTS_DIR / task_type / f"{version}.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TemplateError(f"No template {task_type}/{version} ({path}).") from None
    except tomllib.TOMLDecodeError as error:
        raise TemplateError(f"{path}: {error}") from None
    try:
        phases = tuple(
            Phase(
                name=entry["name"],
                messages=tuple(entry["messages"]),
                output=entry.get("output", ""),
                split=tuple(entry.get("split", ())),
                preserve=entry.get("preserve", ""),
            )
            for entry in data["phases"]
        )
        template = Template(
            task_type=data["task_type"],
            version=data["version"],
            description=data.get("description", ""),
            phases=phases,
            sample=tuple(data["sample"]),
            defaults=dict(data.get("defaults", {})),
            path=path,
        )
    except (KeyError, TypeError) as error:
        raise TemplateError(f"{path}: missing or malformed {error}") from None
    if template.task_type != task_type or template.version != version:
        raise TemplateError(f"{path} declares {template.task_type}/{template.version}.")
    for phase in phases:
        if bool(phase.output) == bool(phase.split):
            raise TemplateError(f"{path}: phase {phase.name!r} needs one of output or split.")
    return template


def effective_params(template: Template, overrides: dict | None) -> dict:
    return {**GENERATION_DEFAULTS, **template.defaults, **(overrides or {})}


# --- what a job generates --------------------------------------------------------------------


def source_language_filter(task_type: str, languages: list[str]) -> list[str]:
    """The source languages a job reads for its chosen (sample) languages."""
    if task_type in FROM_ENGLISH:
        return ["en"]
    if task_type == TaskType.TRANSLATION_XX_EN:
        return [code for code in languages if code != "en"]
    return list(languages)


def source_kind(task_type: str) -> str:
    return "reasoning" if task_type == TaskType.TRANSLATED_REASONING else "wikipedia"


def unit_languages(task_type: str, languages: list[str], source_language: str) -> list[str]:
    """The sample languages one source yields: its own, or each target for English sources."""
    if task_type in FROM_ENGLISH:
        return [code for code in languages if code != source_language]
    return [source_language]


def unit_key(
    *, job_id: int, source_id: int, task_type: str, language: str, phase: str, variant: int
) -> tuple:
    """The deterministic identity of one call's result: a redelivered chunk finds it stored."""
    return ("generation", job_id, source_id, task_type, language, phase, variant)


def unit_seed(key: tuple) -> int:
    """A per-sample seed from its key: reruns sample the same way where the backend can."""
    text = "/".join(map(str, key))
    value = 0
    for char in text.encode("utf-8"):
        value = (value * 131 + char) % (2**31 - 1)
    return value


def source_variables(*, source, language: str) -> dict[str, str]:
    """What a template may refer to about the source and the sample's language."""
    target = get_language(language)
    origin = get_language(source.language)
    variables = {
        "passage": source.text,
        "title": source.title or "",
        "language": target.name,
        "native_name": target.native_name,
        "language_code": target.code,
        "source_language": origin.name,
    }
    messages = (source.meta or {}).get("messages") or []
    variables["source_user"] = next((m["content"] for m in messages if m["role"] == "user"), "")
    variables["source_assistant"] = next(
        (m["content"] for m in messages if m["role"] == "assistant"), ""
    )
    return variables


class _Variables(dict):
    def __missing__(self, key: str) -> str:
        raise TemplateError(f"template refers to {{{key}}}, which is not defined here")


_FORMATTER = string.Formatter()


def render(text: str, variables: dict[str, str]) -> str:
    # vformat only substitutes the template's own fields: braces inside a passage stay as
    # they are, because values are never parsed again.
    return _FORMATTER.vformat(text, (), _Variables(variables))


def phase_messages(phase: Phase, variables: dict[str, str]) -> list[dict]:
    return [
        {"role": message["role"], "content": render(message["content"], variables)}
        for message in phase.messages
    ]


def phase_outputs(phase: Phase, text: str, variables: dict[str, str]) -> dict[str, str]:
    """The variables a phase's output defines, after its post-generation checks."""
    text = text.strip()
    if not text:
        raise OutputError(f"phase {phase.name}: empty output")
    if phase.preserve:
        missing = missing_protected(variables.get(phase.preserve, ""), text)
        if missing:
            shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
            raise OutputError(f"phase {phase.name}: not kept verbatim: {shown}")
    if phase.split:
        parts = [part.strip() for part in _split_turns(text)]
        if len(parts) < len(phase.split) or not all(parts[: len(phase.split)]):
            raise OutputError(
                f"phase {phase.name}: expected {len(phase.split)} parts separated by a line "
                f"{TURN_SEPARATOR!r}, got {len(parts)}"
            )
        head = parts[: len(phase.split) - 1]
        tail = f"\n{TURN_SEPARATOR}\n".join(parts[len(phase.split) - 1 :])
        return dict(zip(phase.split, [*head, tail], strict=True))
    return {phase.output: text}


def sample_messages(template: Template, variables: dict[str, str]) -> list[dict]:
    """The stored chat messages; an OutputError when they would not make a usable sample."""
    messages = []
    for entry in template.sample:
        if "turns" in entry:
            turns = [t.strip() for t in _split_turns(variables[entry["turns"]]) if t.strip()]
            roles = entry.get("roles", ["assistant", "user"])
            for index, turn in enumerate(turns[int(entry.get("skip", 0)) :]):
                messages.append({"role": roles[index % len(roles)], "content": turn})
        else:
            messages.append({"role": entry["role"], "content": render(entry["content"], variables)})
    if not any(m["role"] == "assistant" for m in messages):
        raise OutputError("the sample has no assistant turn")
    if any(not m["content"].strip() for m in messages):
        raise OutputError("the sample has an empty message")
    return messages


def _split_turns(text: str) -> list[str]:
    return re.split(rf"^\s*{re.escape(TURN_SEPARATOR)}\s*$", text, flags=re.MULTILINE)


# --- selective translation: what must survive verbatim ----------------------------------------

_PROTECTED = re.compile(
    r"""
      ```.*?```                          # fenced code
    | `[^`\n]+`                          # inline code
    | \$\$.+?\$\$ | \$[^$\n]+\$          # TeX display and inline formulae
    | \\\(.+?\\\) | \\\[.+?\\\]          # TeX \( \) and \[ \]
    | https?://[^\s<>()"'\]]+            # URLs
    | (?<![\w.])\d+(?:[.,]\d+)*(?![\w])  # numbers: 42, 3.14, 1,000
    """,
    re.VERBOSE | re.DOTALL,
)


def protected_spans(text: str) -> list[str]:
    """Numbers, formulae, code and URLs of a text, in order, without duplicates."""
    spans: list[str] = []
    for match in _PROTECTED.finditer(text):
        span = match.group(0).rstrip(".,;:")
        if span and span not in spans:
            spans.append(span)
    return spans


def missing_protected(source: str, output: str) -> list[str]:
    """The protected spans of ``source`` that ``output`` does not contain verbatim."""
    return [span for span in protected_spans(source) if span not in output]
