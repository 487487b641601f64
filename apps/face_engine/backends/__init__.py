"""Model backends: each plugs its models into the shared pipeline via ``base.Backend``."""
