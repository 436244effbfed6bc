"""What every room of the engine shares: errors, the money, text cleaning."""
