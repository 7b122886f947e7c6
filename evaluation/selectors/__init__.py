"""Reads of the evaluation app, by concern; what other apps call is here."""

from .ratings import dimension_list, rating_list_visible_to

__all__ = ["dimension_list", "rating_list_visible_to"]
