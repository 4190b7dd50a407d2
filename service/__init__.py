"""Unionhall: the event and activity service for trade-union federations."""

import os

# Piccolo finds its engine and apps through this module; set it once for every entry point.
os.environ.setdefault("PICCOLO_CONF", "service.piccolo_conf")
