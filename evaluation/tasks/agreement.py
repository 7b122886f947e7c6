"""Celery entry points for agreement: take ids, call one service."""
