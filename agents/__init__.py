"""Agents and models: the AutoGen agent of every role, the model registry, providers, the gateway (cache, limits, retries)."""
