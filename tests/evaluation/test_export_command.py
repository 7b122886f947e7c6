"""python manage.py export: synchronous, prints the manifest summary, names bad arguments."""

import json
from io import StringIO

import pyarrow.parquet as pq
import pytest
from django.core.management import CommandError, call_command

from evaluation.models import Dimension
from tests.factories import HumanRaterFactory, RatingFactory, SampleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rated():
    fluency = Dimension.objects.get(slug="fluency")
    fidelity = Dimension.objects.get(slug="cultural_fidelity")
    raters = [HumanRaterFactory(), HumanRaterFactory()]
    made = {
        "hi_good": SampleFactory(language="hi"),
        "ta_good": SampleFactory(language="ta"),
        "ta_low": SampleFactory(language="ta"),
        "bn": SampleFactory(language="bn"),
    }
    scores = {"hi_good": (2, 2), "ta_good": (2, 2), "ta_low": (2, 1), "bn": (2, 2)}
    for name, sample in made.items():
        for rater, value in zip(raters, scores[name], strict=True):
            RatingFactory(sample=sample, dimension=fluency, rater=rater, value=value)
            RatingFactory(sample=sample, dimension=fidelity, rater=rater, value=2)
    return made


def run(*args: str) -> str:
    out = StringIO()
    call_command("export", *args, stdout=out)
    return out.getvalue()


def test_the_documented_command_line(tmp_path, rated):
    output = run(
        "--languages", "hi,ta",
        "--dimensions", "fluency,cultural_fidelity",
        "--min-score", "fluency=2",
        "--format", "jsonl,parquet,updesh",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert "Exported 2 of 3 candidate samples" in output
    assert "Languages: hi 1, ta 1" in output
    assert "Alpha cultural_fidelity (ordinal): not computable" in output
    assert "samples.parquet" in output
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["criteria"]["min_scores"] == {"fluency": 2}
    lines = (tmp_path / "samples.jsonl").read_text(encoding="utf-8").splitlines()
    ids = {json.loads(line)["id"] for line in lines}
    assert ids == {rated["hi_good"].pk, rated["ta_good"].pk}
    assert (
        pq.read_table(tmp_path / "updesh" / "creative_writing" / "tam_Taml.parquet").num_rows == 1
    )


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--dimensions", "fluency", "--languages", "hi,klingon"], "klingon"),
        (["--dimensions", "fluency,sparkle"], "sparkle"),
        (["--dimensions", "fluency", "--min-score", "fluency:2"], "fluency:2"),
        (["--dimensions", "fluency", "--min-score", "fluency=9"], "fluency=9"),
        (["--dimensions", "fluency", "--format", "jsonl,csv"], "csv"),
        (["--dimensions", "fluency", "--judge", "nobody"], "nobody"),
    ],
)
def test_bad_arguments_are_named(tmp_path, args, named):
    with pytest.raises(CommandError) as raised:
        run(*args, "--out", str(tmp_path / "out"))
    assert named in str(raised.value)
    assert not (tmp_path / "out" / "manifest.json").exists()
