"""Process plumbing every layer may use: the clock, interrupts, progress, job counts, parallel workers, fault injection."""
