"""The heat-relief delivery (送清凉) kind: nobody signs up; a campaign's attendance is its
deliveries to sites. Its teams are reminded on the morning of the delivery."""

from service import kinds

KIND = kinds.Kind(
    code="heat_relief",
    label="Heat-relief delivery",
    places=False,
    signup=False,
    tickets=False,
    door=False,
    reminder_rules=(kinds.MORNING_OF,),
)
