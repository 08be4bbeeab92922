"""Checks structured outputs against their JSON Schema with the `jsonschema` package.

Input: a JSON Lines file, one {"name", "schema", "text"} per line. Prints one line per failure
and exits 1 when any output does not parse or does not validate.
"""
import json
import sys

import jsonschema


def main(path: str) -> int:
    failures = 0
    count = 0
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            count += 1
            try:
                value = json.loads(record["text"])
                validator = jsonschema.Draft202012Validator(
                    record["schema"], format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
                validator.validate(value)
            except (json.JSONDecodeError, jsonschema.ValidationError) as error:
                failures += 1
                print(f"{record['name']}: {error.__class__.__name__}: {error}"
                      f" -- text {record['text']!r}")
    print(f"{count - failures}/{count} outputs valid")
    return 1 if failures or count == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
