import pytest

from synth.languages import LANGUAGES, get_language, script_share

FLORES = {
    "as": "asm_Beng",
    "bn": "ben_Beng",
    "gu": "guj_Gujr",
    "hi": "hin_Deva",
    "kn": "kan_Knda",
    "ml": "mal_Mlym",
    "mr": "mar_Deva",
    "ne": "npi_Deva",
    "or": "ory_Orya",
    "pa": "pan_Guru",
    "ta": "tam_Taml",
    "te": "tel_Telu",
    "ur": "urd_Arab",
    "en": "eng_Latn",
}


def test_the_fourteen_languages_with_their_flores_codes():
    assert {code: language.flores for code, language in LANGUAGES.items()} == FLORES


def test_only_urdu_is_right_to_left():
    assert [code for code, language in LANGUAGES.items() if language.is_rtl] == ["ur"]


def test_shared_scripts_are_shared():
    assert get_language("hi").script is get_language("mr").script is get_language("ne").script
    assert get_language("as").script is get_language("bn").script


def test_lookup_by_flores_code_and_a_clear_error_for_unknown_codes():
    assert get_language("tam_Taml").code == "ta"
    with pytest.raises(KeyError, match="Unknown language 'xx'"):
        get_language("xx")


@pytest.mark.parametrize(
    ("code", "text"),
    [
        ("hi", "होली रंगों का त्योहार है।"),
        ("ta", "பொங்கல் தமிழர்களின் அறுவடைத் திருநாள்."),
        ("ur", "عید الفطر خوشی کا دن ہے۔"),
        ("or", "ରଥଯାତ୍ରା ପୁରୀରେ ହୁଏ।"),
        ("as", "বিহু অসমৰ জাতীয় উৎসৱ।"),
    ],
)
def test_native_text_is_all_in_its_script(code, text):
    assert script_share(text, get_language(code)) == 1.0


def test_script_share_counts_letters_only():
    hindi = get_language("hi")
    assert script_share("2024 — !", hindi) is None
    # Vowel signs (matras) are marks, not letters: दिवाली has three letters, Diwali six.
    assert script_share("दिवाली Diwali", hindi) == pytest.approx(3 / 9)
