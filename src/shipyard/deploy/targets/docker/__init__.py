"""One Docker host: replicas behind nginx, rolling updates, a compose file."""
