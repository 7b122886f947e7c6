"""Celery entry points for judging: take ids, call one service."""
