"""The quality filters, on replies a native speaker would recognise."""

import json
from pathlib import Path

import pytest

from synth.filters import back_translation_chrf, repetition_ratio, run_filters
from synth.models import ModelEndpoint, Sample, Source
from synth.services import sample_filter, samples_filter_near_duplicates
from tests.factories import SampleFactory
from tests.synth.test_backends import ChatServer, Reply

pytestmark = pytest.mark.django_db

DEMO_DATA = Path(__file__).resolve().parents[2] / "annotate" / "demo_data"
REPORT_KEYS = {"value", "threshold", "passed", "detail"}


def demo_sample(key: str) -> Sample:
    language = key.split("-")[0]
    data = json.loads((DEMO_DATA / f"{language}.json").read_text(encoding="utf-8"))
    record = next(s for s in data["samples"] if s["key"] == key)
    return SampleFactory(
        language=language, task_type=record["task_type"], messages=record["messages"]
    )


def reply(language: str, text: str, task_type: str = "creative_writing") -> Sample:
    return SampleFactory(
        language=language,
        task_type=task_type,
        messages=[
            {"role": "user", "content": "एक छोटा उत्तर लिखिए।"},
            {"role": "assistant", "content": text},
        ],
    )


HINDI = "बारिश के मौसम में गाँव की सड़कें कीचड़ से भर जाती हैं और बच्चे काग़ज़ की नावें चलाते हैं।"
MARATHI = "पावसाळ्यात गावातले रस्ते चिखलाने भरून जातात आणि मुले कागदाच्या होड्या सोडतात."
NEPALI = "बर्खायाममा गाउँका बाटाहरू हिलोले भरिन्छन् र केटाकेटीहरू कागजका डुङ्गा चलाउँछन्।"
BENGALI = "বর্ষাকালে গ্রামের রাস্তাগুলো কাদায় ভরে যায় আর ছেলেমেয়েরা কাগজের নৌকা ভাসায়।"
ASSAMESE = "বাৰিষা কালত গাঁৱৰ ৰাস্তাবোৰ বোকাৰে ভৰি পৰে আৰু ল'ৰা-ছোৱালীয়ে কাগজৰ নাও উটুৱায়।"
ODIA = "ବର୍ଷା ଦିନେ ଗାଁର ରାସ୍ତା କାଦୁଅରେ ଭରିଯାଏ ଏବଂ ପିଲାମାନେ କାଗଜ ଡଙ୍ଗା ଭସାନ୍ତି।"
URDU = "برسات کے موسم میں گاؤں کی سڑکیں کیچڑ سے بھر جاتی ہیں اور بچے کاغذ کی کشتیاں چلاتے ہیں۔"
ENGLISH = "During the monsoon the village roads fill with mud and children float paper boats."
HINGLISH = (
    "Barish ke mausam mein gaon ki sadkein keechad se bhar jaati hain aur bachche naav chalate."
)


@pytest.mark.parametrize(
    ("language", "text", "passes"),
    [
        ("hi", HINDI, True),
        ("mr", MARATHI, True),
        ("ne", NEPALI, True),
        ("hi", MARATHI, False),
        ("hi", NEPALI, False),
        ("mr", HINDI, False),
        ("ne", HINDI, False),
        ("bn", BENGALI, True),
        ("as", ASSAMESE, True),
        ("as", BENGALI, False),
        ("bn", ASSAMESE, False),
        ("or", ODIA, True),
        ("ur", URDU, True),
        ("en", ENGLISH, True),
        ("en", HINGLISH, False),
    ],
)
def test_the_language_filter_tells_apart_languages_that_share_a_script(language, text, passes):
    report = run_filters(reply(language, text))
    assert report["language"]["passed"] is passes, report["language"]["detail"]
    assert (report["language"]["value"] >= 0.75) is passes
    # The script alone cannot tell these apart: it passes either way.
    assert report["script"]["passed"] is True


def test_a_rejected_language_names_the_language_it_found():
    entry = run_filters(reply("ne", HINDI))["language"]
    assert "Nepali expected; most likely hi" in entry["detail"]


def test_a_nepali_reply_that_slides_into_hindi_is_rejected_though_its_script_is_right():
    report = run_filters(demo_sample("ne-07"))
    assert report["script"]["passed"] is True
    assert report["language"]["passed"] is False


def test_an_assamese_reply_that_slides_into_bengali_is_rejected():
    report = run_filters(demo_sample("as-07"))
    assert report["language"]["passed"] is False
    assert "most likely bn" in report["language"]["detail"]
    assert run_filters(demo_sample("as-01"))["language"]["passed"] is True


@pytest.mark.parametrize("key", ["hi-05", "gu-07", "pa-06", "bn-07"])
def test_a_reply_that_drifts_into_english_is_rejected(key):
    report = run_filters(demo_sample(key))
    assert report["script"]["passed"] is False
    assert report["language"]["passed"] is False
    assert report["language"]["value"] < 0.75


def test_odia_and_urdu_fail_when_the_reply_is_in_another_script():
    assert run_filters(reply("or", ENGLISH))["language"]["passed"] is False
    assert run_filters(reply("ur", HINDI))["language"]["value"] == 0.0


def test_the_answer_of_a_translation_into_english_is_checked_as_english():
    sample = SampleFactory(
        language="hi",
        task_type="translation_xx_en",
        messages=[
            {"role": "user", "content": f"इसका अंग्रेज़ी में अनुवाद कीजिए: {HINDI}"},
            {"role": "assistant", "content": ENGLISH},
        ],
    )
    report = run_filters(sample)
    assert report["script"]["passed"] and report["language"]["passed"]
    assert "English expected" in report["language"]["detail"]


def test_the_repetition_ratio_counts_occurrences_of_repeated_word_bigrams():
    # Bigrams: (the cat) (cat sat) (sat the) (the cat) (cat ran): "the cat" occurs twice.
    assert repetition_ratio("The cat sat, the cat ran.", 2) == (0.4, 2, 5)
    assert repetition_ratio("एक", 2) == (0.0, 0, 0)


def test_a_looping_reply_is_rejected_for_repetition_and_a_normal_one_passes():
    looping = run_filters(demo_sample("ml-07"))["repetition"]
    assert looping["passed"] is False and looping["value"] >= 0.75
    assert looping["threshold"] == 0.75
    assert run_filters(demo_sample("ml-01"))["repetition"]["passed"] is True


def test_a_too_short_reply_is_rejected_for_its_length_and_the_bounds_are_settings(settings):
    sample = reply("hi", "उत्तर: ख", task_type="logical_reasoning")
    entry = run_filters(sample)["length"]
    assert entry == {
        "value": 8,
        "threshold": [100, 8000],
        "passed": False,
        "detail": "8 characters, fewer than 100",
    }
    settings.PARAKH_FILTERS = {
        **settings.PARAKH_FILTERS,
        "length_bounds": {"logical_reasoning": [5, 50]},
    }
    assert run_filters(sample)["length"]["passed"] is True


def test_thresholds_are_read_from_the_settings(settings):
    sample = reply("hi", HINDI)
    settings.PARAKH_FILTERS = {**settings.PARAKH_FILTERS, "repetition_ratio_max": 0.0}
    report = run_filters(sample)
    assert report["repetition"]["threshold"] == 0.0 and report["repetition"]["passed"] is False


def test_every_filter_reports_value_threshold_verdict_and_detail():
    report = run_filters(demo_sample("hi-01"))
    assert set(report) == {"script", "language", "repetition", "length"}
    for name, entry in report.items():
        assert set(entry) == REPORT_KEYS, name
        assert entry["passed"] is True and entry["detail"]


def test_sample_filter_rejects_a_bad_sample_and_keeps_it_with_its_reasons():
    bad = demo_sample("ml-07")
    good = demo_sample("ml-01")
    sample_filter(sample_id=bad.pk)
    sample_filter(sample_id=good.pk)
    bad.refresh_from_db()
    good.refresh_from_db()
    assert bad.status == Sample.Status.REJECTED
    assert bad.filter_report["repetition"]["passed"] is False
    assert "58 of 64 word 2-grams" in bad.filter_report["repetition"]["detail"]
    assert good.status == Sample.Status.PASSED
    assert Sample.objects.filter(pk=bad.pk).exists()


def _filtered(language: str, text: str) -> Sample:
    sample = reply(language, text)
    return sample_filter(sample_id=sample.pk)


def test_a_near_duplicate_is_rejected_naming_the_earlier_sample_and_the_first_stays():
    poem = (
        "दीपों की कतारें जगमग करती हैं, घर-आँगन में खुशियाँ भरती हैं। "
        "माँ ने रंगोली सजाई, बच्चों ने फुलझड़ियाँ जलाईं, मिठाइयों की खुशबू हर गली में फैल गई। "
        "दादी ने लक्ष्मी पूजा की कथा सुनाई और सबने मिलकर आरती गाई।"
    )
    first = _filtered("hi", poem)
    # The same poem with one word changed and different spacing.
    again = _filtered("hi", poem.replace("दादी", "नानी").replace(" ", "  ", 3))
    other = _filtered("hi", HINDI)
    nepali_copy = _filtered("ne", NEPALI)
    _filtered("ne", NEPALI + " ")  # another language's samples are compared separately

    counts = samples_filter_near_duplicates(language="hi")
    assert counts == {"checked": 3, "updated": 3, "duplicates": 1}
    for sample in (first, again, other, nepali_copy):
        sample.refresh_from_db()
    assert first.status == Sample.Status.PASSED and other.status == Sample.Status.PASSED
    assert again.status == Sample.Status.REJECTED
    entry = again.filter_report["near_duplicate"]
    assert entry["passed"] is False and entry["value"] >= 0.8 and entry["threshold"] == 0.8
    assert f"near-duplicate of sample {first.pk}" in entry["detail"]
    assert first.filter_report["near_duplicate"]["passed"] is True
    assert again.filter_report["language"]["passed"] is True  # the other verdicts stay
    assert "near_duplicate" not in nepali_copy.filter_report

    assert samples_filter_near_duplicates(language="hi")["updated"] == 0


def test_a_duplicate_of_a_rejected_sample_is_not_kept_out_by_it():
    looping = demo_sample("ml-07")
    sample_filter(sample_id=looping.pk)
    copy = demo_sample("ml-07")  # same messages, its own row
    Sample.objects.filter(pk=copy.pk).update(content_hash="f" * 64)
    sample_filter(sample_id=copy.pk)
    samples_filter_near_duplicates(language="ml")
    copy.refresh_from_db()
    assert "no earlier near-duplicate" in copy.filter_report["near_duplicate"]["detail"]
    assert copy.status == Sample.Status.REJECTED  # for its own repetition


def test_chrf_of_a_back_translation_is_high_for_a_faithful_one_and_low_for_another_text():
    source = "The village roads fill with mud during the monsoon."
    assert back_translation_chrf(source, source) == 100.0
    faithful = back_translation_chrf("During the monsoon the village roads fill with mud.", source)
    unrelated = back_translation_chrf("My grandmother sings at the harvest festival.", source)
    assert faithful > 60 > 30 > unrelated


def _translation_sample() -> Sample:
    source = Source.objects.create(
        kind="reasoning", language="en", text=ENGLISH, content_hash="e" * 64
    )
    return SampleFactory(
        language="hi",
        task_type="translation_en_xx",
        source=source,
        messages=[
            {"role": "user", "content": f"इसका हिंदी में अनुवाद कीजिए: {ENGLISH}"},
            {"role": "assistant", "content": HINDI},
        ],
    )


def test_back_translation_says_not_configured_without_an_endpoint():
    entry = run_filters(_translation_sample())["back_translation"]
    assert entry["value"] is None and entry["passed"] is True
    assert entry["detail"].startswith("not configured")
    assert "back_translation" not in run_filters(reply("hi", HINDI))


def test_back_translation_scores_the_endpoints_translation_against_the_source(settings):
    settings.PARAKH_FILTERS = {**settings.PARAKH_FILTERS, "back_translation_endpoint": "bt"}
    sample = _translation_sample()
    answer = "During the monsoon the roads of the village fill with mud and children sail boats."
    with ChatServer(lambda body, n: Reply(content=answer)) as server:
        ModelEndpoint.objects.create(
            name="bt", backend="openai", model="translator", base_url=server.base_url
        )
        entry = run_filters(sample)["back_translation"]
    [request] = server.requests
    assert request["body"]["messages"][-1]["content"] == HINDI
    assert "into English" in request["body"]["messages"][0]["content"]
    assert entry["value"] == back_translation_chrf(answer, ENGLISH)
    assert entry["passed"] is (entry["value"] >= 50.0)
    assert "by bt against the source" in entry["detail"]


def test_a_sample_whose_filters_raise_holds_back_none_of_its_batch(monkeypatch):
    from synth.services import samples, samples_filter

    batch = SampleFactory.create_batch(3)
    real = samples.run_filters

    def broken_on_the_first(sample):
        if sample.pk == batch[0].pk:
            raise RuntimeError("a filter crashed")
        return real(sample)

    monkeypatch.setattr(samples, "run_filters", broken_on_the_first)
    with pytest.raises(RuntimeError, match="a filter crashed"):
        samples_filter(sample_ids=[s.pk for s in batch])
    statuses = {s.pk: s.status for s in Sample.objects.filter(pk__in=[s.pk for s in batch])}
    assert statuses[batch[0].pk] == Sample.Status.GENERATED
    assert statuses[batch[1].pk] != Sample.Status.GENERATED
    assert statuses[batch[2].pk] != Sample.Status.GENERATED
