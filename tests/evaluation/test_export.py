"""The agreed-subset export: which samples pass, the files written, the manifest."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

import parakh
from evaluation import agreement
from evaluation.export import ExportCriteria, export_write
from evaluation.models import Dimension
from evaluation.services import rater_adjudicated
from tests.factories import (
    HumanRaterFactory,
    JudgeRaterFactory,
    RatingFactory,
    SampleFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db


def rate(sample, slug: str, *values: int, rater=None) -> None:
    dimension = Dimension.objects.get(slug=slug)
    for index, value in enumerate(values):
        who = rater or HumanRaterFactory(user__username=f"annotator-{index}")
        RatingFactory(sample=sample, dimension=dimension, rater=who, value=value)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def samples():
    """One sample per rule of the default criteria, named by what it shows."""
    made = {
        name: SampleFactory()
        for name in ("agreed", "spread", "single", "adjudicated", "even", "flagged", "low")
    }
    rate(made["agreed"], "fluency", 2, 2)
    rate(made["spread"], "fluency", 0, 2)
    rate(made["single"], "fluency", 2)
    rate(made["adjudicated"], "fluency", 0, 2)
    rate(made["adjudicated"], "fluency", 2, rater=rater_adjudicated())
    rate(made["even"], "fluency", 1, 2)
    rate(made["flagged"], "fluency", 2, 2)
    rate(made["flagged"], "flag_offensive", 1)
    rate(made["low"], "fluency", 0, 1)
    return made


def exported(tmp_path, criteria: ExportCriteria, formats=("jsonl",)) -> dict:
    manifest = export_write(criteria=criteria, formats=list(formats), directory=tmp_path)
    rows = read_jsonl(tmp_path / "samples.jsonl") if "jsonl" in formats else []
    return {"manifest": manifest, "rows": {row["id"]: row for row in rows}}


def test_default_rules_keep_agreed_unflagged_items(tmp_path, samples):
    result = exported(tmp_path, ExportCriteria(dimensions=("fluency",)))
    ids = {name for name, sample in samples.items() if sample.pk in result["rows"]}
    # spread: 0 and 2 disagree; single: one rating; flagged: a human flagged it.
    assert ids == {"agreed", "adjudicated", "even", "low"}
    scores = {name: result["rows"][samples[name].pk]["scores"]["fluency"] for name in ids}
    # Even counts take the lower median; the adjudicated value beats the humans' median 0.
    assert scores == {"agreed": 2, "adjudicated": 2, "even": 1, "low": 0}


def test_minimum_score_uses_the_consensus(tmp_path, samples):
    criteria = ExportCriteria(dimensions=("fluency",), min_scores={"fluency": 2})
    result = exported(tmp_path, criteria)
    assert set(result["rows"]) == {samples["agreed"].pk, samples["adjudicated"].pk}


def test_stricter_agreement_and_more_raters(tmp_path, samples):
    rows = exported(tmp_path, ExportCriteria(dimensions=("fluency",), max_spread=0))["rows"]
    assert set(rows) == {samples["agreed"].pk, samples["adjudicated"].pk}
    rows = exported(tmp_path, ExportCriteria(dimensions=("fluency",), min_human_ratings=1))["rows"]
    assert samples["single"].pk in rows


def test_flagged_items_stay_when_asked(tmp_path, samples):
    rows = exported(tmp_path, ExportCriteria(dimensions=("fluency",), exclude_flagged=False))[
        "rows"
    ]
    assert samples["flagged"].pk in rows


def test_every_chosen_dimension_must_agree(tmp_path, samples):
    rate(samples["agreed"], "cultural_fidelity", 2, 2)
    rate(samples["even"], "cultural_fidelity", 0, 2)
    rows = exported(tmp_path, ExportCriteria(dimensions=("fluency", "cultural_fidelity")))["rows"]
    assert set(rows) == {samples["agreed"].pk}
    assert rows[samples["agreed"].pk]["scores"] == {"fluency": 2, "cultural_fidelity": 2}


def test_judge_must_agree_within_tolerance(tmp_path, samples):
    judge = JudgeRaterFactory()
    rate(samples["agreed"], "fluency", 1, rater=judge)  # consensus 2: within ±1
    rate(samples["even"], "fluency", 0, rater=judge)  # consensus 1: within ±1
    rate(samples["low"], "fluency", 2, rater=judge)  # consensus 0: two apart
    criteria = ExportCriteria(dimensions=("fluency",), judge=judge.judge.name)
    rows = exported(tmp_path, criteria)["rows"]
    # The adjudicated sample has no judge rating, so the judge cannot agree with it.
    assert set(rows) == {samples["agreed"].pk, samples["even"].pk}
    strict = ExportCriteria(dimensions=("fluency",), judge=judge.judge.name, judge_tolerance=0)
    assert exported(tmp_path, strict)["rows"] == {}


def test_languages_task_types_and_rejected_samples(tmp_path):
    tamil = SampleFactory(language="ta", task_type="summarization")
    hindi = SampleFactory(language="hi")
    rejected = SampleFactory(language="ta", task_type="summarization", status="rejected")
    for sample in (tamil, hindi, rejected):
        rate(sample, "fluency", 2, 2)
    criteria = ExportCriteria(dimensions=("fluency",), languages=("ta",))
    rows = exported(tmp_path, criteria)["rows"]
    assert set(rows) == {tamil.pk}
    assert rows[tamil.pk]["flores"] == "tam_Taml"
    criteria = ExportCriteria(dimensions=("fluency",), task_types=("creative_writing",))
    assert set(exported(tmp_path, criteria)["rows"]) == {hindi.pk}
    criteria = ExportCriteria(dimensions=("fluency",), include_rejected=True)
    assert set(exported(tmp_path, criteria)["rows"]) == {tamil.pk, hindi.pk, rejected.pk}


def test_jsonl_line_carries_messages_and_provenance(tmp_path):
    source = SourceFactory(url="https://hi.wikipedia.org/wiki/दिवाली", title="दिवाली")
    sample = SampleFactory(source=source, generator="gpt-oss-120b", template_version="v3")
    rate(sample, "fluency", 2, 2)
    path = tmp_path / "samples.jsonl"
    export_write(
        criteria=ExportCriteria(dimensions=("fluency",)), formats=["jsonl"], directory=tmp_path
    )
    # Non-ASCII text is written as such, one sample a line.
    assert "दिवाली" in path.read_text(encoding="utf-8")
    (row,) = read_jsonl(path)
    assert row == {
        "id": sample.pk,
        "messages": sample.messages,
        "language": "hi",
        "flores": "hin_Deva",
        "task_type": "creative_writing",
        "scores": {"fluency": 2},
        "provenance": {
            "generator": "gpt-oss-120b",
            "template_version": "v3",
            "source_url": source.url,
            "source_title": "दिवाली",
            "job_id": None,
        },
    }


def test_parquet_is_written_in_row_groups(tmp_path, settings):
    settings.PARAKH_EXPORT_ROW_GROUP_SIZE = 2
    made = SampleFactory.create_batch(5)
    for sample in made:
        rate(sample, "fluency", 2, 1)
    export_write(
        criteria=ExportCriteria(dimensions=("fluency",)),
        formats=["jsonl", "parquet"],
        directory=tmp_path,
    )
    parquet = pq.ParquetFile(tmp_path / "samples.parquet")
    assert parquet.metadata.num_rows == 5
    assert parquet.metadata.num_row_groups == 3
    assert parquet.read().to_pylist() == read_jsonl(tmp_path / "samples.jsonl")


def test_chunks_decide_alike_with_few_queries(tmp_path, settings, samples):
    big = exported(tmp_path / "big", ExportCriteria(dimensions=("fluency",)))["rows"]
    settings.PARAKH_EXPORT_CHUNK_SIZE = 2
    extra = SampleFactory.create_batch(13)
    for sample in extra:
        rate(sample, "fluency", 2, 2)
    with CaptureQueriesContext(connection) as queries:
        small = exported(tmp_path / "small", ExportCriteria(dimensions=("fluency",)))["rows"]
    assert set(small) == set(big) | {sample.pk for sample in extra}
    # 20 samples in 10 chunks: one ratings query per chunk, never one per sample.
    ratings_queries = [q for q in queries.captured_queries if "evaluation_rating" in q["sql"]]
    assert len(ratings_queries) == 10


def test_manifest_counts_hashes_and_version(tmp_path):
    cells = [("hi", "creative_writing"), ("hi", "summarization"), ("ta", "creative_writing")]
    for language, task_type in cells:
        sample = SampleFactory(language=language, task_type=task_type)
        rate(sample, "fluency", 2, 2)
    manifest = export_write(
        criteria=ExportCriteria(dimensions=("fluency",)),
        formats=["jsonl", "parquet", "updesh"],
        directory=tmp_path,
    )
    assert manifest == json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["app_version"] == parakh.__version__
    assert manifest["criteria"]["dimensions"] == ["fluency"]
    assert manifest["criteria"]["min_human_ratings"] == 2
    assert manifest["counts"]["languages"] == {"hi": 2, "ta": 1}
    assert manifest["counts"]["task_types"] == {"creative_writing": 2, "summarization": 1}
    names = [entry["name"] for entry in manifest["files"]]
    assert names == [
        "samples.jsonl",
        "samples.parquet",
        "updesh/creative_writing/hin_Deva.parquet",
        "updesh/creative_writing/tam_Taml.parquet",
        "updesh/summarization/hin_Deva.parquet",
    ]
    for entry in manifest["files"]:
        content = (tmp_path / entry["name"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(content).hexdigest()
        assert entry["bytes"] == len(content)
    # Every human gave 2: agreement is not defined on one value, and the manifest says so.
    assert manifest["alpha"]["fluency"]["value"] is None
    assert manifest["alpha"]["fluency"]["reason"] == agreement.ONE_VALUE


def test_manifest_alpha_matches_krippendorff_on_the_exported_subset(tmp_path, settings):
    settings.PARAKH_EXPORT_CHUNK_SIZE = 3
    rng = np.random.default_rng(7)
    rows = []
    for _ in range(25):
        sample = SampleFactory()
        values = [int(v) for v in rng.integers(0, 3, size=int(rng.integers(2, 4)))]
        rate(sample, "fluency", *values)
        if max(values) - min(values) <= 1:
            rows.append(values)
    manifest = export_write(
        criteria=ExportCriteria(dimensions=("fluency",)), formats=["jsonl"], directory=tmp_path
    )
    units = np.repeat(np.arange(len(rows)), [len(r) for r in rows])
    counts = agreement.value_counts(units, np.concatenate(rows), [0, 1, 2])
    expected = agreement.alpha(counts, level="ordinal", categories=[0, 1, 2])
    result = manifest["alpha"]["fluency"]
    assert result["value"] == pytest.approx(expected.value)
    assert (result["units"], result["ratings"]) == (expected.n_units, expected.n_ratings)
    assert result["level"] == "ordinal"
    assert manifest["counts"]["samples"] == len(rows)


def test_empty_subset_says_why_alpha_is_missing(tmp_path):
    manifest = export_write(
        criteria=ExportCriteria(dimensions=("fluency",)),
        formats=["jsonl", "parquet"],
        directory=tmp_path,
    )
    assert manifest["counts"]["samples"] == 0
    assert manifest["alpha"]["fluency"]["reason"] == agreement.NO_RATINGS
    assert (tmp_path / "samples.jsonl").read_text() == ""
    assert pq.ParquetFile(tmp_path / "samples.parquet").metadata.num_rows == 0


def test_updesh_layout_loads_with_datasets(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    hindi = SampleFactory(language="hi")
    urdu = SampleFactory(
        language="ur",
        messages=[
            {"role": "user", "content": "عید پر ایک نظم لکھیے۔"},
            {"role": "assistant", "content": "عید مبارک"},
        ],
    )
    for sample in (hindi, urdu):
        rate(sample, "fluency", 2, 2)
    out = tmp_path / "export"
    export_write(
        criteria=ExportCriteria(dimensions=("fluency",)), formats=["updesh"], directory=out
    )
    import datasets

    config = out / "updesh" / "creative_writing"
    loaded = datasets.load_dataset(
        "parquet",
        data_files={
            "hin_Deva": str(config / "hin_Deva.parquet"),
            "urd_Arab": str(config / "urd_Arab.parquet"),
        },
        cache_dir=str(tmp_path / "cache"),
    )
    assert set(loaded) == {"hin_Deva", "urd_Arab"}
    assert loaded["hin_Deva"][0]["id"] == hindi.pk
    assert loaded["urd_Arab"][0]["messages"] == urdu.messages
    assert loaded["urd_Arab"][0]["scores"] == {"fluency": 2}


@pytest.mark.parametrize(
    ("criteria", "field", "named"),
    [
        (ExportCriteria(dimensions=("fluenc",)), "dimensions", "fluenc"),
        (ExportCriteria(dimensions=()), "dimensions", "at least one"),
        (ExportCriteria(dimensions=("flag_offensive",)), "dimensions", "flag_offensive"),
        (ExportCriteria(dimensions=("fluency",), languages=("xx",)), "languages", "xx"),
        (ExportCriteria(dimensions=("fluency",), task_types=("poems",)), "task_types", "poems"),
        (
            ExportCriteria(dimensions=("fluency",), min_scores={"fluency": 5}),
            "min_scores",
            "fluency=5",
        ),
        (
            ExportCriteria(dimensions=("fluency",), min_scores={"toxicity": 1}),
            "min_scores",
            "toxicity",
        ),
        (ExportCriteria(dimensions=("fluency",), judge="nobody"), "judge", "nobody"),
        (ExportCriteria(dimensions=("fluency",), min_human_ratings=0), "min_human_ratings", "1"),
    ],
)
def test_bad_criteria_are_named(tmp_path, criteria, field, named):
    with pytest.raises(ValidationError) as raised:
        export_write(criteria=criteria, formats=["jsonl"], directory=tmp_path)
    assert named in " ".join(raised.value.message_dict[field])
    assert not (tmp_path / "manifest.json").exists()


def test_criteria_round_trip_and_bad_shapes():
    criteria = ExportCriteria(
        dimensions=("fluency",), languages=("hi",), min_scores={"fluency": 1}, judge="j"
    )
    assert ExportCriteria.from_dict(criteria.to_dict()) == criteria
    with pytest.raises(ValidationError) as raised:
        ExportCriteria.from_dict({"dimensions": "fluency", "max_spread": "1", "colour": 1})
    assert "colour" in str(raised.value)
    with pytest.raises(ValidationError) as raised:
        ExportCriteria.from_dict({"dimensions": "fluency", "max_spread": "1"})
    assert set(raised.value.message_dict) == {"dimensions", "max_spread"}
