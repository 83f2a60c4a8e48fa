"""What the worker process and the other ``guichet`` commands read and set up alike: the
settings from the environment (``settings``), logging (``logging``), the Temporal connection
(``connection``). The worker itself is ``worker.py``, the entry point beside this package.
"""
