"""Statistics over traces: each function on plain data, named `<method>_<data>`."""
