"""The livestream (直播) kind: no places, no sign-up, no ticket and no door; workers
watch by the link (their "remind me" comes with the livestream room's own work)."""

from service import kinds

KIND = kinds.Kind(
    code="livestream",
    label="Livestream",
    places=False,
    signup=False,
    tickets=False,
    door=False,
    reminder_rules=(kinds.TEN_MINUTES,),
)
