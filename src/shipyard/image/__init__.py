"""build: a registered model becomes a small, reproducible, secure container image.

Pure centre: ``spec`` (``BuildSpec``), ``labels``, ``dockerfile``, ``buildlog``. Host side:
``wheelhouse`` (wheels + hashed lock), ``context`` (the build context), ``pipeline`` (the steps in
order). Docker edge: ``image`` (``DockerEngine``) and ``container`` (run, wait healthy, stop).
See docs/architecture/06-image.md.
"""
