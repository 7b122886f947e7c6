"""MediaWiki XML dumps (`.xml`, `.xml.bz2`), streamed page by page with mwxml."""

import bz2
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import mwparserfromhell
import mwxml

from . import DEFAULT_PASSAGE_CHARS, InvalidRecord, SourceFileError, SourceRecord, split_passages

WIKIPEDIA_LICENSE = "CC BY-SA 4.0"
ARTICLE_NAMESPACE = 0


def _page_url(base: str | None, title: str) -> str:
    # site_info.base is the main page's URL, e.g. https://hi.wikipedia.org/wiki/मुखपृष्ठ
    if not base or "/wiki/" not in base:
        return ""
    return base.rsplit("/wiki/", 1)[0] + "/wiki/" + quote(title.replace(" ", "_"))


def read_mediawiki(
    path: Path, *, language: str, max_chars: int = DEFAULT_PASSAGE_CHARS
) -> Iterator[SourceRecord | InvalidRecord]:
    opener = bz2.open if path.name.lower().endswith(".bz2") else open
    with opener(path, "rb") as handle:
        try:
            dump = mwxml.Dump.from_file(handle)
        except AssertionError as error:  # mwxml asserts that the root is <mediawiki>
            raise SourceFileError(
                str(path), "not a MediaWiki XML dump (the root element is not <mediawiki>)"
            ) from error
        except (ET.ParseError, OSError, EOFError) as error:
            raise SourceFileError(str(path), f"not readable XML: {error}") from error
        base = dump.site_info.base if dump.site_info else None
        try:
            for page in dump:
                if page.namespace != ARTICLE_NAMESPACE or page.redirect:
                    continue
                yield from _page_records(path, page, base, language, max_chars)
        except (ET.ParseError, OSError, EOFError, mwxml.errors.MalformedXML) as error:
            raise SourceFileError(str(path), f"broken XML: {error}") from error


def _page_records(path, page, base, language, max_chars) -> Iterator[SourceRecord | InvalidRecord]:
    location = f"{path.name}: page {page.id} ({page.title})"
    revision = None
    for revision in page:  # noqa: B007 — the last revision is the current text
        pass
    if revision is None or not revision.text:
        yield InvalidRecord(location, "page has no revision text")
        return
    text = mwparserfromhell.parse(revision.text).strip_code(normalize=True, collapse=True)
    url = _page_url(base, page.title)
    for index, passage in enumerate(split_passages(text, max_chars=max_chars)):
        yield SourceRecord(
            kind="wikipedia",
            language=language,
            text=passage,
            title=page.title,
            url=url,
            license=WIKIPEDIA_LICENSE,
            meta={"page_id": page.id, "revision_id": revision.id, "passage": index},
            location=location,
        )
