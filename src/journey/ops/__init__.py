"""Running the nightly job unattended: one writer at a time, run log, recovery, alerts.

Orchestrator-agnostic like the rest of src/journey: the Prefect deployment lives in flows/deploy.py.
"""
