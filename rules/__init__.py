"""The rule engine and one module per rule: dumping, stock-outs, parallel import, price moves, crawl health."""
