"""factory_boy factories for every app: tests build what they need, no hand-written fixtures."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from annotate.models import (
    ANNOTATORS_GROUP,
    AnnotatorLanguage,
    AnnotatorProfile,
    Assignment,
    Batch,
    BatchItem,
    Proficiency,
)
from evaluation.models import Dimension, Judge, Rater, Rating
from synth.models import ModelEndpoint, Sample, Source
from synth.services import content_hash

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(user, create, extracted, **kwargs):
        if create:
            user.save()


class StaffFactory(UserFactory):
    is_staff = True
    is_superuser = True


class AnnotatorProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AnnotatorProfile

    user = factory.SubFactory(UserFactory)


class AnnotatorFactory(UserFactory):
    """A user in the annotators group; ``languages={"hi": Proficiency.NATIVE}``."""

    @factory.post_generation
    def languages(user, create, extracted, **kwargs):
        if not create:
            return
        user.groups.add(Group.objects.get_or_create(name=ANNOTATORS_GROUP)[0])
        profile = AnnotatorProfileFactory(user=user)
        for code, proficiency in (extracted or {"hi": Proficiency.NATIVE}).items():
            AnnotatorLanguage.objects.create(
                profile=profile, language=code, proficiency=proficiency
            )


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    kind = Source.Kind.WIKIPEDIA
    language = "hi"
    title = factory.Sequence(lambda n: f"पृष्ठ {n}")
    text = factory.Sequence(lambda n: f"यह एक अनुच्छेद है जिसकी संख्या {n} है।")
    content_hash = factory.LazyAttribute(lambda s: content_hash(s.kind, s.language, s.text))


class ModelEndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelEndpoint

    name = factory.Sequence(lambda n: f"endpoint-{n}")
    backend = ModelEndpoint.Backend.TRANSFORMERS
    model = "tiny-random"


class SampleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sample

    language = "hi"
    task_type = "creative_writing"
    messages = factory.Sequence(
        lambda n: [
            {"role": "user", "content": f"दिवाली पर एक छोटी कविता लिखिए ({n})।"},
            {"role": "assistant", "content": "दीपों की कतारें जगमग करती हैं, घर-आँगन में खुशियाँ भरती हैं।"},
        ]
    )
    generator = "test-model"
    content_hash = factory.Sequence(lambda n: content_hash("test-sample", n))


class DimensionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dimension
        django_get_or_create = ["slug"]

    slug = factory.Sequence(lambda n: f"dimension_{n}")
    name = factory.LazyAttribute(lambda d: d.slug.replace("_", " ").title())
    guidelines = "Score what you see."
    scale_min = 0
    scale_max = 2
    task_types = ["*"]
    anchors = factory.LazyAttribute(
        lambda d: {str(v): f"level {v}" for v in range(d.scale_min, d.scale_max + 1)}
    )


class JudgeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Judge

    name = factory.Sequence(lambda n: f"judge-{n}")
    endpoint = factory.SubFactory(ModelEndpointFactory)
    prompt_version = "v1"
    params = {"temperature": 0}


class HumanRaterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rater
        django_get_or_create = ["user"]

    kind = Rater.Kind.HUMAN
    user = factory.SubFactory(UserFactory)


class JudgeRaterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rater
        django_get_or_create = ["judge"]

    kind = Rater.Kind.LLM
    judge = factory.SubFactory(JudgeFactory)


class RatingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rating

    sample = factory.SubFactory(SampleFactory)
    dimension = factory.SubFactory(DimensionFactory)
    rater = factory.SubFactory(HumanRaterFactory)
    value = 1


class BatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Batch

    name = factory.Sequence(lambda n: f"Batch {n}")
    language = "hi"
    overlap = 2
    status = Batch.Status.OPEN


class BatchItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BatchItem

    batch = factory.SubFactory(BatchFactory)
    sample = factory.SubFactory(SampleFactory)


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assignment

    batch = factory.SubFactory(BatchFactory)
    sample = factory.SubFactory(SampleFactory)
    annotator = factory.SubFactory(AnnotatorFactory)


class ArenaPromptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "evaluation.ArenaPrompt"

    external_id = factory.Sequence(lambda n: f"prompt-{n}")
    language = "hi"
    domain = "healthcare"
    text = factory.Sequence(lambda n: f"प्रश्न {n}: बुखार में क्या करें?")


class ArenaResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "evaluation.ArenaResponse"

    prompt = factory.SubFactory(ArenaPromptFactory)
    model_name = factory.Sequence(lambda n: f"model-{n}")
    text = factory.Sequence(lambda n: f"उत्तर {n}")


class ComparisonFactory(factory.django.DjangoModelFactory):
    """Two responses of models ``left`` and ``right`` to a new prompt; left shown first."""

    class Meta:
        model = "evaluation.Comparison"

    class Params:
        language = "hi"
        left = "alpha"
        right = "beta"

    prompt = factory.SubFactory(ArenaPromptFactory, language=factory.SelfAttribute("..language"))
    response_a = factory.LazyAttribute(
        lambda o: ArenaResponseFactory(prompt=o.prompt, model_name=o.left)
    )
    response_b = factory.LazyAttribute(
        lambda o: ArenaResponseFactory(prompt=o.prompt, model_name=o.right)
    )
