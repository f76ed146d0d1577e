"""Facts: what is known about each package.

`schema` is the documented list of facts (pure data, read by the rule engine);
`gather` asks the sources; `derive` turns their answers into `Facts`, one family of
facts at a time. This package's `__init__` imports nothing, so that reading the schema
never loads the network stack.
"""
