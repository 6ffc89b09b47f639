"""neuralc."""
