"""The bundled demo: samples in all 14 languages, an admin, three annotators, one batch.

Everything is keyed (content hashes, usernames, the batch name), so loading twice creates
nothing twice. Every demo row carries is_demo=True and the UI marks it.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction

from evaluation.models import Dimension
from synth.languages import LANGUAGES
from synth.models import Sample, Source
from synth.services import sample_create, sample_filter, source_get_or_create

from .models import Batch, Proficiency
from .services import annotator_create, batch_create, batch_transition

DEMO_DATA_DIR = Path(__file__).resolve().parent / "demo_data"
DEMO_GENERATOR = "parakh-demo (hand-written)"
DEMO_TEMPLATE_VERSION = "demo-v1"
DEMO_LICENSE = "Written for the Parakh demo"
DEMO_BATCH_NAME = "Demo · Hindi · overlap 2"
DEMO_BATCH_LANGUAGE = "hi"
DEMO_BATCH_DIMENSIONS = [
    "fluency",
    "cultural_fidelity",
    "instruction_adherence",
    "flag_wrong_language",
    "flag_offensive",
    "flag_factually_wrong",
    "flag_culturally_inappropriate",
    "flag_broken_text",
]


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str
    languages: dict[str, int] = field(default_factory=dict)


ADMIN = DemoAccount("admin", "parakh-admin", "staff")
ANNOTATORS = [
    DemoAccount(
        "asha",
        "parakh-asha",
        "annotator",
        {"hi": Proficiency.NATIVE, "mr": Proficiency.FLUENT, "en": Proficiency.FLUENT},
    ),
    DemoAccount(
        "zoya",
        "parakh-zoya",
        "annotator",
        {"ur": Proficiency.NATIVE, "hi": Proficiency.FLUENT, "en": Proficiency.FLUENT},
    ),
    DemoAccount(
        "ravi",
        "parakh-ravi",
        "annotator",
        {"ta": Proficiency.NATIVE, "te": Proficiency.FLUENT, "en": Proficiency.FLUENT},
    ),
]


@dataclass
class DemoSummary:
    samples_created: int = 0
    samples_total: int = 0
    per_language: dict[str, int] = field(default_factory=dict)
    accounts_created: list[str] = field(default_factory=list)
    batch: Batch | None = None
    batch_created: bool = False


class DemoDataError(Exception):
    pass


def demo_records() -> list[tuple[Path, str, dict]]:
    """(file, language, sample record) for every bundled sample, in file order."""
    records = []
    for path in sorted(DEMO_DATA_DIR.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise DemoDataError(f"{path}: line {error.lineno}: {error.msg}") from error
        language = data.get("language")
        if language not in LANGUAGES:
            raise DemoDataError(f"{path}: unknown language {language!r}")
        records.extend((path, language, record) for record in data["samples"])
    return records


def demo_load() -> DemoSummary:
    summary = DemoSummary()
    with transaction.atomic():
        _load_samples(summary)
        _load_accounts(summary)
        _load_batch(summary)
    summary.samples_total = Sample.objects.filter(is_demo=True).count()
    return summary


def _load_samples(summary: DemoSummary) -> None:
    for path, language, record in demo_records():
        source = None
        if record.get("source"):
            source, _ = source_get_or_create(
                kind=Source.Kind.WIKIPEDIA,
                language=language,
                text=record["source"]["text"],
                title=record["source"].get("title", ""),
                url=record["source"].get("url") or "",
                license=DEMO_LICENSE,
                meta={"demo_file": path.name},
                is_demo=True,
            )
        params = {"demo_key": record["key"]}
        if record.get("demo_note"):
            params["demo_note"] = record["demo_note"]
        sample, created = sample_create(
            language=language,
            task_type=record["task_type"],
            messages=record["messages"],
            generator=DEMO_GENERATOR,
            template_version=DEMO_TEMPLATE_VERSION,
            params=params,
            source=source,
            key=("demo", record["key"]),
            is_demo=True,
        )
        summary.per_language[language] = summary.per_language.get(language, 0) + 1
        if created:
            summary.samples_created += 1
            # Inline rather than queued: the demo shows filtered samples whether or not a
            # worker runs.
            sample_filter(sample_id=sample.pk)


def _load_accounts(summary: DemoSummary) -> None:
    User = get_user_model()
    if not User.objects.filter(username=ADMIN.username).exists():
        User.objects.create_superuser(ADMIN.username, "admin@parakh.invalid", ADMIN.password)
        summary.accounts_created.append(ADMIN.username)
    for account in ANNOTATORS:
        if not User.objects.filter(username=account.username).exists():
            annotator_create(
                username=account.username,
                password=account.password,
                languages=account.languages,
                first_name=account.username.title(),
            )
            summary.accounts_created.append(account.username)


def _load_batch(summary: DemoSummary) -> None:
    batch = Batch.objects.filter(name=DEMO_BATCH_NAME).first()
    if batch is None:
        User = get_user_model()
        annotators = [
            User.objects.get(username=account.username)
            for account in ANNOTATORS
            if DEMO_BATCH_LANGUAGE in account.languages
        ]
        samples = list(
            Sample.objects.filter(
                is_demo=True, language=DEMO_BATCH_LANGUAGE, status=Sample.Status.PASSED
            ).order_by("pk")
        )
        batch = batch_create(
            name=DEMO_BATCH_NAME,
            language=DEMO_BATCH_LANGUAGE,
            dimensions=list(Dimension.objects.filter(slug__in=DEMO_BATCH_DIMENSIONS)),
            samples=samples,
            annotators=annotators,
            overlap=2,
            instructions="Demo batch: score each Hindi sample on the rubric; flag what is wrong.",
            created_by=User.objects.get(username=ADMIN.username),
        )
        batch_transition(batch=batch, to=Batch.Status.OPEN)
        summary.batch_created = True
    summary.batch = batch
