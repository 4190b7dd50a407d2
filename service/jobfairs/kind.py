"""The job fair (招聘会) kind: places, sign-up, tickets and an entrance door."""

from service import kinds

KIND = kinds.Kind(
    code="job_fair",
    label="Job fair",
    reminder_rules=(kinds.DAY_BEFORE, kinds.ONE_HOUR),
)
