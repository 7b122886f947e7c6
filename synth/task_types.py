"""Task types of the Updesh pipeline (arXiv 2509.21294)."""

from django.db import models


class TaskType(models.TextChoices):
    LOGICAL_REASONING = "logical_reasoning", "Logical reasoning"
    MULTIHOP_QA = "multihop_qa", "Multi-hop QA"
    CREATIVE_WRITING = "creative_writing", "Creative writing"
    MULTITURN_DIALOGUE = "multiturn_dialogue", "Multi-turn dialogue"
    SUMMARIZATION = "summarization", "Summarization"
    TRANSLATION_EN_XX = "translation_en_xx", "Translation English → language"
    TRANSLATION_XX_EN = "translation_xx_en", "Translation language → English"
    CAUSAL_REASONING = "causal_reasoning", "Causal reasoning"
    CULTURAL_MULTIHOP_REASONING = (
        "cultural_multihop_reasoning",
        "Cultural multi-hop reasoning",
    )
    # English reasoning sets (Orca-AgentInstruct, orca-math) selectively translated.
    TRANSLATED_REASONING = "translated_reasoning", "Translated reasoning"
