"""The use-cases: one function each, which opens its own unit(s) of work, rings only after commit,
turns write races into ``Conflict`` (or a retry), and is called the same from a route, a CLI
command, a Celery task, a beat loop or a test. Each takes a ``Deps`` (the runtime bag) first.

| use-case | function |
|---|---|
| submit training / a batch job | ``submit.submit_training`` / ``submit.submit_batch`` |
| claim | ``claim.claim`` |
| finish training / a batch job | ``finish.finish_training`` / ``finish.finish_batch`` |
| fail / refuse a tampered input | ``stop.fail`` / ``stop.fail_tampered`` |
| stop at a cancel / hand back (and ask for it) | ``stop.cancelled`` / ``stop.hand_back`` (``stop.request_handback``) |
| hand back a job whose process the worker gave up (broker connection lost) | ``stop.hand_back_cut_off`` |
| cancel (a person asks) | ``cancel.cancel_job`` |
| promote / roll back an alias | ``promote.promote`` / ``promote.rollback`` |
| upload a dataset | ``upload.upload_dataset`` |
| create a schedule / fire due schedules | ``schedule.create_schedule`` / ``schedule.fire_due_schedules`` |
| reconcile | ``reconcile.reconcile`` (and ``doorbell.redispatch_stale``) |
| deliver webhooks | ``deliver.deliver_webhooks`` |
| create a sweep / pause, resume, cancel it | ``sweep.create_sweep`` / ``sweep.move_sweep`` |
| register a sweep's best trial | ``sweep.register_best`` |
| a sweep's decisions (start trials, stop weak ones at a rung) | ``sweep.advance_sweeps`` |

The services one level up (``app.services.<topic>``) are the steps: they take a session, never
commit, and are composed here. ``retry.with_db_retry`` is the one retry policy for a database blip.
"""
