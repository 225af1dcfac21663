"""Docker Swarm: a stack file (compose-spec with deploy.update_config) and its nginx.conf."""
