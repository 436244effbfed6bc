"""Teach the embedded model its trade: LoRA fine-tuning on (prompt, answer) examples, shipped as a
GGUF adapter that llama.cpp applies at run time.

- :mod:`engine.learn.dataset`: teacher games to a dataset (``ttwood dataset``);
- :mod:`engine.learn.data`: read, check, tokenize and batch a dataset (no torch);
- :mod:`engine.learn.adapter`: write and read GGUF LoRA adapters, with llama's q/k permutation (no torch);
- :mod:`engine.learn.torch_model`: the base model's GGUF weights in torch, and its LoRA;
- :mod:`engine.learn.loss`: the loss on answer tokens only, and evaluation;
- :mod:`engine.learn.checkpoint`: checkpoints that let a run resume, and the model card file;
- :mod:`engine.learn.logits`: llama.cpp's logits with the adapter against torch's;
- :mod:`engine.learn.train`: the whole run (``train(TrainConfig(...))``).

The modules that import torch need the ``train`` extra; this package imports none of them itself.
"""
