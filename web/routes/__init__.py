"""One module per page of the panel, each with its `router`."""
