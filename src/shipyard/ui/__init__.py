"""The web UI of ``shipyard server``: static pages over the JSON APIs, at ``/`` on its port.

    app = create_app(tracker, config, keys, pages=ui_routes())

``pages.py`` serves ``static/`` (plain HTML, CSS and ES modules; uPlot vendored from npm with
its license in ``static/vendor/``). The pages hold no data: they read MLflow's REST API and
``/api/shipyard/v1`` with the user's access key, so they are open while the APIs stay locked.
"""
