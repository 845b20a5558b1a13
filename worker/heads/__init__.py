"""Genre heads over the backbone's output: the artifacts (shipped in artifacts/) and their loaders, the
log-odds head's builder and few-shot prototypes."""
