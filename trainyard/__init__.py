"""Trainyard's public API for model-kind packages: what a team's kind imports, kept stable.

    from trainyard.kinds import KindSpec, Param, Input, TRAINING_PARAMS   # the spec: no framework
    from trainyard.training import TrainContext                           # the trainer's one argument
    from trainyard.testing import train_locally                           # a kind's own tests

Everything else in the platform (``app``, ``workers``) is internal and may change; docs/kinds.md
says what each name promises.
"""
