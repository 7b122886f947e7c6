"""Celery entry points for exports: take ids, call one service."""
