"""Put on PYTHONPATH of a worker to make its first ``import tensorflow`` slow (the fault tests).

TRAINYARD_TEST_TF_IMPORT_DELAY_S seconds of sleep before TensorFlow is found, once per
process: what a loaded machine or a CUDA host does to the real import (25 s and more).
"""
import os
import sys
import time

_DELAY_S = float(os.environ.get("TRAINYARD_TEST_TF_IMPORT_DELAY_S") or 0)


class _SlowTensorFlow:
    slept = False

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name == "tensorflow" and not cls.slept:
            cls.slept = True
            time.sleep(_DELAY_S)
        return None  # the normal finders import it


if _DELAY_S > 0:
    sys.meta_path.insert(0, _SlowTensorFlow)
