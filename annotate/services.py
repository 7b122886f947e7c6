"""Every write to the annotate app's tables."""

from collections.abc import Mapping, Sequence
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from evaluation.models import Dimension
from parakh.transitions import DomainError, check_transition
from synth.languages import get_language
from synth.models import Sample

from .models import (
    ANNOTATORS_GROUP,
    AnnotatorLanguage,
    AnnotatorProfile,
    Assignment,
    Batch,
    BatchItem,
    Proficiency,
)

User = get_user_model()


class BatchError(DomainError):
    pass


def annotator_create(
    *,
    username: str,
    password: str,
    languages: Mapping[str, int],
    email: str = "",
    first_name: str = "",
) -> User:
    """A user in the annotators group with a profile listing their languages."""
    for code in languages:
        get_language(code)  # KeyError names an unknown code
    with transaction.atomic():
        user = User(username=username, email=email, first_name=first_name)
        user.set_password(password)
        user.full_clean()
        user.save()
        user.groups.add(Group.objects.get(name=ANNOTATORS_GROUP))
        profile = AnnotatorProfile.objects.create(user=user)
        annotator_languages_set(profile=profile, languages=languages)
    return user


def annotator_languages_set(*, profile: AnnotatorProfile, languages: Mapping[str, int]) -> None:
    """Replace the profile's languages with ``{code: proficiency}``."""
    with transaction.atomic():
        profile.languages.exclude(language__in=list(languages)).delete()
        for code, proficiency in languages.items():
            AnnotatorLanguage.objects.update_or_create(
                profile=profile, language=code, defaults={"proficiency": Proficiency(proficiency)}
            )


def batch_create(
    *,
    name: str,
    language: str,
    dimensions: Sequence[Dimension],
    samples: Sequence[Sample],
    annotators: Sequence[User],
    overlap: int = 2,
    distribution: str = Batch.Distribution.PUSH,
    min_proficiency: int = Proficiency.FLUENT,
    instructions: str = "",
    due: datetime | None = None,
    created_by: User | None = None,
) -> Batch:
    """A draft batch with its items and, for push batches, a balanced pre-assignment.

    Refuses samples of another language, annotators without the language at the required
    proficiency, and an overlap larger than the number of annotators of a push batch.
    """
    wrong_language = [s.pk for s in samples if s.language != language]
    if wrong_language:
        raise BatchError(
            f"Samples {wrong_language} are not in {get_language(language).name}; "
            "a batch holds one language."
        )
    qualified = set(
        AnnotatorLanguage.objects.filter(
            profile__user__in=annotators, language=language, proficiency__gte=min_proficiency
        ).values_list("profile__user_id", flat=True)
    )
    unqualified = [user.username for user in annotators if user.pk not in qualified]
    if unqualified:
        raise BatchError(
            f"{', '.join(unqualified)} lack {get_language(language).name} at "
            f"{Proficiency(min_proficiency).label} or better."
        )
    if distribution == Batch.Distribution.PUSH and overlap > len(annotators):
        raise BatchError(
            f"Overlap {overlap} needs at least {overlap} annotators; {len(annotators)} chosen."
        )
    with transaction.atomic():
        batch = Batch(
            name=name,
            language=language,
            overlap=overlap,
            distribution=distribution,
            instructions=instructions,
            due=due,
            created_by=created_by,
        )
        batch.full_clean()
        batch.save()
        batch.dimensions.set(dimensions)
        BatchItem.objects.bulk_create(
            BatchItem(batch=batch, sample=sample, position=index)
            for index, sample in enumerate(samples)
        )
        if distribution == Batch.Distribution.PUSH:
            Assignment.objects.bulk_create(_balanced_assignments(batch, samples, annotators))
    return batch


def _balanced_assignments(
    batch: Batch, samples: Sequence[Sample], annotators: Sequence[User]
) -> list[Assignment]:
    # Item i goes to annotators i*k … i*k+k-1 (mod n): every item gets k distinct people and
    # every annotator's load differs from another's by at most one.
    count = len(annotators)
    return [
        Assignment(
            batch=batch, sample=sample, annotator=annotators[(index * batch.overlap + j) % count]
        )
        for index, sample in enumerate(samples)
        for j in range(batch.overlap)
    ]


def batch_transition(*, batch: Batch, to: str) -> Batch:
    check_transition(batch, current=batch.status, target=to, allowed=Batch.TRANSITIONS)
    batch.status = to
    batch.save(update_fields=["status", "updated_at"])
    return batch


def assignment_transition(*, assignment: Assignment, to: str) -> Assignment:
    check_transition(
        assignment, current=assignment.status, target=to, allowed=Assignment.TRANSITIONS
    )
    assignment.status = to
    assignment.save(update_fields=["status", "updated_at"])
    return assignment
