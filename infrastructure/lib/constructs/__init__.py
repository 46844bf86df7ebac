"""One construct per concern; each takes its props as keyword arguments."""
