"""The batch entrypoints: the drift check (`drift`), training (`train`) and the promotion copy (`promote`)."""
