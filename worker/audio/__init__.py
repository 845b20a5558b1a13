"""Sound in: content sniffing, decoding, log-mel features, the spectrogram picture, synthetic signals."""
