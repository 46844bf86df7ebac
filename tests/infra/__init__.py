"""Tests of the CDK app in infrastructure/."""
