"""What is written to InfluxDB (docs/schema.md): the point, and the correlator's records turned into points."""
