"""The arq worker: background jobs call service/*/services.py like handlers do."""
