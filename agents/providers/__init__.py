"""Model providers: the embedded llama.cpp model, hosted APIs through AutoGen's clients, and scripted replies for tests."""
