"""Code-editing prompts for the prompt-lookup workload of scripts/bench_peers.py.

Each asks Qwen2.5-Coder to rewrite a function that the prompt quotes whole, so most of the
answer can be copied from the prompt: the case prompt-lookup (n-gram) decoding is made for.
"""

EDITS = [
    ("Rename the variable `total` to `running_sum` and output the whole function.", "python", '''
def weighted_average(values, weights):
    """Average of values, each counted weights[i] times."""
    if len(values) != len(weights):
        raise ValueError("values and weights differ in length")
    total = 0.0
    weight_sum = 0.0
    for value, weight in zip(values, weights):
        total += value * weight
        weight_sum += weight
    if weight_sum == 0:
        raise ZeroDivisionError("weights sum to zero")
    return total / weight_sum
'''),
    ("Rename the function `parse_line` to `parse_record` everywhere and output the whole code.",
     "python", '''
import csv


def parse_line(line, separator=","):
    fields = next(csv.reader([line], delimiter=separator))
    return {"name": fields[0], "age": int(fields[1]), "city": fields[2]}


def load(path):
    records = []
    with open(path) as f:
        for number, line in enumerate(f, start=1):
            if not line.strip() or line.startswith("#"):
                continue
            try:
                records.append(parse_line(line))
            except (IndexError, ValueError) as error:
                raise ValueError(f"{path}:{number}: {error}") from None
    return records
'''),
    ("Add type hints to every parameter and return value; keep the code otherwise unchanged.",
     "python", '''
def merge_intervals(intervals):
    if not intervals:
        return []
    intervals = sorted(intervals, key=lambda pair: pair[0])
    merged = [list(intervals[0])]
    for start, end in intervals[1:]:
        last = merged[-1]
        if start <= last[1]:
            last[1] = max(last[1], end)
        else:
            merged.append([start, end])
    return [tuple(pair) for pair in merged]
'''),
    ("Rename `buf` to `buffer` and `len` to `length`, and output the whole function.", "c", '''
size_t copy_until(char *buf, size_t len, const char *src, char stop) {
    size_t i = 0;
    if (buf == NULL || len == 0) {
        return 0;
    }
    while (i + 1 < len && src[i] != '\\0' && src[i] != stop) {
        buf[i] = src[i];
        i++;
    }
    buf[i] = '\\0';
    return i;
}
'''),
    ("Replace every `var` with `let` or `const` as appropriate and output the whole code.",
     "javascript", '''
function groupBy(items, keyOf) {
  var groups = {};
  for (var i = 0; i < items.length; i++) {
    var key = keyOf(items[i]);
    if (!(key in groups)) {
      groups[key] = [];
    }
    groups[key].push(items[i]);
  }
  return groups;
}

function countBy(items, keyOf) {
  var groups = groupBy(items, keyOf);
  var counts = {};
  for (var key in groups) {
    counts[key] = groups[key].length;
  }
  return counts;
}
'''),
    ("Rename the class `Cache` to `LruCache` and output the whole code.", "python", '''
from collections import OrderedDict


class Cache:
    def __init__(self, capacity):
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self.entries = OrderedDict()

    def get(self, key, default=None):
        if key not in self.entries:
            return default
        self.entries.move_to_end(key)
        return self.entries[key]

    def put(self, key, value):
        self.entries[key] = value
        self.entries.move_to_end(key)
        if len(self.entries) > self.capacity:
            self.entries.popitem(last=False)
'''),
]


def chat_prompts() -> list[str]:
    """The edits as Qwen2.5 ChatML text, ready for the model's tokenizer."""
    return [
        "<|im_start|>system\nYou are a helpful coding assistant.<|im_end|>\n"
        f"<|im_start|>user\n{task}\n```{language}\n{code.strip()}\n```<|im_end|>\n"
        "<|im_start|>assistant\n"
        for task, language, code in EDITS
    ]
