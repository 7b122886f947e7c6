"""A labelled set of texts per language, for the accuracy of the language filter.

Two parts: paragraphs of the bundled demo samples (annotate/demo_data/*.json, written by
hand per language), and short sentences written here for the pairs that share a script
(hi / mr / ne, bn / as) plus Odia, Urdu and English, where a one-line reply is the hard case.
The demo samples whose note says the reply drifts into another language are left out:
their paragraphs are mixed on purpose (the filter tests use them whole instead).
"""

import json
from pathlib import Path
from typing import NamedTuple

from synth.languages import LANGUAGES, script_share

DEMO_DATA = Path(__file__).resolve().parents[2] / "annotate" / "demo_data"
# Demo samples that switch language mid-reply (see their demo_note).
DRIFTING_DEMO_SAMPLES = {"as-07", "bn-07", "gu-07", "hi-05", "ne-07", "pa-06"}
MIN_CHARS = 20
# A paragraph counts for a language only when nearly all its letters are in its script;
# mixed paragraphs (an English title inside a Tamil answer) would measure the script check.
MIN_SCRIPT_SHARE = 0.9


class LabelledText(NamedTuple):
    language: str
    text: str
    origin: str


WRITTEN: dict[str, tuple[str, ...]] = {
    "hi": (
        "मुझे आज बाज़ार जाना है, क्या तुम मेरे साथ चलोगे?",
        "बारिश के मौसम में गाँव की सड़कें कीचड़ से भर जाती हैं।",
        "यह किताब मैंने पिछले साल दिल्ली के पुस्तक मेले से खरीदी थी।",
        "हमारे विद्यालय में हर साल स्वतंत्रता दिवस धूमधाम से मनाया जाता है।",
        "माँ ने रसोई में गरम-गरम पराठे बनाए और सबको प्यार से खिलाए।",
        "अगर तुम समय पर नहीं पहुँचे तो रेलगाड़ी छूट जाएगी।",
    ),
    "mr": (
        "मला आज बाजारात जायचं आहे, तू माझ्याबरोबर येशील का?",
        "पावसाळ्यात गावातले रस्ते चिखलाने भरून जातात.",
        "हे पुस्तक मी गेल्या वर्षी पुण्याच्या पुस्तक प्रदर्शनातून विकत घेतलं.",
        "आमच्या शाळेत दरवर्षी स्वातंत्र्य दिन मोठ्या उत्साहाने साजरा केला जातो.",
        "आईने स्वयंपाकघरात गरमागरम भाकरी केल्या आणि सगळ्यांना प्रेमाने खाऊ घातल्या.",
        "तू वेळेवर पोहोचला नाहीस तर गाडी सुटेल.",
    ),
    "ne": (
        "मलाई आज बजार जानु छ, के तिमी मसँग आउँछौ?",
        "बर्खायाममा गाउँका बाटाहरू हिलोले भरिन्छन्।",
        "यो किताब मैले गत वर्ष काठमाडौँको पुस्तक मेलाबाट किनेको थिएँ।",
        "हाम्रो विद्यालयमा हरेक वर्ष दसैँ बिदाअघि सांस्कृतिक कार्यक्रम हुन्छ।",
        "आमाले भान्सामा तातो-तातो रोटी पकाउनुभयो र सबैलाई मायाले खुवाउनुभयो।",
        "तिमी समयमा पुगेनौ भने बस छुट्छ।",
    ),
    "bn": (
        "আমি আজ বাজারে যাব, তুমি কি আমার সঙ্গে আসবে?",
        "বর্ষাকালে গ্রামের রাস্তাগুলো কাদায় ভরে যায়।",
        "এই বইটা আমি গত বছর কলকাতা বইমেলা থেকে কিনেছিলাম।",
        "আমাদের স্কুলে প্রতি বছর স্বাধীনতা দিবস খুব আনন্দের সঙ্গে পালন করা হয়।",
        "মা রান্নাঘরে গরম গরম লুচি ভাজলেন আর সবাইকে ভালোবেসে খাওয়ালেন।",
        "তুমি সময়মতো না পৌঁছালে ট্রেন ছেড়ে দেবে।",
    ),
    "as": (
        "মই আজি বজাৰলৈ যাম, তুমি মোৰ লগত যাবানে?",
        "বাৰিষা কালত গাঁৱৰ ৰাস্তাবোৰ বোকাৰে ভৰি পৰে।",
        "এই কিতাপখন মই যোৱা বছৰ গুৱাহাটী গ্ৰন্থমেলাৰ পৰা কিনিছিলোঁ।",
        "আমাৰ বিদ্যালয়ত প্ৰতি বছৰে বিহু উৎসৱ আনন্দেৰে পালন কৰা হয়।",
        "আইয়ে পাকঘৰত গৰম গৰম পিঠা বনালে আৰু সকলোকে মৰমেৰে খুৱালে।",
        "তুমি সময়মতে নাপালে ৰেলখন এৰি যাব।",
    ),
    "or": (
        "ମୁଁ ଆଜି ବଜାରକୁ ଯିବି, ତୁମେ ମୋ ସହିତ ଆସିବ କି?",
        "ବର୍ଷା ଦିନେ ଗାଁର ରାସ୍ତା କାଦୁଅରେ ଭରିଯାଏ।",
        "ରଥଯାତ୍ରା ସମୟରେ ପୁରୀରେ ଲକ୍ଷ ଲକ୍ଷ ଭକ୍ତ ଏକାଠି ହୁଅନ୍ତି।",
        "ମା' ରୋଷେଇ ଘରେ ଗରମ ପିଠା ତିଆରି କଲେ।",
    ),
    "ur": (
        "میں آج بازار جا رہا ہوں، کیا تم میرے ساتھ چلو گے؟",
        "برسات کے موسم میں گاؤں کی سڑکیں کیچڑ سے بھر جاتی ہیں۔",
        "یہ کتاب میں نے پچھلے سال لاہور کے کتاب میلے سے خریدی تھی۔",
        "ہمارے اسکول میں ہر سال یومِ آزادی بڑے جوش و خروش سے منایا جاتا ہے۔",
    ),
    "en": (
        "I am going to the market today, will you come with me?",
        "During the monsoon the village roads fill up with mud.",
        "The train leaves at six, so please reach the station on time.",
        "My grandmother tells the best stories about the harvest festival.",
    ),
}


def _demo_texts() -> list[LabelledText]:
    texts = []
    for path in sorted(DEMO_DATA.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for sample in data["samples"]:
            if sample["key"] in DRIFTING_DEMO_SAMPLES:
                continue
            for message in sample["messages"]:
                for paragraph in message["content"].split("\n\n"):
                    paragraph = paragraph.strip()
                    if len(paragraph) < MIN_CHARS:
                        continue
                    # A translation sample holds English too; label it by its script.
                    for code in (data["language"], "en"):
                        share = script_share(paragraph, LANGUAGES[code])
                        if share is not None and share >= MIN_SCRIPT_SHARE:
                            texts.append(LabelledText(code, paragraph, f"demo {sample['key']}"))
                            break
    return texts


def labelled_texts() -> list[LabelledText]:
    """Every labelled text, demo paragraphs first, then the written sentences."""
    written = [
        LabelledText(code, text, "written")
        for code, sentences in WRITTEN.items()
        for text in sentences
    ]
    return _demo_texts() + written
