"""Built-in plugins, registered through roistory's own ``roistory`` entry points."""
