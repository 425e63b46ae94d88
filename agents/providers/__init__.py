"""Model providers, one module each with its record (`moot.agents.providers.record`).

The embedded llama.cpp model, the hosted APIs on their SDKs, scripted, simulated and replayed replies.
"""
