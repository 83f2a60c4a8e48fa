"""Guichet's tools for people: the ``guichet`` command line (and, later, the web console).

Everything here talks to Temporal through ``workflows.client.GuichetClient`` and reads the
event log; nothing here decides anything (that is ``domain.decide``, run by the workflow).
"""
