"""Music made in code for the demo and the benchmarks: a composer (MIDI pieces from a style) and a
FluidSynth renderer. Not part of the analysis library: it may import worker, no app imports it."""
