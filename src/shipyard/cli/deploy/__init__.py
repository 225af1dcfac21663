"""``shipyard deploy`` and ``shipyard deployments ...``, one small module per concern.

deploy.py       ``shipyard deploy``: options -> ``DeploymentSpec`` (``deploy/spec.py``) -> apply
deployments.py  the ``deployments`` group: list, status, history, and the commands below
change.py       scale, update, rollback, rm
canary.py       canary, promote, abort (the flow is ``deploy/service.py``'s)
follow.py       watch, follow (the registry alias as the deploy trigger)
session.py      the connected target, the records and a progress line, opened and closed
show.py         a deployment's status and rendered manifests, for people or --json
options.py      the options several commands share
"""
