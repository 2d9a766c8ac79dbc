"""``python -m trainyard_client``: the same as the ``trainyard`` command."""
import sys

from trainyard_client.cli import main

sys.exit(main())
