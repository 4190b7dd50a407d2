"""A reminder worker for tests to run in a subprocess (and kill): `unionhall worker`'s
settings on a queue of the test's own, in burst mode, optionally with the service clock
frozen and a shorter arq job timeout. Prints {"complete": n, "failed": n} when done.

    python -m tests.reminder_worker QUEUE [--at ISO-8601] [--job-timeout SECONDS]
"""

from __future__ import annotations

import argparse
import contextlib
import json
from datetime import datetime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("queue")
    parser.add_argument("--at", default=None)
    parser.add_argument("--job-timeout", type=float, default=300.0)
    args = parser.parse_args()

    from service import clock
    from tasks.worker import create_worker

    frozen = (
        clock.frozen_at(datetime.fromisoformat(args.at)) if args.at else contextlib.nullcontext()
    )
    with frozen:
        worker = create_worker(
            burst=True, poll_delay=0.05, queue_name=args.queue, job_timeout=args.job_timeout
        )
        try:
            worker.loop.run_until_complete(worker.async_run())
        finally:
            worker.loop.run_until_complete(worker.close())
    print(json.dumps({"complete": worker.jobs_complete, "failed": worker.jobs_failed}))


if __name__ == "__main__":
    main()
