"""App test constants (the app's fixtures, ``settings`` and ``client``, are in tests/conftest.py)."""

FAST_RUN = {"preset": "notebook-sgd", "epochs": 2, "seed": 1}
