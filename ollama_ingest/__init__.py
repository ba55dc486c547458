"""ollama-ingest: Ollama's journal → typed events → Gantt-ready InfluxDB measurements."""

__version__ = "0.1.0"
