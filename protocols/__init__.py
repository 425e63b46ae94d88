"""Protocol specs: the pydantic models, the YAML loader, bundled specs and prompt templates."""
