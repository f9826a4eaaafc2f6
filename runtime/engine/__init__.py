"""The pure engine: one Sinch callback in, one SVAML answer out, the call state carried in cookies."""
