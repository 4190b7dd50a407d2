"""The reading-sharing session (阅读分享会) kind: seats in a reading room, a door."""

from service import kinds

KIND = kinds.Kind(
    code="reading_session",
    label="Reading-sharing session",
    reminder_rules=(kinds.DAY_BEFORE, kinds.ONE_HOUR),
)
