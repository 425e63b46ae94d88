"""Output schemas: what a role answers (`output:` in a spec), how the answer is asked for, and how it is read back.

`schema` holds `OutputSchema` and the bundled named schemas; `values`, `likert` and `specificity`
the schemas of the judges that need more than a JSON Schema (a value list, a phrase scale, a
tree of claims).
"""
