"""Pure bytes <-> models: name rules, canonical JSON, JSONL, manifests, envelopes, delta records. No I/O."""
