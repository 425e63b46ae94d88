"""Programs that run judges and generators over the engine: judging a finished run (`posthoc`: values of each
message; `arguments`: arguments, their values and specificity), the question explorer (`explorer`, scored by
`explorer_scoring`), and scenario generation and filtering (`scenario_generation`).

A judge's reply that cannot be parsed is recorded as unparsed, never raised.
"""
