"""Pull claims under contention on PostgreSQL: k holds, nobody gets a sample twice."""

import threading
from collections import Counter

import pytest
from django.db import connection, connections, transaction

from annotate.models import Assignment
from annotate.services import assignment_claim
from tests.annotate.helpers import annotator, open_batch
from tests.annotate.seed import reseed

pytestmark = pytest.mark.django_db(transaction=True)

ANNOTATORS = 50
CLAIMS_EACH = 4  # 200 claims in all
K = 3


# 70 items: 210 places, every claim succeeds; 50 items: 150 places, 50 claims find nothing.
@pytest.mark.parametrize("items,expected", [(70, 200), (50, 150)])
def test_200_simultaneous_claims_from_50_annotators_keep_k_and_no_duplicates(items, expected):
    assert connection.vendor == "postgresql"
    reseed()
    people = [annotator(f"c{i:02d}") for i in range(ANNOTATORS)]
    batch = open_batch(annotators=people, size=items, overlap=K, distribution="pull")
    start = threading.Barrier(ANNOTATORS)
    claimed: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(person) -> None:
        try:
            start.wait()
            for _ in range(CLAIMS_EACH):
                # One transaction per claim, like one request; the claim is then "submitted"
                # so the next call claims a new item instead of returning the held one.
                with transaction.atomic():
                    assignment = assignment_claim(batch=batch, annotator=person)
                    if assignment is None:
                        continue
                    Assignment.objects.filter(pk=assignment.pk).update(status="skipped")
                with lock:
                    claimed.append(assignment.pk)
        except BaseException as error:  # surfaced by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(claimed) == expected
    rows = list(Assignment.objects.filter(batch=batch).values_list("sample_id", "annotator_id"))
    assert len(rows) == expected
    per_item = Counter(sample for sample, _ in rows)
    assert max(per_item.values()) <= K
    assert len(set(rows)) == len(rows)  # no (sample, annotator) pair twice
