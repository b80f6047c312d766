"""Regenerate the published JSON Schema of the policy file: ``python -m onestop.policy``."""

from onestop.policy._schema import write_schema

if __name__ == "__main__":
    write_schema()
