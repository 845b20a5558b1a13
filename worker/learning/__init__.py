"""Training genre heads from labelled audio and evaluating artifacts side by side."""
