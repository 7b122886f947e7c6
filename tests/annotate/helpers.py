"""Building blocks for the annotation tests: a batch on the seeded rubric."""

from annotate.models import Batch, Proficiency
from annotate.services import batch_create, batch_transition
from evaluation.models import Dimension
from tests.factories import AnnotatorFactory, SampleFactory

RUBRIC = ["fluency", "cultural_fidelity", "instruction_adherence"]
FLAGS = ["flag_wrong_language", "flag_offensive", "flag_broken_text"]


def open_batch(*, annotators, samples=None, size=3, overlap=1, language="hi", **kwargs) -> Batch:
    samples = samples or SampleFactory.create_batch(size, language=language)
    batch = batch_create(
        name=kwargs.pop("name", f"Batch {samples[0].pk}"),
        language=language,
        dimensions=list(Dimension.objects.filter(slug__in=RUBRIC + FLAGS)),
        samples=samples,
        annotators=annotators,
        overlap=overlap,
        **kwargs,
    )
    return batch_transition(batch=batch, to=Batch.Status.OPEN)


def annotator(username: str, language: str = "hi"):
    return AnnotatorFactory(username=username, languages={language: Proficiency.NATIVE})


def full_scores(value: int = 2) -> dict[str, str]:
    return {f"score-{slug}": str(value) for slug in RUBRIC}
