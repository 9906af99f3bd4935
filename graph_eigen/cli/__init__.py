"""The `graph-eigen` command line."""
