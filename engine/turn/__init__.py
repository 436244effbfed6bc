"""One turn: what a creature observes, the brain protocol, actions and the rules that resolve them,
memory, the game loop and its report."""
