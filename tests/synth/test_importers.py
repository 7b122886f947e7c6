"""import_sources on real files: MediaWiki dumps, wikimedia/wikipedia Parquet and JSONL,
reasoning sets; idempotent, atomic on bad input, --skip-invalid reports what it skipped."""

import bz2
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.management import CommandError, call_command

from synth.importers import split_passages
from synth.models import Source

pytestmark = pytest.mark.django_db

HINDI_PAGES = [
    (
        1,
        "ताजमहल",
        "'''ताजमहल''' [[आगरा]] में [[यमुना नदी]] के किनारे स्थित एक मक़बरा है।{{cite web|url=x}}"
        "\n\nइसे [[शाहजहाँ]] ने [[मुमताज़ महल]] की याद में बनवाया था।",
    ),
    (2, "दिवाली", "दिवाली रोशनी का त्योहार है।\n\nलोग दीये जलाते हैं और मिठाइयाँ बाँटते हैं।"),
]


def mediawiki_dump(pages, *, redirect_title: str | None = "ताज") -> str:
    """A MediaWiki export in the shape of the dumps at dumps.wikimedia.org."""
    page_xml = "".join(
        f"<page><title>{title}</title><ns>0</ns><id>{page_id}</id>"
        f"<revision><id>{page_id}00</id><timestamp>2024-01-01T00:00:00Z</timestamp>"
        f"<contributor><username>x</username><id>1</id></contributor>"
        f'<model>wikitext</model><format>text/x-wiki</format><text bytes="1" xml:space="preserve">'
        f"{text.replace('&', '&amp;').replace('<', '&lt;')}</text><sha1>x</sha1></revision></page>"
        for page_id, title, text in pages
    )
    if redirect_title:
        page_xml += (
            f'<page><title>{redirect_title}</title><ns>0</ns><id>99</id><redirect title="ताजमहल" />'
            "<revision><id>9900</id><timestamp>2024-01-01T00:00:00Z</timestamp>"
            "<contributor><username>x</username><id>1</id></contributor>"
            '<text bytes="1" xml:space="preserve">#REDIRECT [[ताजमहल]]</text><sha1>x</sha1>'
            "</revision></page>"
        )
    return (
        '<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11" xml:lang="hi">'
        "<siteinfo><sitename>विकिपीडिया</sitename><dbname>hiwiki</dbname>"
        "<base>https://hi.wikipedia.org/wiki/मुखपृष्ठ</base><generator>MediaWiki 1.42</generator>"
        '<case>first-letter</case><namespaces><namespace key="0" case="first-letter" />'
        "</namespaces></siteinfo>" + page_xml + "</mediawiki>"
    )


def test_a_bz2_mediawiki_dump_imports_plain_text_passages_once(tmp_path, capsys):
    dump = tmp_path / "hiwiki-pages-articles.xml.bz2"
    dump.write_bytes(bz2.compress(mediawiki_dump(HINDI_PAGES).encode("utf-8")))

    call_command("import_sources", str(dump), "--language", "hi")
    taj = Source.objects.get(title="ताजमहल")
    assert taj.kind == "wikipedia" and taj.language == "hi" and taj.license == "CC BY-SA 4.0"
    assert "[[" not in taj.text and "{{" not in taj.text and "'''" not in taj.text
    assert taj.text.startswith("ताजमहल आगरा में यमुना नदी के किनारे")
    assert (
        taj.url
        == "https://hi.wikipedia.org/wiki/%E0%A4%A4%E0%A4%BE%E0%A4%9C%E0%A4%AE%E0%A4%B9%E0%A4%B2"
    )
    assert not Source.objects.filter(title="ताज").exists(), "redirects are not pages"
    assert "2 sources added, 0 already there" in capsys.readouterr().out

    call_command("import_sources", str(dump), "--language", "hi")
    assert Source.objects.count() == 2
    assert "0 sources added, 2 already there" in capsys.readouterr().out


def test_pages_are_split_into_passages_of_the_configured_size(tmp_path):
    paragraphs = [f"अनुच्छेद {i}: " + "शब्द " * 60 for i in range(6)]
    dump = tmp_path / "long.xml"
    dump.write_text(mediawiki_dump([(5, "लंबा लेख", "\n\n".join(paragraphs))]), encoding="utf-8")
    call_command("import_sources", str(dump), "--language", "hi", "--passage-chars", "700")
    passages = list(Source.objects.filter(title="लंबा लेख").order_by("meta__passage"))
    assert len(passages) == 3
    assert all(len(p.text) <= 700 for p in passages)
    assert [p.meta["passage"] for p in passages] == [0, 1, 2]


def test_split_passages_cuts_at_sentences_when_a_paragraph_is_too_long():
    text = "पहला वाक्य है। " * 40
    passages = list(split_passages(text, max_chars=120))
    assert all(len(p) <= 120 for p in passages)
    assert all(p.rstrip().endswith("।") for p in passages)


def test_wikipedia_parquet_and_jsonl_in_the_datasets_shape(tmp_path):
    rows = [
        {
            "id": "10",
            "url": "https://ta.wikipedia.org/wiki/பொங்கல்",
            "title": "பொங்கல்",
            "text": "பொங்கல் தமிழர்களின் அறுவடைத் திருநாள்.",
        },
        {
            "id": "11",
            "url": "https://ta.wikipedia.org/wiki/மதுரை",
            "title": "மதுரை",
            "text": "மதுரை வைகை ஆற்றின் கரையில் உள்ளது.",
        },
    ]
    parquet = tmp_path / "ta.parquet"
    pq.write_table(pa.Table.from_pylist(rows), parquet)
    jsonl = tmp_path / "ta.jsonl"
    jsonl.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")

    call_command("import_sources", str(parquet), "--language", "ta")
    call_command("import_sources", str(jsonl), "--language", "ta")  # same pages: nothing new
    assert Source.objects.count() == 2
    pongal = Source.objects.get(title="பொங்கல்")
    assert pongal.url.endswith("பொங்கல்") and pongal.meta["record_id"] == "10"


def test_reasoning_set_in_chat_format_with_a_subset(tmp_path):
    path = tmp_path / "orca-math.jsonl"
    path.write_text(
        json.dumps(
            {
                "id": "q1",
                "messages": [
                    {
                        "role": "user",
                        "content": "A train travels 120 km in 2 hours. What is its speed?",
                    },
                    {"role": "assistant", "content": "120 / 2 = 60 km/h."},
                ],
            }
        )
        + "\n",
        encoding="utf-8",
    )
    call_command("import_sources", str(path), "--kind", "reasoning", "--subset", "orca_math")
    source = Source.objects.get()
    assert (source.kind, source.language, source.subset) == ("reasoning", "en", "orca_math")
    assert source.meta["messages"][1]["content"] == "120 / 2 = 60 km/h."
    assert source.text.startswith("user: A train travels")


def test_a_malformed_record_names_file_and_line_and_imports_nothing(tmp_path):
    path = tmp_path / "broken.jsonl"
    path.write_text(
        '{"title": "अ", "text": "पहला पृष्ठ।"}\n{"title": "ब", "text": "दूसरा"\n'
        '{"title": "स", "text": "तीसरा पृष्ठ।"}\n',
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match=r"broken\.jsonl:2: malformed JSON"):
        call_command("import_sources", str(path), "--language", "hi")
    assert Source.objects.count() == 0


def test_wrong_encoding_names_the_line(tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(
        b'{"title": "ok", "text": "fine"}\n' + '{"title": "café", "text": "x"}\n'.encode("latin-1")
    )
    with pytest.raises(CommandError, match=r"latin1\.jsonl:2: not UTF-8"):
        call_command("import_sources", str(path), "--language", "en")
    assert Source.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.xml", b"<html><body>hi</body></html>", "not a MediaWiki XML dump"),
        ("garbage.xml", b"this is not xml", "not readable XML"),
        ("table.parquet", b"PAR1 but not really", "not a Parquet file"),
        ("pages.csv", b"a,b\n1,2\n", "unknown file type"),
    ],
)
def test_a_file_of_the_wrong_kind_is_refused_by_name(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CommandError, match=message) as caught:
        call_command("import_sources", str(path), "--language", "hi")
    assert name in str(caught.value)
    assert Source.objects.count() == 0


def test_parquet_without_the_expected_columns_names_them(tmp_path):
    path = tmp_path / "other.parquet"
    pq.write_table(pa.Table.from_pylist([{"headline": "x", "body": "y"}]), path)
    with pytest.raises(CommandError, match=r"missing column.*title, text.*body, headline"):
        call_command("import_sources", str(path), "--language", "hi")


def test_skip_invalid_imports_the_rest_and_reports_every_skipped_record(tmp_path, capsys):
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        '{"title": "अ", "text": "पहला पृष्ठ।"}\n'
        "not json\n"
        '{"title": "ब"}\n'
        '{"title": "स", "text": "तीसरा पृष्ठ।", "language": "xx"}\n'
        '{"title": "द", "text": "चौथा पृष्ठ।"}\n',
        encoding="utf-8",
    )
    call_command("import_sources", str(path), "--language", "hi", "--skip-invalid")
    assert set(Source.objects.values_list("title", flat=True)) == {"अ", "द"}
    out = capsys.readouterr().out
    assert "2 sources added, 0 already there, 3 records skipped." in out
    assert "mixed.jsonl:2: malformed JSON" in out
    assert "mixed.jsonl:3: missing text" in out
    assert "mixed.jsonl:4: unknown language 'xx'" in out


def test_missing_language_for_pages_is_a_clear_error(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"title": "a", "text": "b"}\n', encoding="utf-8")
    with pytest.raises(CommandError, match="--language is required"):
        call_command("import_sources", str(path))


def numbered_jsonl(path, count: int, *, broken_at: int | None = None) -> None:
    lines = [
        json.dumps({"title": f"पृष्ठ {n}", "text": f"पृष्ठ संख्या {n} का पाठ।"}, ensure_ascii=False)
        for n in range(count)
    ]
    if broken_at is not None:
        lines[broken_at] = '{"title": "टूटा", "text": '
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_many_batches_are_written_in_order_and_once(tmp_path, monkeypatch, capsys):
    # Batches of 3: the writer thread stores seven batches while the file is still read.
    monkeypatch.setattr("synth.services.sources.IMPORT_BATCH_SIZE", 3)
    path = tmp_path / "pages.jsonl"
    numbered_jsonl(path, 20)
    call_command("import_sources", str(path), "--language", "hi")
    assert Source.objects.count() == 20
    assert list(Source.objects.order_by("pk").values_list("title", flat=True)) == [
        f"पृष्ठ {n}" for n in range(20)
    ]
    capsys.readouterr()
    call_command("import_sources", str(path), "--language", "hi")
    assert Source.objects.count() == 20
    assert "0 sources added, 20 already there" in capsys.readouterr().out


def test_a_bad_record_after_written_batches_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr("synth.services.sources.IMPORT_BATCH_SIZE", 3)
    path = tmp_path / "late.jsonl"
    numbered_jsonl(path, 20, broken_at=17)
    with pytest.raises(CommandError, match=r"late\.jsonl:18: malformed JSON"):
        call_command("import_sources", str(path), "--language", "hi")
    assert Source.objects.count() == 0


def test_an_error_in_the_writer_stops_the_import_and_keeps_nothing(tmp_path, monkeypatch):
    from synth.services import sources

    monkeypatch.setattr(sources, "IMPORT_BATCH_SIZE", 3)
    calls = 0
    insert = sources._insert_sources

    def failing(new, *, db):
        nonlocal calls
        calls += 1
        if calls == 3:
            raise OSError("disk full on the database server")
        insert(new, db=db)

    monkeypatch.setattr(sources, "_insert_sources", failing)
    path = tmp_path / "pages.jsonl"
    numbered_jsonl(path, 20)
    with pytest.raises(OSError, match="disk full"):
        call_command("import_sources", str(path), "--language", "hi")
    assert Source.objects.count() == 0
