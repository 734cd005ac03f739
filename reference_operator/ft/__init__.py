"""Publishing to Fast Track: event shapes, the outbox, and the dispatcher."""
