"""What changes the world between decisions: nature (trees, spoilage, meals, fire), settlement of
due deals, legends, and the wood's metrics."""
