"""gunicorn's settings for the web process; gunicorn reads ./gunicorn.conf.py by itself, so the Procfile,
the Dockerfile and compose all get them (command-line flags still win).

Threaded workers (gthread), because a 1 GiB upload streams for a while and is checked for seconds to a
minute: with sync workers each upload held a whole worker, two uploads left nobody to answer, and a
request past 30 s got the worker killed (an HTML 500). A gthread worker's main thread keeps beating while
requests run in its threads, so ``timeout`` only catches a wedged worker, not a long request.
Measured against sync (2 and 4 workers) and gthread 4x2 and 2x8 on reads (``bench/run.py --only i``,
bench/RESULTS.md): none served GET job faster beyond noise on 2 cores, and 2x4 had the lowest p99.
"""
import os

worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "4"))
timeout = 30
# No keep-alive: gthread writes a response's head and body separately, and on a kept-alive connection
# Nagle's algorithm then waits for the client's delayed ACK, about 40 ms a request (predict calls/s fell
# from 165 to 27 in bench (g)). Closing after each response is what the sync workers did.
keepalive = 0
