"""The beat process's loops, each in a thread: the reconciler and the schedule firer (``reconciler.py``),
and the webhook sender (``webhook_loop.py`` runs ``webhook_sender.py``'s signed deliveries with retries).
"""
