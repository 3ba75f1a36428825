"""Pure NumPy core: losses, model, optimizers, datasets, loss surfaces. No web imports."""
