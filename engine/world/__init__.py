"""The world: creatures, the map, the ledger, the order book, deals, and the wood that holds them."""
