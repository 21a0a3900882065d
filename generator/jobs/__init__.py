"""Generation jobs: a batch spec queued in the review store, claimed and run by a worker process.

    web page / CLI ──enqueue──▶ jobs row (queued) ──claim──▶ worker ──run──▶ done | failed | cancelled
                                     ▲   progress, heartbeat, cancel flag   │
                                     └──────────────────────────────────────┘

* ``queue``: the row's whole life (enqueue, claim atomically, progress, cancel, finish); the store decides.
* ``spec``: a job spec is a batch spec plus where it runs (``executor: local | celery``).
* ``runner``: runs one claimed job through the batch build, honouring cancel between lessons.
* ``worker``: the loop ``hocvu worker`` (and ``hocvu serve``'s own worker process) runs.
* ``celery_executor``: the ``celery`` executor (a build's drafts and renders as Celery tasks over Redis);
  ``celery_tasks``: those tasks, run by ``hocvu worker --executor celery``.

Jobs never run inside the web process: the web app only enqueues, reads and asks to cancel.
"""
