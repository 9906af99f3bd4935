"""How a model is fit: the training loop (free of file I/O), the closed-form fit, and
multi-process training (torchrun)."""
