"""The heat-relief delivery (送清凉) kind: nobody signs up; a campaign's attendance is its
deliveries to sites. Its teams are reminded on the morning of the delivery."""

from service import kinds
from service.heatrelief.hooks import CampaignDetails, detail_view, report_section

KIND = kinds.Kind(
    code="heat_relief",
    label="Heat-relief delivery",
    places=False,
    signup=False,
    tickets=False,
    door=False,
    reminder_rules=(kinds.MORNING_OF,),
    details=CampaignDetails(),
    detail_partial="heatrelief/detail.html",
    detail_view=detail_view,
    report_section=report_section,
    # The organiser's activity page links here (web/templates/activities/manage.html).
    extra={
        "manage_url": "/organise/activities/{id}/heat-relief",
        "manage_label": "Sites, teams and the plan",
    },
)
