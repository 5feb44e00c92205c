"""Oracle bounds: ideal masks, the input mixture, the true label and a prior classifier."""
