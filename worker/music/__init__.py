"""Music: key and tempo theory (names, relations), tempo and key estimation, conforming a sample."""
