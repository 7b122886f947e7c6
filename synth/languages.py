"""The language registry: the 13 Indian languages of Updesh and English.

A registry in code rather than a table: these facts do not change per deployment, and code
(filters, templates, exports) needs them without a query. Scripts are shared (Devanagari by
hi, mr, ne; Bengali by as, bn), so a script check alone cannot tell those languages apart.
"""

from dataclasses import dataclass
from enum import StrEnum


class Direction(StrEnum):
    LTR = "ltr"
    RTL = "rtl"


@dataclass(frozen=True, slots=True)
class Script:
    code: str  # ISO 15924
    name: str
    # Inclusive code point ranges of the script's Unicode blocks.
    ranges: tuple[tuple[int, int], ...]
    font_family: str  # the Noto family that renders it well

    def contains(self, char: str) -> bool:
        point = ord(char)
        return any(low <= point <= high for low, high in self.ranges)


@dataclass(frozen=True, slots=True)
class Language:
    code: str  # ISO 639-1
    flores: str  # FLORES-200 code, also the split name of the Updesh release
    name: str
    native_name: str
    script: Script
    direction: Direction = Direction.LTR

    @property
    def is_rtl(self) -> bool:
        return self.direction is Direction.RTL


SCRIPTS: dict[str, Script] = {
    script.code: script
    for script in (
        Script("Beng", "Bengali", ((0x0980, 0x09FF),), "Noto Sans Bengali"),
        Script(
            "Deva",
            "Devanagari",
            ((0x0900, 0x097F), (0xA8E0, 0xA8FF)),
            "Noto Sans Devanagari",
        ),
        Script("Gujr", "Gujarati", ((0x0A80, 0x0AFF),), "Noto Sans Gujarati"),
        Script("Guru", "Gurmukhi", ((0x0A00, 0x0A7F),), "Noto Sans Gurmukhi"),
        Script("Knda", "Kannada", ((0x0C80, 0x0CFF),), "Noto Sans Kannada"),
        Script("Mlym", "Malayalam", ((0x0D00, 0x0D7F),), "Noto Sans Malayalam"),
        Script("Orya", "Oriya", ((0x0B00, 0x0B7F),), "Noto Sans Oriya"),
        Script("Taml", "Tamil", ((0x0B80, 0x0BFF),), "Noto Sans Tamil"),
        Script("Telu", "Telugu", ((0x0C00, 0x0C7F),), "Noto Sans Telugu"),
        Script(
            "Arab",
            "Arabic",
            ((0x0600, 0x06FF), (0x0750, 0x077F), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)),
            "Noto Nastaliq Urdu",
        ),
        Script(
            "Latn",
            "Latin",
            ((0x0041, 0x005A), (0x0061, 0x007A), (0x00C0, 0x024F)),
            "Noto Sans",
        ),
    )
}

LANGUAGES: dict[str, Language] = {
    language.code: language
    for language in (
        Language("as", "asm_Beng", "Assamese", "অসমীয়া", SCRIPTS["Beng"]),
        Language("bn", "ben_Beng", "Bengali", "বাংলা", SCRIPTS["Beng"]),
        Language("gu", "guj_Gujr", "Gujarati", "ગુજરાતી", SCRIPTS["Gujr"]),
        Language("hi", "hin_Deva", "Hindi", "हिन्दी", SCRIPTS["Deva"]),
        Language("kn", "kan_Knda", "Kannada", "ಕನ್ನಡ", SCRIPTS["Knda"]),
        Language("ml", "mal_Mlym", "Malayalam", "മലയാളം", SCRIPTS["Mlym"]),
        Language("mr", "mar_Deva", "Marathi", "मराठी", SCRIPTS["Deva"]),
        Language("ne", "npi_Deva", "Nepali", "नेपाली", SCRIPTS["Deva"]),
        Language("or", "ory_Orya", "Odia", "ଓଡ଼ିଆ", SCRIPTS["Orya"]),
        Language("pa", "pan_Guru", "Punjabi", "ਪੰਜਾਬੀ", SCRIPTS["Guru"]),
        Language("ta", "tam_Taml", "Tamil", "தமிழ்", SCRIPTS["Taml"]),
        Language("te", "tel_Telu", "Telugu", "తెలుగు", SCRIPTS["Telu"]),
        Language("ur", "urd_Arab", "Urdu", "اردو", SCRIPTS["Arab"], Direction.RTL),
        Language("en", "eng_Latn", "English", "English", SCRIPTS["Latn"]),
    )
}

LANGUAGE_CHOICES: list[tuple[str, str]] = [
    (language.code, f"{language.name} ({language.native_name})")
    if language.native_name != language.name
    else (language.code, language.name)
    for language in LANGUAGES.values()
]


def get_language(code: str) -> Language:
    """The language for an ISO code or a FLORES code; KeyError names what was unknown."""
    if code in LANGUAGES:
        return LANGUAGES[code]
    for language in LANGUAGES.values():
        if language.flores == code:
            return language
    raise KeyError(f"Unknown language {code!r}; known: {', '.join(LANGUAGES)}")


def script_share(text: str, language: Language) -> float | None:
    """Share of the letters in ``text`` that belong to the language's script.

    Digits, punctuation and spaces are neutral. None when the text has no letters at all.
    """
    letters = [char for char in text if char.isalpha()]
    if not letters:
        return None
    return sum(language.script.contains(char) for char in letters) / len(letters)
