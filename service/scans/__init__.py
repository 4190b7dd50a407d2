"""One scan mechanism for every scan point (a door, a job-fair booth, a heat-relief
delivery site). It imports no room: a room registers its point type in points.py, and
services.py runs every scan of it the same way (cheap checks, one read,
decide, record), keeps the client-id log, settles offline batches and audits undo."""
