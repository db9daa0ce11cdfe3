"""One module per `pricewatch` command; the module name is the command name, its `cli` the command."""
