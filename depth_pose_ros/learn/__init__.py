"""Training and evaluation (PyTorch): models, losses, augmentation, the training loop,
checkpoints, export to OpenVINO, evaluation and metrics, the random-forest baseline."""
