"""The CDK app's library: the stack, its settings and one construct per concern."""
