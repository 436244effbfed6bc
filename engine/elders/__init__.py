"""The elders: the scripted creatures who play the wood by rules of thumb and teach the models.

This room holds the teacher; the students (the model runtimes: llama.cpp, an OpenAI-compatible
server, the human at the keyboard) live in :mod:`engine.minds.brains`. The elders see only what a
creature sees (:class:`~engine.turn.observation.Observation`) and ask the turn's purse
(:mod:`engine.turn.purse`) what an action costs, so what they plan is what the rules accept.
The foresight elder (:mod:`engine.elders.foresight`) is the one that sees more: the same elder,
trying variants of its answer (:mod:`engine.elders.variants`) a few turns ahead on copies of the
whole game (the game hands itself over: :class:`~engine.turn.brain.Foresees`), which it only reads.
"""
