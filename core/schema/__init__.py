"""The JSON Schemas of govern's documents and their validators."""
